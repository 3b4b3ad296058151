"""The wall of this session's kept photos, newest first (GUI thread).

MainWindow adds each saved photo (a replaced choice takes the place of the photo it replaced)
and shows the wall on `W` or a click on the corner thumbnail; `Delete` clears it. Clearing
only empties the wall: the photos stay on disk.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QWidget

BG = QColor(15, 15, 15)
TEXT = QColor(255, 255, 255)
DIM = QColor(190, 190, 190)
ACCENT = QColor(255, 214, 10)


@dataclass(frozen=True, eq=False)
class KeptPhoto:
    path: Path
    image: QImage  # a preview-sized copy, never the full frame
    score: float | None


class PhotoWallWidget(QWidget):
    def __init__(self, capacity: int = 12, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self.photos: list[KeptPhoto] = []  # newest first

    def set_capacity(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        del self.photos[self.capacity:]
        self.update()

    def add(self, photo: KeptPhoto, replaces: Path | None = None) -> None:
        """Put a kept photo on the wall; one that replaces an earlier choice takes its place."""
        for i, old in enumerate(self.photos):
            if replaces is not None and old.path == replaces:
                self.photos[i] = photo
                break
        else:
            self.photos.insert(0, photo)
            del self.photos[self.capacity:]
        self.update()

    def clear(self) -> None:
        self.photos.clear()
        self.update()

    def _grid(self, n: int, area: QRectF, aspect: float) -> tuple[int, float]:
        """(columns, cell width) making the cells as large as the area allows."""
        best = (1, 0.0)
        for cols in range(1, n + 1):
            rows = -(-n // cols)
            w = min(area.width() / cols, area.height() / rows * aspect)
            if w > best[1]:
                best = (cols, w)
        return best

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        px = max(16, min(40, self.height() // 22))
        f = QFont(self.font())
        f.setPixelSize(px)
        f.setBold(True)
        p.setFont(f)
        p.setPen(TEXT)
        head = QRectF(0, 0, self.width(), px * 2.2)
        n = len(self.photos)
        title = f"Kept this session: {n} photo{'s' if n != 1 else ''}" if n else \
            "No photos kept yet — press Space in the live view"
        p.drawText(head, Qt.AlignmentFlag.AlignCenter,
                   f"{title}      Del: clear the wall · Esc: back to live")
        if not n:
            p.end()
            return
        area = QRectF(px, head.bottom(), self.width() - 2 * px, self.height() - head.bottom() - px)
        img0 = self.photos[0].image
        aspect = img0.width() / max(1, img0.height())
        cols, cell_w = self._grid(n, area, aspect)
        cell_h = cell_w / aspect
        rows = -(-n // cols)
        x0 = area.x() + (area.width() - cols * cell_w) / 2
        y0 = area.y() + (area.height() - rows * cell_h) / 2
        f.setPixelSize(max(12, round(px * 0.7)))
        p.setFont(f)
        gap = max(4.0, cell_w * 0.02)
        for i, photo in enumerate(self.photos):
            r = QRectF(x0 + (i % cols) * cell_w + gap, y0 + (i // cols) * cell_h + gap,
                       cell_w - 2 * gap, cell_h - 2 * gap)
            img = photo.image
            s = min(r.width() / max(1, img.width()), r.height() / max(1, img.height()))
            tw, th = img.width() * s, img.height() * s
            target = QRectF(r.x() + (r.width() - tw) / 2, r.y() + (r.height() - th) / 2, tw, th)
            p.drawImage(target, img)
            if photo.score is not None:
                tag = QRectF(target.x(), target.bottom() - px * 1.1, target.width(), px * 1.1)
                p.fillRect(tag, QColor(0, 0, 0, 150))
                p.setPen(ACCENT if i == 0 else DIM)
                p.drawText(tag, Qt.AlignmentFlag.AlignCenter,
                           f"{'newest · ' if i == 0 else ''}score {photo.score:.2f}")
        p.end()
