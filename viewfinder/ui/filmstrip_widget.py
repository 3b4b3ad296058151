"""Ranked filmstrip (GUI thread): the burst's thumbnails in rank order, best first.

Each card shows rank, score, time from the press, the scorer's reasons and marks for the best
frame, the frame at the shutter instant and the saved one. Click or arrow keys (handled by
MainWindow) pick a frame; `selected_changed` tells which (rank position).
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewfinder.ui.scoring_thread import BurstReview

BG = QColor(20, 20, 20)
CARD = QColor(45, 45, 45)
SELECTED = QColor(255, 214, 10)
BEST = QColor(60, 200, 90)
BAD = QColor(255, 110, 110)
TEXT = QColor(255, 255, 255)
DIM = QColor(190, 190, 190)


class FilmstripWidget(QWidget):
    selected_changed = Signal(int)  # rank position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review: BurstReview | None = None
        self.selected = 0
        self.saved_pos: int | None = None  # burst position of the saved frame
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(175)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(1200, 175)

    def set_review(self, review: BurstReview | None) -> None:
        self.review = review
        self.selected = 0
        self.saved_pos = None
        self.update()

    def set_selected(self, rank_pos: int) -> None:
        if self.review is None:
            return
        rank_pos = max(0, min(len(self.review.ranking.frames) - 1, rank_pos))
        if rank_pos != self.selected:
            self.selected = rank_pos
            self.update()
            self.selected_changed.emit(rank_pos)

    def set_saved_pos(self, pos: int | None) -> None:
        self.saved_pos = pos
        self.update()

    def _card_rects(self) -> list[QRectF]:
        n = len(self.review.ranking.frames) if self.review else 0
        if n == 0:
            return []
        gap = 8.0
        w = min((self.width() - gap * (n + 1)) / n, 260.0)
        x0 = (self.width() - (w * n + gap * (n - 1))) / 2
        return [QRectF(x0 + i * (w + gap), gap, w, self.height() - 2 * gap) for i in range(n)]

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        for i, r in enumerate(self._card_rects()):
            if r.contains(event.position()):
                self.set_selected(i)
                return

    def _font(self, px: int, bold: bool = False) -> QFont:
        f = QFont(self.font())
        f.setPixelSize(px)
        f.setBold(bold)
        return f

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        review = self.review
        if review is None:
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        burst = review.burst
        for i, (rf, r) in enumerate(zip(review.ranking.frames, self._card_rects())):
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(CARD)
            p.drawRoundedRect(r, 6, 6)
            thumb = review.thumbs[rf.pos]
            th = min(r.height() * 0.55, r.width() * thumb.height() / max(1, thumb.width()))
            tw = th * thumb.width() / max(1, thumb.height())
            img = QRectF(r.x() + (r.width() - tw) / 2, r.y() + 6, tw, th)
            p.drawImage(img, thumb)
            text = QRectF(r.x() + 6, img.bottom() + 4, r.width() - 12, r.bottom() - img.bottom() - 8)
            dt = (rf.t_ns - burst.press_t_ns) / 1e9
            score = f"{rf.score.value:.2f}" if rf.score is not None else "unscored"
            big = max(12, min(20, round(r.width() / 6)))  # narrow cards on small windows
            small = max(11, big - 5)
            p.setPen(SELECTED if i == self.selected else TEXT)
            head = f"#{i + 1}  {score}"
            font = self._font(big, bold=True)
            while font.pixelSize() > 10 and \
                    QFontMetrics(font).horizontalAdvance(head) > text.width():
                font.setPixelSize(font.pixelSize() - 1)  # narrow cards: shrink rather than cut
            p.setFont(font)
            p.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, head)
            marks = [m for m, on in (("BEST", i == 0), ("shutter", rf.pos == burst.shutter_pos),
                                     ("saved", rf.pos == self.saved_pos)) if on]
            p.setFont(self._font(small, bold=True))
            y = text.y() + big + 8
            lines = [(DIM, f"{dt:+.1f} s")] + [(BEST, m) for m in marks]
            reasons = rf.score.reasons if rf.score is not None else ()
            lines += [(BAD, reason) for reason in reasons]
            for color, line in lines:
                if y + small > text.bottom():
                    break
                p.setPen(color)
                p.drawText(QRectF(text.x(), y, text.width(), small + 4), Qt.AlignmentFlag.AlignLeft,
                           p.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight,
                                                      round(text.width())))
                y += small + 5
            if i == self.selected:
                p.setPen(QPen(SELECTED, 4))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(r.adjusted(2, 2, -2, -2), 6, 6)
            elif i == 0:
                p.setPen(QPen(BEST, 3))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(r.adjusted(2, 2, -2, -2), 6, 6)
        p.end()
