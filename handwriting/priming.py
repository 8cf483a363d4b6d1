"""What of a style's ink the synthesizer is primed with (Graves 2013, §5.5): its last words,
ending on a word of letters, with exactly their ink. `synthesis.sample_stream` primes with
`trim_style(style)`; `Synthesizer.style_from_ink` cuts where a forced alignment finds the
words."""

from __future__ import annotations

import re

import numpy as np

from handwriting.results import Style

# A prime longer than this (characters of text) is cut to its last words. A whole IAM line as
# prime puts the new text where lines end (40+ characters in) and its first word after
# another writer's last one: first words came out garbled (issue 14); see `trim_style`.
PRIME_MAX_CHARS = 16
# The prime ends on a word like this one: letters, the last lower case. After "when Mr." or
# "his executive's" the model began the new text as its training ink goes on after those (a
# capital: "|umps" for "jumps", "Hease" for "Please"; 6 of 24 lines of a06-110 on testset_v);
# primed on "protested when" 1 of 24 (issue 18).
WORD_END = re.compile(r"[A-Za-z]*[a-z]")


def trim_style(style: Style, max_chars: int = PRIME_MAX_CHARS,
               word_starts: dict[int, int] | None = None) -> Style:
    """`style` cut to its last words (at most `max_chars` characters of text, at least one
    word) and the ink of exactly those words, ending on a word of letters (`WORD_END`): the
    words after the last such word are dropped first, with their ink (`end_on_a_word`).

    `word_starts` {index of a word's first character in `style.text`: the stroke that starts
    it} says where the words begin in the ink, as a forced alignment found them
    (`alignment.ink_word_starts`); the cut is then made at the longest suffix of words within
    `max_chars` whose start is known. Without it, the ink is cut at word gaps found in the pen
    itself: the widest forward jumps between strokes, one fewer than the text has words (the
    attention window lags the pen by about a character, too much to cut by); this misleads for
    cursive writers, whose gaps inside words can be wider than between them. A style whose
    ink does not show one gap per word space is kept whole."""
    style, word_starts = end_on_a_word(style, word_starts)
    text = style.text.strip()
    if len(text) <= max_chars:
        return style
    off = style.offsets
    starts = _stroke_starts(off)
    if word_starts:
        lead = len(style.text) - len(style.text.lstrip())
        known = sorted((i - lead, s) for i, s in word_starts.items()
                       if 0 < s <= len(starts) and i > lead)
        fits = [(i, s) for i, s in known if len(text) - i <= max_chars]
        if fits:
            i, s = fits[0]
            return _cut(style, int(starts[s - 1]), text[i:])
    words = text.split()
    keep = 0
    while keep < len(words) and len(" ".join(words[len(words) - keep - 1:])) <= max_chars:
        keep += 1
    keep = max(keep, 1)
    gaps = _word_gaps(off, len(words))
    if keep >= len(words) or gaps is None:
        return style
    return _cut(style, int(gaps[len(words) - keep - 1]), " ".join(words[len(words) - keep:]))


def end_on_a_word(style: Style, word_starts: dict[int, int] | None = None
                  ) -> tuple[Style, dict[int, int] | None]:
    """`style` without the words after its last word of letters (`WORD_END`) and without
    their ink, and the `word_starts` of what is left. Kept as it is when its last word is
    one, when it has none, or when the ink does not say where the word after it begins
    (neither in `word_starts` nor as one pen gap per word space)."""
    spans = [m.span() for m in re.finditer(r"\S+", style.text)]
    last = max((j for j, (a, b) in enumerate(spans) if WORD_END.fullmatch(style.text[a:b])),
               default=None)
    if last is None or last == len(spans) - 1:
        return style, word_starts
    starts = _stroke_starts(style.offsets)
    if word_starts:
        stroke = word_starts.get(spans[last + 1][0], 0)
        end = int(starts[stroke - 1]) if 0 < stroke <= len(starts) else None
    else:
        gaps = _word_gaps(style.offsets, len(spans))
        end = int(gaps[last]) if gaps is not None else None
    if end is None:
        return style, word_starts
    kept = Style(style.name, style.offsets[:end].copy(), style.text[: spans[last][1]],
                 style.hand)
    if word_starts:
        word_starts = {i: s for i, s in word_starts.items() if i <= spans[last][0]}
    return kept, word_starts


def _stroke_starts(offsets: np.ndarray) -> np.ndarray:
    """The offset rows that begin a new stroke (the row before ends one)."""
    return np.flatnonzero(offsets[:-1, 2] > 0.5) + 1


def _word_gaps(offsets: np.ndarray, n_words: int) -> np.ndarray | None:
    """The rows where words 1 .. n_words - 1 begin, in order: the `n_words - 1` widest
    forward jumps to a new stroke; None when the ink has fewer strokes than that."""
    starts = _stroke_starts(offsets)
    if len(starts) < n_words - 1:
        return None
    return np.sort(starts[np.argsort(-offsets[starts, 0], kind="stable")[: n_words - 1]])


def _cut(style: Style, row: int, text: str) -> Style:
    """`style` from offset row `row` on (its first point placed without a jump), as `text`."""
    out = style.offsets[row:].copy()
    out[0, :2] = 0.0  # the first point of a line: no jump into it
    return Style(style.name, out, text, style.hand)
