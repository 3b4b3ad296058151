"""The white screen flash when the burst starts (GUI thread).

Covers its parent, starts opaque white and fades out over a fraction of a second; it never takes
input. `flashes` counts the flashes shown (tests and the scripted demo read it).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

FADE_MS = 350
STEP_MS = 30


class FlashWidget(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.flashes = 0
        self.alpha = 0
        self._timer = QTimer(self, interval=STEP_MS)
        self._timer.timeout.connect(self._on_step)
        self.hide()

    def trigger(self) -> None:
        self.flashes += 1
        self.alpha = 255
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
        self._timer.start()
        self.update()

    def _on_step(self) -> None:
        self.alpha -= round(255 * STEP_MS / FADE_MS)
        if self.alpha <= 0:
            self.alpha = 0
            self._timer.stop()
            self.hide()
            return
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(255, 255, 255, max(0, self.alpha)))
        p.end()
