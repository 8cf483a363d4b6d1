"""The introspection panels as images for the CLI: cell-state and gate heatmaps, CTC
posteriors, ink coloured by saliency or by one unit, the synthesis attention window, the
next-point density and the end-of-stroke trace. numpy + Pillow + svgwrite only; the Qt panels
in `gui/insight` share the array helpers (colour ramps, unit order, value scaling). Import
each name from its module (`figures.arrays`, `.palette`, `.recognition`, ...)."""
