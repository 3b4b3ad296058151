"""Paints one QImage aspect-fit on black (GUI thread): the live view and the review's large frame.

An image already at its painted size (the capture thread makes the live preview at `box_size`,
told by `box_changed`) is copied as is; only other sizes are rescaled while painting, which
at 60 frames/s took 14 % of the GUI thread.

An optional caption is painted in a band over the image's top edge (the demo result screen's
"what we kept" / "what you would have got"), sized from the widget so it reads on a projector.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class PreviewWidget(QWidget):
    box_changed = Signal(int, int)  # the widget's new size in device pixels (w, h)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.caption = ""
        self.caption_color = QColor(0, 0, 0, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(960, 540)

    def box_size(self) -> tuple[int, int]:
        """The widget's size in device pixels: an image fitted into it is painted unscaled."""
        dpr = self.devicePixelRatioF()
        return max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.box_changed.emit(*self.box_size())

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def set_caption(self, text: str, color: QColor | None = None) -> None:
        self.caption = text
        if color is not None:
            self.caption_color = color
        self.update()

    def image_rect(self) -> QRectF:
        """Where the image is painted (aspect-fit, centred)."""
        if self.image is None or self.image.isNull():
            return QRectF(self.rect())
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        if self.image is not None and not self.image.isNull():
            r = self.image_rect()
            if self.devicePixelRatioF() == 1.0 and abs(r.width() - self.image.width()) < 1 \
                    and abs(r.height() - self.image.height()) < 1:
                p.drawImage(QPoint(round(r.x()), round(r.y())), self.image)  # a plain copy
            else:
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                p.drawImage(r, self.image)
        if self.caption:
            r = self.image_rect()
            px = max(14, min(40, round(r.height() / 14), round(r.width() / 24)))
            band = QRectF(r.x(), r.y(), r.width(), px * 1.7)
            p.fillRect(band, self.caption_color)
            f = QFont(self.font())
            f.setPixelSize(px)
            f.setBold(True)
            while f.pixelSize() > 12 and \
                    QFontMetrics(f).horizontalAdvance(self.caption) > band.width() - px:
                f.setPixelSize(f.pixelSize() - 1)  # shrink to fit before cutting words off
            p.setFont(f)
            p.setPen(QColor(255, 255, 255))
            text = p.fontMetrics().elidedText(self.caption, Qt.TextElideMode.ElideRight,
                                              round(band.width() - px))
            p.drawText(band, Qt.AlignmentFlag.AlignCenter, text)
        p.end()
