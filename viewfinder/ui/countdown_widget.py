"""The 3-2-1 countdown before the burst, drawn over the live view (GUI thread).

MainWindow starts it on a shutter request when a countdown is set; `finished` fires when it
reaches zero (the window then presses the shutter), `cancel()` (Esc) stops it silently.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

DISC = QColor(0, 0, 0, 80)  # light: the people in the picture stay visible through it
NUMBER = QColor(255, 255, 255)
RING = QColor(255, 214, 10)


class CountdownWidget(QWidget):
    finished = Signal()  # reached zero: take the picture now
    ticked = Signal(int)  # seconds left (after each tick, and at the start)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.remaining = 0
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self._on_tick)
        self.hide()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self, seconds: int) -> None:
        self.remaining = max(1, int(seconds))
        self.show()
        self.raise_()
        self._timer.start()
        self.update()
        self.ticked.emit(self.remaining)

    def cancel(self) -> None:
        self._timer.stop()
        self.remaining = 0
        self.hide()

    def _on_tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.cancel()
            self.finished.emit()
            return
        self.update()
        self.ticked.emit(self.remaining)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.remaining <= 0:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        d = min(self.width(), self.height()) * 0.5
        disc = QRectF((self.width() - d) / 2, (self.height() - d) / 2, d, d)
        p.setPen(QPen(RING, max(4, d / 40)))
        p.setBrush(DISC)
        p.drawEllipse(disc)
        f = QFont(self.font())
        f.setPixelSize(max(24, round(d * 0.62)))
        f.setBold(True)
        p.setFont(f)
        # The number with a dark outline, readable over any scene.
        path = QPainterPath()
        fm = p.fontMetrics()
        text = str(self.remaining)
        x = disc.center().x() - fm.horizontalAdvance(text) / 2
        y = disc.center().y() + (fm.ascent() - fm.descent()) / 2
        path.addText(x, y, f, text)
        p.setPen(QPen(QColor(0, 0, 0, 200), max(3, d / 60)))
        p.setBrush(NUMBER)
        p.drawPath(path)
        p.end()
