"""The main window's actions, menus and toolbar (a mixin of `MainWindow`, which owns the
slots they trigger)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from gui.files import EXPORT_FORMATS


class WindowMenus:
    """Builds `MainWindow`'s actions (`*_action` attributes), its menu bar and toolbar."""

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.new_action = self._action("&New", self.on_new, key.New,
                                       "Start a new, empty document")
        self.open_action = self._action("&Open…", self.on_open, key.Open,
                                        "Open an ink file (IAM-OnDB XML, InkML, JSON, SVG)")
        self.save_action = self._action("&Save", self.on_save, "Ctrl+S", "Save the ink")
        self.save_as_action = self._action("Save &As…", self.on_save_as, "Ctrl+Shift+S",
                                           "Save the ink as JSON, InkML or SVG")
        self.export_action = self._action("&Export…", self.on_export, "Ctrl+Shift+E",
                                          "Export the ink as SVG, PNG, InkML or JSON")
        self.export_actions = {
            ext: self._action(text, partial(self.on_export_dialog, ext),
                              tip=f"Export the ink as {ext[1:].upper()}")
            for ext, (text, _) in EXPORT_FORMATS.items()
        }
        self.prefs_action = self._action("&Preferences…", self.on_preferences, key.Preferences)
        self.samples_action = self._action("Handwriting &Samples…", self.on_samples,
                                           tip="Write prompt sentences and store them as your samples")
        self.quit_action = self._action("&Quit", self.close, key.Quit, "Quit the application")
        self.undo_action = self._action("&Undo", self.on_undo, "Ctrl+Z", "Undo the last edit")
        self.redo_action = self._action("&Redo", self.on_redo, "Ctrl+Shift+Z",
                                        "Redo the last undone edit")
        # Toolbar buttons keep short fixed labels while the menu texts name the command.
        self.undo_action.setIconText("Undo")
        self.redo_action.setIconText("Redo")
        self.export_action.setIconText("Export")
        self.clear_action = self._action("C&lear", self.on_clear, tip="Remove all strokes")
        self.zoom_in_action = self._action("Zoom &In", self.canvas.on_zoom_in, key.ZoomIn)
        self.zoom_out_action = self._action("Zoom &Out", self.canvas.on_zoom_out, key.ZoomOut)
        self.fit_action = self._action("&Fit Ink", self.canvas.on_fit, "Ctrl+0",
                                       "Scale the view so all ink fits")
        self.actual_size_action = self._action("&Actual Size", self.canvas.on_actual_size,
                                               "Ctrl+1", "One ink unit per pixel")
        self.color_action = self._action("&Colour Ink by Character", self.on_color_by_char,
                                         "Ctrl+K", "Colour each recognized character's ink")
        self.color_action.setCheckable(True)
        self.write_action = self._action("&Write Typed Text", self.on_write, "Ctrl+Return")
        self.stop_action = self._action("&Stop Writing", self.on_stop, "Esc")
        self.about_action = self._action("&About Handwriting", self.on_about)
        # Stands in for the insight dock's own toggle action until the dock exists.
        self.insight_action = self._action("&Inside the Networks", self.on_show_insight,
                                           tip="Cells, gates, attention: what the models do")
        self.insight_action.setCheckable(True)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self.on_fill_recent)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.export_action)
        export_menu = file_menu.addMenu("Export &As")
        for action in self.export_actions.values():
            export_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.samples_action)
        file_menu.addAction(self.prefs_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, None, self.clear_action,
                       None, self.write_action, self.stop_action):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

        self.view_menu = view_menu = bar.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.actual_size_action, None, self.color_action, None,
                       self.recognized_dock.toggleViewAction(),
                       self.write_dock.toggleViewAction(), self.insight_action):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)
        bar.addMenu("&Help").addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolBar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.open_action, self.save_action, self.export_action, None,
                       self.undo_action, self.redo_action, self.clear_action, None,
                       self.fit_action, self.color_action):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
