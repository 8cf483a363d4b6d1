"""The edits of a document's committed ink, as undoable commands, and the events they
report (`InkDocument` runs them and keeps the undo history)."""

from __future__ import annotations

from dataclasses import dataclass

from handwriting.ink import Ink, Stroke

# Every event kind an observer can receive. "changed" follows every change of the committed
# ink (after the specific event), so an observer that only needs "redraw / re-recognize"
# can listen for that one alone; the pending-stroke events never touch the committed ink.
EVENTS = (
    "stroke_started",  # a pending stroke began (index: the index it will get)
    "point_added",  # the pending stroke got a point
    "stroke_cancelled",  # the pending stroke was dropped
    "stroke_added",  # a stroke was inserted at `index`
    "stroke_removed",  # the stroke at `index` was removed
    "cleared",  # all strokes were removed
    "replaced",  # the whole ink was replaced (open file, undo of clear, ...)
    "changed",  # the committed ink changed, for whatever reason
    "preview_changed",  # the uncommitted preview ink (typed text being written) changed
    "transcript_changed",  # new recognized text, or another candidate chosen
)
# Events that leave the committed ink alone, so no "changed" follows them.
SIDE_EVENTS = ("stroke_started", "point_added", "stroke_cancelled", "preview_changed",
                "transcript_changed")


@dataclass(frozen=True)
class DocumentEvent:
    """What happened: `kind` is one of `EVENTS`; `index` names the stroke, where one is."""

    kind: str
    index: int | None = None





# Each command maps the committed ink forward (`apply`) and back (`revert`) and says which
# event that was, so undo and redo report stroke-level events just like the first time.


@dataclass(frozen=True)
class AddStroke:
    index: int
    stroke: Stroke
    label: str = "Add Stroke"

    def apply(self, ink: Ink) -> tuple[Ink, DocumentEvent]:
        s = ink.strokes
        return (ink.with_strokes(s[: self.index] + (self.stroke,) + s[self.index:]),
                DocumentEvent("stroke_added", self.index))

    def revert(self, ink: Ink) -> tuple[Ink, DocumentEvent]:
        s = ink.strokes
        return (ink.with_strokes(s[: self.index] + s[self.index + 1:]),
                DocumentEvent("stroke_removed", self.index))


@dataclass(frozen=True)
class EraseStroke(AddStroke):
    """Erasing a stroke is adding it, run backwards."""

    label: str = "Erase Stroke"
    apply = AddStroke.revert
    revert = AddStroke.apply


@dataclass(frozen=True)
class ReplaceInk:
    before: Ink
    after: Ink
    label: str = "Replace Ink"

    def apply(self, ink: Ink) -> tuple[Ink, DocumentEvent]:
        return self.after, DocumentEvent("cleared" if self.after.is_empty else "replaced")

    def revert(self, ink: Ink) -> tuple[Ink, DocumentEvent]:
        return self.before, DocumentEvent("cleared" if self.before.is_empty else "replaced")
