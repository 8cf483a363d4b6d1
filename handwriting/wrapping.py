"""Typed text -> the lines the synthesizer writes: paragraphs kept, each wrapped at word
boundaries into balanced lines (see `split_lines`)."""

from __future__ import annotations


def split_lines(text: str, max_chars: int = 40) -> list[str]:
    """Split text into lines at word boundaries (explicit newlines kept); a word longer
    than `max_chars` is cut. Each paragraph takes as many lines as filling them up to
    `max_chars` would, but balanced: filled up to the narrowest width that needs no more
    lines. Filling to `max_chars` left a one-word last line under most two-line phrases
    ("... takes years of" / "practice"): a line the synthesizer writes with no words around
    it, which read back worse, and the longest line sets how many steps a batch samples."""
    lines: list[str] = []
    for para in text.splitlines():
        words: list[str] = []
        for word in para.split():
            while len(word) > max_chars:
                words.append(word[:max_chars])
                word = word[max_chars:]
            words.append(word)
        if not words:
            continue
        count = len(_fill(words, max_chars))
        lo, hi = max(len(w) for w in words), max_chars  # hi always fits in `count` lines
        while lo < hi:
            mid = (lo + hi) // 2
            if len(_fill(words, mid)) <= count:
                hi = mid
            else:
                lo = mid + 1
        lines.extend(_fill(words, hi))
    return lines


def _fill(words: list[str], width: int) -> list[str]:
    """`words` (none wider than `width`) filled greedily into lines of at most `width`."""
    lines, cur = [], ""
    for word in words:
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    lines.append(cur)
    return lines
