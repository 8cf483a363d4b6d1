"""The introspection panels as images for the CLI: cell-state and gate heatmaps, CTC
posteriors, ink coloured by saliency or by one unit, the synthesis attention window, the
next-point density and the end-of-stroke trace. numpy + Pillow + svgwrite only; the Qt panels
in `gui/insight` share the array helpers (colour ramps, unit order, value scaling)."""

from handwriting.figures.arrays import (
    QUANTITIES,
    activity_order,
    class_label,
    covariance_ellipses,
    emitted_chars,
    ink_segments,
    lively_units,
    nice_step,
    robust_scale,
    single_unit,
    top_classes,
    unit_values,
)
from handwriting.figures.files import save_figure
from handwriting.figures.ink_colouring import (
    neuron_colors,
    neuron_figure,
    neuron_svg,
    point_values,
    saliency_colors,
    saliency_figure,
    saliency_svg,
)
from handwriting.figures.palette import (
    BLANK,
    CATEGORICAL,
    CURSOR,
    GRID,
    HALO,
    HEAT,
    INK_GREY,
    LUT_SIZE,
    MUTED,
    PURPLES,
    TEXT,
    class_color,
    diverging01,
    diverging_fast,
    sequential_rgb,
)
from handwriting.figures.plotting import (
    COLORBAR_WIDTH,
    FONT_SIZE,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    plot_width,
)
from handwriting.figures.recognition import (
    GATES,
    cell_state_figure,
    gate_figure,
    posterior_figure,
    posterior_lines,
)
from handwriting.figures.synthesis import attention_figure, eos_figure, mixture_figure
from handwriting.traces import diverging_rgb  # the panels take it from here too

__all__ = [
    "BLANK", "CATEGORICAL", "COLORBAR_WIDTH", "CURSOR", "FONT_SIZE", "GATES", "GRID", "HALO",
    "HEAT", "INK_GREY", "LUT_SIZE", "MARGIN_LEFT", "MARGIN_RIGHT", "MUTED", "PURPLES",
    "QUANTITIES", "TEXT", "activity_order", "attention_figure", "cell_state_figure",
    "class_color", "class_label", "covariance_ellipses", "diverging01", "diverging_fast",
    "diverging_rgb", "emitted_chars", "eos_figure", "gate_figure", "ink_segments",
    "lively_units", "mixture_figure", "neuron_colors", "neuron_figure", "neuron_svg",
    "nice_step", "plot_width", "point_values", "posterior_figure", "posterior_lines",
    "robust_scale", "saliency_colors", "saliency_figure", "saliency_svg", "save_figure",
    "sequential_rgb", "single_unit", "top_classes", "unit_values",
]
