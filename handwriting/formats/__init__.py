"""Readers and writers for ink files: IAM-OnDB XML, W3C InkML, JSON ink, SVG and PNG.

`read_ink(path)` picks a reader by extension (and sniffing for XML); every reader
raises `InkFormatError` naming the file and the problem.
"""

from handwriting.formats.errors import InkFormatError
from handwriting.formats.registry import read_ink, write_ink

__all__ = ["InkFormatError", "read_ink", "write_ink"]
