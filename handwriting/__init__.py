"""Online handwriting recognition and synthesis: the few names a script or notebook needs.

    import handwriting
    ink = handwriting.read_ink("line.json")                  # or .inkml, .xml, .svg
    reader = handwriting.Recognizer.from_checkpoint()         # the shipped weights
    print(handwriting.read_page(reader, ink).text)            # every line of the page
    lines = handwriting.Synthesizer.from_checkpoint().write("hello world", seed=1)
    handwriting.write_ink(lines[0], "hello.svg")              # or .inkml, .json, .png

Every name loads its module on first use (PEP 562), so `import handwriting` imports neither
torch nor Qt: the app's process imports `handwriting.*` modules and must never load torch.
This is the one public face; inside the project each name is imported from its own module.
"""

from importlib import import_module as _import_module

# name -> the module that defines it
_HOMES = {
    "Ink": "handwriting.ink",
    "Stroke": "handwriting.ink",
    "read_ink": "handwriting.formats.registry",
    "write_ink": "handwriting.formats.registry",
    "InkFormatError": "handwriting.formats.errors",
    "read_page": "handwriting.pages",
    "Recognizer": "handwriting.service",
    "Synthesizer": "handwriting.service",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'handwriting' has no attribute {name!r}")
    value = getattr(_import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
