"""The phrase lists synthesis is measured with (`handwriting evaluate legibility|style`,
`evaluate pages --synthesized`): shipped as text files, one phrase a line, `#` comments."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).parent / "resources"
# `--phrases NAME` for a shipped list, or a file
PHRASE_LISTS = {"shipped": RESOURCES / "legibility_phrases.txt",
                "digits": RESOURCES / "legibility_phrases_digits.txt",
                # held out: for checking a choice made on "digits"
                "digits-check": RESOURCES / "legibility_phrases_digits_check.txt"}


def read_phrases(path: Path | None = None) -> list[str]:
    path = path or PHRASE_LISTS["shipped"]
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
