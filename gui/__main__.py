"""`python -m gui`: the same as the `handwriting-app` command."""

from gui.app import main

if __name__ == "__main__":  # not when a model's child process imports this module
    raise SystemExit(main())
