"""`python -m gui`: the same as the `handwriting-app` command."""

from gui.app import main

raise SystemExit(main())
