"""Pick a reader or writer by file extension."""

from __future__ import annotations

from pathlib import Path

from handwriting.formats.errors import InkFormatError
from handwriting.formats.fileio import read_bytes
from handwriting.ink import Ink

READ_TYPES = (".xml", ".inkml", ".json", ".svg")
WRITE_TYPES = (".inkml", ".json", ".svg", ".png")


def read_ink(path: str | Path) -> Ink:
    """Read IAM-OnDB or InkML (.xml, told apart by the root tag), InkML (.inkml),
    JSON ink (.json) or an SVG written by `write_svg` (.svg)."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in READ_TYPES:
        raise InkFormatError(path, f"unsupported ink file type {ext or '(none)'!r}; "
                                   f"readable: {', '.join(READ_TYPES)}")
    data = read_bytes(path)
    if ext == ".xml":
        from handwriting.formats.iam_ondb import parse_iam_xml
        from handwriting.formats.inkml import ink_from_inkml_root
        from handwriting.formats.xmlsafe import local_name, parse_xml

        root = parse_xml(data, path)
        if local_name(root.tag) == "ink":
            return ink_from_inkml_root(root, path)
        return parse_iam_xml(data, path)
    if ext == ".inkml":
        from handwriting.formats.inkml import parse_inkml

        return parse_inkml(data, path)
    if ext == ".json":
        from handwriting.formats.jsonink import parse_json_ink

        return parse_json_ink(data, path)
    from handwriting.formats.svg import parse_svg_ink

    return parse_svg_ink(data, path)


def write_ink(ink: Ink, path: str | Path, **options) -> None:
    """Write InkML (.inkml), JSON ink (.json), SVG (.svg) or PNG (.png); `options` go to the
    writer (e.g. `stroke_width` for SVG and PNG). I/O failures raise `OSError`."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".inkml":
        from handwriting.formats.inkml import write_inkml

        write_inkml(ink, path, **options)
    elif ext == ".json":
        from handwriting.formats.jsonink import write_json_ink

        write_json_ink(ink, path, **options)
    elif ext == ".svg":
        from handwriting.formats.svg import write_svg

        write_svg(ink, path, **options)
    elif ext == ".png":
        from handwriting.formats.png import write_png

        write_png(ink, path, **options)
    else:
        raise InkFormatError(path, f"unsupported output type {ext or '(none)'!r}; "
                                   f"writable: {', '.join(WRITE_TYPES)}")
