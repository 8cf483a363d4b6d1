"""Synthesizer figures: the attention window over the text, the end-of-stroke probability
and the next-point mixture density around the pen tip."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from handwriting.figures.arrays import covariance_ellipses
from handwriting.figures.palette import sequential_rgb
from handwriting.figures.plotting import _heatmap, _line_plot, _text
from handwriting.traces import PointMixture, mixture_density_grid


def attention_figure(phi, text: str, text_offset: int = 0, frame: int | None = None
                     ) -> Image.Image:
    """The soft window phi (T, U + 1) as characters x time (Graves 2013, fig. 13), each step
    scaled to its own maximum so the window's shape shows as it widens; the most attended
    character of each step traced in red."""
    phi = np.asarray(phi, np.float64)[:, text_offset:]  # the line's own characters + end slot
    T, U1 = phi.shape
    rows = ["\u00b7" if c == " " else c for c in text][: U1 - 1] + ["end"]
    rows += [""] * (U1 - len(rows))
    rgb = sequential_rgb((phi / np.maximum(phi.max(1, keepdims=True), 1e-9)).T)
    row_px = int(np.clip(420 // max(U1, 1), 6, 14))
    return _heatmap(rgb, title="attention window phi over the text (each step scaled to its "
                    "max; red: most attended)", row_label="character",
                    col_label="step (one pen point each)", row_ticks=list(enumerate(rows)),
                    frame=frame, row_px=row_px,
                    colorbar=(sequential_rgb, ["max", "", "0"], "phi"),
                    path=phi.argmax(1) if T else None)


def eos_figure(eos, pen_up=None, frame: int | None = None) -> Image.Image:
    """End-of-stroke probability over sampling steps; ticks where the pen was lifted."""
    eos = np.asarray(eos, np.float64)
    marks = [] if pen_up is None else [(int(t), (240, 59, 32))
                                       for t in np.flatnonzero(np.asarray(pen_up) > 0.5)]
    return _line_plot([(eos, (63, 0, 125), 2)], title="end-of-stroke probability "
                      "(red ticks: pen lifted)", y_label="p(eos)", n=len(eos), frame=frame,
                      marks=marks, height=120)


def mixture_figure(mix: PointMixture, recent, tip, extent: float = 0.6,
                   sampled=None, size: int = 320, grid: int = 64) -> Image.Image:
    """The next-point distribution around the pen tip (Graves 2013, eq. 23-25): its density
    (white to purple), each component's one-sigma ellipse (darker = heavier weight), the
    recent ink (N, 2) in grey and, if given, the point actually sampled."""
    tip = np.asarray(tip, np.float64).reshape(2)
    dens = mixture_density_grid(mix, tip, extent, grid)  # (grid, grid), rows = y
    top = 22
    img = Image.new("RGB", (size, size + top), "white")
    heat = sequential_rgb((dens / max(float(dens.max()), 1e-12)) ** 0.35)  # tails visible
    img.paste(Image.fromarray(heat).resize((size, size), Image.Resampling.BILINEAR), (0, top))
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(over)
    s = size / (2 * extent)

    def to_px(p):
        p = (np.asarray(p, np.float64) - tip + extent) * s
        return p[..., 0], p[..., 1] + top

    recent = np.asarray(recent, np.float64).reshape(-1, 2)
    if len(recent) > 1:
        x, y = to_px(recent)
        draw.line(list(zip(x.tolist(), y.tolist(), strict=True)), fill=(40, 44, 52, 200),
                  width=2)
    pi = np.exp(np.asarray(mix.log_pi, np.float64))
    for (a, b, ang), mu, w in zip(covariance_ellipses(mix.sigma, mix.rho), mix.mu, pi,
                                  strict=True):
        if w < 0.01:
            continue
        t = np.linspace(0, 2 * np.pi, 33)
        ex = a * np.cos(t) * np.cos(ang) - b * np.sin(t) * np.sin(ang) + mu[0] + tip[0]
        ey = a * np.cos(t) * np.sin(ang) + b * np.sin(t) * np.cos(ang) + mu[1] + tip[1]
        x, y = to_px(np.stack([ex, ey], 1))
        draw.line(list(zip(x.tolist(), y.tolist(), strict=True)),
                  fill=(31, 119, 180, int(60 + 195 * min(1.0, w * 2))), width=1)
    cx, cy = to_px(tip)
    draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(40, 44, 52, 255))
    if sampled is not None:
        x, y = to_px(sampled)
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=(240, 59, 32, 255), width=2)
    img.paste(over, (0, 0), over)
    d = ImageDraw.Draw(img)
    _text(d, (6, 5), f"next point: {len(pi)} Gaussians, p(eos) = {mix.eos:.2f}"
                     + (", red ring: sampled" if sampled is not None else ""))
    return img
