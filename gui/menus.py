"""The main window's actions, menus and toolbar: `build(window)` makes them (the `*_action`
attributes, the menu bar, the toolbar) and connects them to the slots of the window and of
its `files` (`gui.files.DocumentFiles`)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from gui.files import EXPORT_FORMATS


def _action(w, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, w)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    w.addAction(action)  # shortcuts work even while the menu bar is hidden
    return action

def _build_actions(w) -> None:
    key = QKeySequence.StandardKey
    w.new_action = _action(w, "&New", w.files.on_new, key.New,
                                   "Start a new, empty document")
    w.open_action = _action(w, "&Open…", w.files.on_open, key.Open,
                                    "Open an ink file (IAM-OnDB XML, InkML, JSON, SVG)")
    w.save_action = _action(w, "&Save", w.files.on_save, "Ctrl+S", "Save the ink")
    w.save_as_action = _action(w, "Save &As…", w.files.on_save_as, "Ctrl+Shift+S",
                                       "Save the ink as JSON, InkML or SVG")
    w.export_action = _action(w, "&Export…", w.files.on_export, "Ctrl+Shift+E",
                                      "Export the ink as SVG, PNG, InkML or JSON")
    w.export_actions = {
        ext: _action(w, text, partial(w.files.on_export_dialog, ext),
                          tip=f"Export the ink as {ext[1:].upper()}")
        for ext, (text, _) in EXPORT_FORMATS.items()
    }
    w.prefs_action = _action(w, "&Preferences…", w.files.on_preferences, key.Preferences)
    w.samples_action = _action(w, "Handwriting &Samples…", w.on_samples,
                                       tip="Write prompt sentences and store them as your samples")
    w.quit_action = _action(w, "&Quit", w.close, key.Quit, "Quit the application")
    w.undo_action = _action(w, "&Undo", w.on_undo, "Ctrl+Z", "Undo the last edit")
    w.redo_action = _action(w, "&Redo", w.on_redo, "Ctrl+Shift+Z",
                                    "Redo the last undone edit")
    # Toolbar buttons keep short fixed labels while the menu texts name the command.
    w.undo_action.setIconText("Undo")
    w.redo_action.setIconText("Redo")
    w.export_action.setIconText("Export")
    w.clear_action = _action(w, "C&lear", w.on_clear, tip="Remove all strokes")
    w.zoom_in_action = _action(w, "Zoom &In", w.canvas.on_zoom_in, key.ZoomIn)
    w.zoom_out_action = _action(w, "Zoom &Out", w.canvas.on_zoom_out, key.ZoomOut)
    w.fit_action = _action(w, "&Fit Ink", w.canvas.on_fit, "Ctrl+0",
                                   "Scale the view so all ink fits")
    w.actual_size_action = _action(w, "&Actual Size", w.canvas.on_actual_size,
                                           "Ctrl+1", "One ink unit per pixel")
    w.color_action = _action(w, "&Colour Ink by Character", w.on_color_by_char,
                                     "Ctrl+K", "Colour each recognized character's ink")
    w.color_action.setCheckable(True)
    w.write_action = _action(w, "&Write Typed Text", w.on_write, "Ctrl+Return")
    w.stop_action = _action(w, "&Stop Writing", w.on_stop, "Esc")
    w.about_action = _action(w, "&About Handwriting", w.on_about)
    # Stands in for the insight dock's own toggle action until the dock exists.
    w.insight_action = _action(w, "&Inside the Networks", w.on_show_insight,
                                       tip="Cells, gates, attention: what the models do")
    w.insight_action.setCheckable(True)

def _build_menus(w) -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(w.new_action)
    file_menu.addAction(w.open_action)
    w.recent_menu = file_menu.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(w.files.on_fill_recent)
    file_menu.addAction(w.save_action)
    file_menu.addAction(w.save_as_action)
    file_menu.addAction(w.export_action)
    export_menu = file_menu.addMenu("Export &As")
    for action in w.export_actions.values():
        export_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(w.samples_action)
    file_menu.addAction(w.prefs_action)
    file_menu.addSeparator()
    file_menu.addAction(w.quit_action)

    edit_menu = bar.addMenu("&Edit")
    for action in (w.undo_action, w.redo_action, None, w.clear_action,
                   None, w.write_action, w.stop_action):
        edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

    w.view_menu = view_menu = bar.addMenu("&View")
    for action in (w.zoom_in_action, w.zoom_out_action, w.fit_action,
                   w.actual_size_action, None, w.color_action, None,
                   w.recognized_dock.toggleViewAction(),
                   w.write_dock.toggleViewAction(), w.insight_action):
        view_menu.addSeparator() if action is None else view_menu.addAction(action)
    bar.addMenu("&Help").addAction(w.about_action)

def _build_toolbar(w) -> None:
    toolbar = w.addToolBar("Main")
    toolbar.setObjectName("mainToolBar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for action in (w.open_action, w.save_action, w.export_action, None,
                   w.undo_action, w.redo_action, w.clear_action, None,
                   w.fit_action, w.color_action):
        toolbar.addSeparator() if action is None else toolbar.addAction(action)


def build(w) -> None:
    """The actions, menus and toolbar of `w`, a `MainWindow` whose docks and `files` exist."""
    _build_actions(w)
    _build_menus(w)
    _build_toolbar(w)
