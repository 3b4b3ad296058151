"""Source picker (GUI thread): cameras found, the synthetic scene, a video file, an image folder.

A tool button with a menu; `source_chosen` carries an `open_source` spec. Camera probing
(device I/O) happens off the GUI thread; MainWindow passes the result to `set_cameras`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget


class SourcePickerButton(QToolButton):
    source_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cameras: list[int] = []
        self.setText("Source ▾")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self)
        self._menu.aboutToShow.connect(self._fill)
        self.setMenu(self._menu)
        self._fill()

    def set_cameras(self, cameras: list[int]) -> None:
        self.cameras = list(cameras)
        self._fill()

    def set_current(self, name: str) -> None:
        short = self.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, 200)
        self.setText(f"{short} ▾")
        self.setToolTip(f"Source: {name}")

    def _fill(self) -> None:
        m = self._menu
        m.clear()
        for i in self.cameras:
            m.addAction(f"Camera {i}", lambda i=i: self.source_chosen.emit(str(i)))
        if not self.cameras:
            m.addAction("No camera found").setEnabled(False)
        m.addSeparator()
        m.addAction("Synthetic scene", lambda: self.source_chosen.emit("synthetic"))
        m.addAction("Open video file…", self._open_file)
        m.addAction("Open image folder…", self._open_folder)

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open video file", "", "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;All files (*)")
        if path:
            self.source_chosen.emit(path)

    def _open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open image folder")
        if path:
            self.source_chosen.emit(path)
