"""Hostile input for every reader: each must raise `InkFormatError` naming the file, never
expand entities, fetch external ones, or leak another exception type."""

from __future__ import annotations

import pytest

from handwriting.formats import InkFormatError, read_ink
from handwriting.formats.iam_ondb import read_iam_xml
from handwriting.formats.inkml import read_inkml
from handwriting.formats.jsonink import read_json_ink
from handwriting.formats.svg import read_svg_ink

READERS = {  # extension -> (direct reader, document root used to wrap payloads)
    ".xml": (read_iam_xml, "StrokeSet"),
    ".inkml": (read_inkml, 'ink xmlns="http://www.w3.org/2003/InkML"'),
    ".json": (read_json_ink, None),
    ".svg": (read_svg_ink, 'svg xmlns="http://www.w3.org/2000/svg"'),
}

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<{root}><title>&lol9;</title></{tag}>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<{root}><title>&x;</title></{tag}>"""

NAN_COORDINATES = {
    ".xml": '<StrokeSet><Stroke><Point x="nan" y="1" time="0"/></Stroke></StrokeSet>',
    ".inkml": '<ink xmlns="http://www.w3.org/2003/InkML"><trace>NaN NaN, 1 2</trace></ink>',
    ".json": '{"format": "handwriting-ink", "version": 1, '
             '"strokes": [{"x": [NaN], "y": [0], "t": [0]}]}',
    ".svg": '<svg xmlns="http://www.w3.org/2000/svg"><path d="M NaN,NaN L 1,2"/></svg>',
}


def _payload(kind: str, ext: str) -> bytes:
    root = READERS[ext][1] or "svg"
    tag = root.split()[0]
    return {
        "empty": b"",
        "whitespace": b" \n\t ",
        "truncated xml": f"<{root}><title>a</title><path d='M 0 0".encode(),
        "binary garbage": bytes(range(256)) * 8,
        "binary without nul": b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)) * 8,
        "billion laughs": BILLION_LAUGHS.format(root=root, tag=tag).encode(),
        "external entity": EXTERNAL_ENTITY.format(root=root, tag=tag).encode(),
        "nan coordinates": NAN_COORDINATES[ext].encode(),
        "json wrong types": b'{"format": "handwriting-ink", "version": 1, '
                            b'"strokes": [{"x": "12", "y": [true], "t": {}}]}',
        "json list": b"[1, 2, 3]",
        "deep json": b"[" * 100_000 + b"]" * 100_000,
        "truncated json": b'{"format": "handwriting-ink", "version": 1, "strokes": [{"x": [1,',
        "utf-16 junk": "\ufeff<<<>>>".encode("utf-16"),
    }[kind]


KINDS = ["empty", "whitespace", "truncated xml", "binary garbage", "binary without nul",
         "billion laughs", "external entity", "nan coordinates", "json wrong types",
         "json list", "deep json", "truncated json", "utf-16 junk"]


@pytest.mark.parametrize("ext", list(READERS))
@pytest.mark.parametrize("kind", KINDS)
def test_read_ink_refuses_with_the_file_name(tmp_path, ext, kind):
    path = tmp_path / f"hostile {kind.replace(' ', '-')}{ext}"
    path.write_bytes(_payload(kind, ext))
    with pytest.raises(InkFormatError) as err:
        read_ink(path)
    assert path.name in str(err.value)
    assert err.value.path == str(path)


@pytest.mark.parametrize("ext", list(READERS))
@pytest.mark.parametrize("kind", ["billion laughs", "external entity", "nan coordinates"])
def test_direct_readers_refuse_too(tmp_path, ext, kind):
    path = tmp_path / f"direct{ext}"
    path.write_bytes(_payload(kind, ext))
    with pytest.raises(InkFormatError, match="direct"):
        READERS[ext][0](path)


@pytest.mark.parametrize("ext", [".xml", ".inkml", ".svg"])
def test_entities_are_refused_not_expanded(tmp_path, ext):
    path = tmp_path / f"ent{ext}"
    path.write_bytes(_payload("external entity", ext))
    with pytest.raises(InkFormatError, match="unsafe XML refused") as err:
        read_ink(path)
    assert "root:" not in str(err.value)  # nothing of /etc/passwd leaks into the message
