"""The PySide6 desktop app: views over the `handwriting` core (canvas, panels, main window)."""
