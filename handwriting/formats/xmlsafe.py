"""Parse untrusted XML with defusedxml (no entity expansion, no external entities, no DTDs)."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from handwriting.formats.errors import InkFormatError

MAX_XML_BYTES = 64 * 1024 * 1024  # a line of ink is ~100 kB; refuse absurd files early


def parse_xml(data: bytes, source) -> Element:
    """Root element of `data`; raises `InkFormatError` naming `source` on any problem."""
    if not data.strip():
        raise InkFormatError(source, "file is empty")
    if len(data) > MAX_XML_BYTES:
        raise InkFormatError(source, f"file is too large ({len(data)} bytes)")
    if b"\x00" in data[:4096]:
        raise InkFormatError(source, "file is binary, not XML")
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InkFormatError(source, f"unsafe XML refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise InkFormatError(source, f"malformed XML: {exc}") from None
    except LookupError as exc:  # <?xml encoding="..."?> naming no known encoding
        raise InkFormatError(source, f"malformed XML: {exc}") from None
    except (UnicodeError, ValueError) as exc:
        raise InkFormatError(source, f"malformed XML: {type(exc).__name__}: {exc}") from None


def local_name(tag: str) -> str:
    """Tag without its `{namespace}` prefix."""
    return tag.rsplit("}", 1)[-1]
