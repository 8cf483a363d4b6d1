"""`python -m handwriting ...` runs the CLI (also what `torchrun -m handwriting` uses)."""

from handwriting.cli import main

raise SystemExit(main())
