"""Where typed text goes on the page: below the existing ink, at its left edge and writing
height. (Grouping strokes into lines and the writing height are pure ink geometry:
`handwriting.grouping.group_lines` and `writing_height`.)"""

from __future__ import annotations

from dataclasses import dataclass

from handwriting.grouping import writing_height
from handwriting.ink import Ink

LINE_PITCH = 2.4  # distance between synthesized lines, in writing heights (5-95 % y-range)


@dataclass(frozen=True)
class Placement:
    """Where synthesized lines go in scene units: line k starts at (`x0`, `y0 + k * pitch`)
    and one writing height is `height` scene units."""

    x0: float
    y0: float
    height: float
    pitch: float


def place_below(ink: Ink, default_height: float, left: float, top: float,
                ink_height: float | None = None) -> Placement:
    """Typed lines go under the existing ink, at its left edge and writing height; on an
    empty page at (`left`, `top`) with `default_height` (scene units). `ink_height` is the
    ink's `writing_height` where it was measured already."""
    if ink_height is None and not ink.is_empty:
        ink_height = writing_height(ink)
    h = ink_height or default_height
    if ink.is_empty:
        return Placement(left, top + 1.2 * h, h, LINE_PITCH * h)
    x0, _, _, y1 = ink.bounds()
    return Placement(x0, y1 + 1.6 * h, h, LINE_PITCH * h)
