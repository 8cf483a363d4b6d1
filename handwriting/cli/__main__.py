"""`python -m handwriting.cli ...`, the same as `handwriting ...`."""

from handwriting.cli import main

raise SystemExit(main())
