"""Live score overlay drawn over the preview (GUI thread; fed by ScoringThread signals).

Big current score, a sparkline of the last seconds with the pre-shutter window shaded, one bar
per scorer attribute, skipped frames and scoring latency, the source name, and the boxes of
the faces a face-aware scorer found, each with an eyes open/closed marker. Sized from the
widget height so it stays readable from two metres on a projector; demo mode scales it up
(`set_scale`) to read from the back of a room.

The overlay is repainted with every preview frame under it (30-60/s) but changes only with a
score (10/s): it is drawn once into a cached image, and each paint copies the cached panels
(about a third of the area) instead of drawing text, paths and antialiased shapes again.
"""
from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from viewfinder.frames import FaceBox
from viewfinder.ui.preview_widget import PreviewWidget
from viewfinder.ui.scoring_thread import LiveScore

HISTORY_SECONDS = 5.0
PANEL = QColor(0, 0, 0, 170)
TEXT = QColor(255, 255, 255)
ACCENT = QColor(255, 214, 10)  # score line and bars: yellow on dark reads well projected
WINDOW = QColor(0, 200, 255, 90)
DIM = QColor(200, 200, 200)
EYES_OPEN = QColor(60, 220, 90)
EYES_CLOSED = QColor(255, 70, 70)


class OverlayWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.scorer_name = ""
        self.ranker = ""  # which ranker scores, e.g. "personal ranker · 180 labels · 2026-03-01"
        self.attribute_names: tuple[str, ...] = ()
        self.source_name = ""
        self.seconds_before = 0.7
        self.seconds_after = 0.3
        self.history: deque[tuple[int, float]] = deque()  # (t_ns, value), source time
        self.latest: LiveScore | None = None
        self.press_t_ns: int | None = None  # set while a burst is being collected
        self.scale = 1.0  # demo mode draws everything larger
        self.preview: PreviewWidget | None = None  # where the frame is painted, for face boxes
        self.mirror = False  # the preview is mirrored: so are the face boxes
        self._cache: QImage | None = None  # the overlay as last drawn (None: draw it again)
        self._parts: list[QRect] = []  # where the cached image is not transparent

    # --- fed by MainWindow ---------------------------------------------------------------
    def set_scorer(self, name: str, attribute_names: tuple[str, ...]) -> None:
        self.scorer_name, self.attribute_names = name, tuple(attribute_names)
        self._changed()

    def set_ranker(self, text: str) -> None:
        """The active ranker (shipped or personal), shown in place of the scorer's name."""
        self.ranker = text
        self._changed()

    def set_source(self, name: str) -> None:
        self.source_name = name
        self._changed()

    def set_window(self, seconds_before: float, seconds_after: float) -> None:
        self.seconds_before, self.seconds_after = seconds_before, seconds_after
        self._changed()

    def reset(self) -> None:
        self.history.clear()
        self.latest = None
        self.press_t_ns = None
        self._changed()

    def add_score(self, live: LiveScore) -> None:
        self.latest = live
        if live.scored.score is not None:
            self.history.append((live.scored.t_ns, live.scored.score.value))
        horizon = live.scored.t_ns - round(HISTORY_SECONDS * 1e9)
        while self.history and self.history[0][0] < horizon:
            self.history.popleft()
        self._cache = None
        if self.isVisible():
            self.update()

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self._changed()

    def set_frame_view(self, preview: PreviewWidget | None, mirror: bool) -> None:
        """The widget under this one that paints the frame (same geometry), and its mirroring."""
        self.preview, self.mirror = preview, mirror
        self._changed()

    def mark_press(self, t_ns: int | None) -> None:
        self.press_t_ns = t_ns
        self._changed()

    # --- painting ------------------------------------------------------------------------
    def _font(self, px: int, bold: bool = False) -> QFont:
        f = QFont(self.font())
        f.setPixelSize(max(10, px))
        f.setBold(bold)
        return f

    def _changed(self) -> None:
        self._cache = None
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._cache = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        dpr = self.devicePixelRatioF()
        if self._cache is None or self._cache.devicePixelRatio() != dpr:
            self._render(dpr)
        p = QPainter(self)
        for r in self._parts:
            p.drawImage(QPointF(r.topLeft()), self._cache,
                        QRectF(r.x() * dpr, r.y() * dpr, r.width() * dpr, r.height() * dpr))
        p.end()

    def _render(self, dpr: float) -> None:
        """Draw the overlay into the cache and note the rectangles it drew in."""
        image = QImage(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(Qt.GlobalColor.transparent)
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        unit = max(12, min(self.height() // 24, self.width() // 40))  # ~30 px on 720p
        unit = round(unit * self.scale)
        score = self.latest.scored.score if self.latest else None
        parts = [self._paint_score(p, unit), self._paint_bars(p, unit),
                 self._paint_sparkline(p, unit)]
        if score is not None and score.faces:  # last: the people are what matters
            parts += self._paint_faces(p, unit, score.faces)
        p.end()
        pad = max(3, unit // 4)  # pens and antialiasing reach past the shapes' rectangles
        bounds = self.rect()
        self._parts = [r.toAlignedRect().adjusted(-pad, -pad, pad, pad).intersected(bounds)
                       for r in parts if r is not None]
        self._cache = image

    def face_rect(self, face: FaceBox) -> QRectF:
        """A face box in widget coordinates (mirrored with the preview)."""
        r = self.preview.image_rect() if self.preview is not None else QRectF(self.rect())
        x = 1.0 - face.x - face.w if self.mirror else face.x
        return QRectF(r.x() + x * r.width(), r.y() + face.y * r.height(),
                      face.w * r.width(), face.h * r.height())

    def _paint_faces(self, p: QPainter, unit: int, faces: tuple[FaceBox, ...]) -> list[QRectF]:
        p.setFont(self._font(round(unit * 0.75), bold=True))
        drawn = []
        for face in faces:
            box = self.face_rect(face)
            drawn.append(box)
            known = face.eyes_open is not None
            is_open = known and face.eyes_open >= 0.5
            color = (EYES_OPEN if is_open else EYES_CLOSED) if known else TEXT
            p.setPen(QPen(color, max(2, unit // 8)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(box, unit * 0.2, unit * 0.2)
            if not known:
                continue
            # The marker: an open eye (outline + pupil) or a closed one (a lid line), and words.
            words = f"eyes {'open' if is_open else 'closed'} {face.eyes_open:.2f}"
            text_w = p.fontMetrics().horizontalAdvance(words)
            tag = QRectF(box.x(), box.y() - unit * 1.2, unit * 1.9 + text_w, unit * 1.1)
            drawn.append(tag)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(PANEL)
            p.drawRoundedRect(tag, unit * 0.2, unit * 0.2)
            eye = QRectF(tag.x() + unit * 0.2, tag.y() + unit * 0.25, unit * 1.1, unit * 0.6)
            p.setPen(QPen(color, max(2, unit // 10)))
            if is_open:
                p.drawEllipse(eye)
                p.setBrush(color)
                p.drawEllipse(eye.center(), unit * 0.17, unit * 0.17)
                p.setBrush(Qt.BrushStyle.NoBrush)
            else:
                p.drawArc(eye, 180 * 16, 180 * 16)
            p.drawText(QRectF(eye.right() + unit * 0.25, tag.y(), text_w + unit * 0.3,
                              tag.height()), Qt.AlignmentFlag.AlignLeft
                       | Qt.AlignmentFlag.AlignVCenter, words)
        return drawn

    def _paint_score(self, p: QPainter, unit: int) -> QRectF:
        live = self.latest
        score = live.scored.score if live else None
        big = f"{score.value:.2f}" if score is not None else "–"
        lines = [self.ranker or self.scorer_name or "score",
                 f"skipped {live.skipped if live else 0} · {live.scored.latency_ms:.0f} ms"
                 if live else "waiting for frames…",
                 self.source_name]
        if score is not None and score.reasons:
            lines.append(", ".join(score.reasons))
        w = unit * 11
        h = round(unit * 3.2 + unit * 1.1 * len(lines))
        rect = QRectF(unit * 0.6, unit * 0.6, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(PANEL)
        p.drawRoundedRect(rect, unit * 0.4, unit * 0.4)
        p.setPen(ACCENT)
        p.setFont(self._font(round(unit * 2.6), bold=True))
        p.drawText(QRectF(rect.x() + unit * 0.5, rect.y(), w - unit, unit * 3.2),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, big)
        p.setFont(self._font(round(unit * 0.8)))
        y = rect.y() + unit * 3.2
        for i, line in enumerate(lines):
            p.setPen(TEXT if i == 0 else DIM)
            p.drawText(QRectF(rect.x() + unit * 0.5, y, w - unit, unit * 1.1),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight,
                                                  round(w - unit)))
            y += unit * 1.1
        return rect

    def _paint_bars(self, p: QPainter, unit: int) -> QRectF | None:
        names = self.attribute_names
        if not names:
            return None
        score = self.latest.scored.score if self.latest else None
        values = score.attributes if score is not None else {}
        row = unit * 1.3
        w = unit * 12
        rect = QRectF(self.width() - w - unit * 0.6, unit * 0.6, w, row * len(names) + unit * 0.6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(PANEL)
        p.drawRoundedRect(rect, unit * 0.4, unit * 0.4)
        p.setFont(self._font(round(unit * 0.8)))
        label_w = unit * 5
        for i, name in enumerate(names):
            y = rect.y() + unit * 0.3 + i * row
            p.setPen(TEXT)
            p.drawText(QRectF(rect.x() + unit * 0.4, y, label_w, row),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(name.replace("_", " "),
                                                  Qt.TextElideMode.ElideRight, round(label_w)))
            bar = QRectF(rect.x() + unit * 0.6 + label_w, y + row * 0.25,
                         w - label_w - unit * 1.2, row * 0.5)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(255, 255, 255, 50))
            p.drawRect(bar)
            v = values.get(name)
            if v is not None:
                p.setBrush(ACCENT)
                p.drawRect(QRectF(bar.x(), bar.y(), bar.width() * min(1.0, max(0.0, float(v))),
                                  bar.height()))
        return rect

    def _paint_sparkline(self, p: QPainter, unit: int) -> QRectF:
        h = unit * 4
        rect = QRectF(unit * 0.6, self.height() - h - unit * 0.6, self.width() - unit * 1.2, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(PANEL)
        p.drawRoundedRect(rect, unit * 0.4, unit * 0.4)
        inner = rect.adjusted(unit * 0.4, unit * 0.4, -unit * 0.4, -unit * 0.4)
        if not self.history:
            return rect
        t_end = self.history[-1][0]
        if self.press_t_ns is not None:
            t_end = max(t_end, self.press_t_ns + round(self.seconds_after * 1e9))
        t_start = t_end - HISTORY_SECONDS * 1e9

        def x_of(t_ns: float) -> float:
            return inner.x() + inner.width() * (t_ns - t_start) / (HISTORY_SECONDS * 1e9)

        # The frames the shutter would take now (or is taking): the pre-shutter window.
        anchor = self.press_t_ns if self.press_t_ns is not None else self.history[-1][0]
        x0 = x_of(anchor - self.seconds_before * 1e9)
        x1 = x_of(anchor + (self.seconds_after * 1e9 if self.press_t_ns is not None else 0))
        p.setBrush(WINDOW)
        p.drawRect(QRectF(x0, inner.y(), max(2.0, x1 - x0), inner.height()))
        if self.press_t_ns is not None:
            p.setPen(QPen(TEXT, max(2, unit // 10)))
            xp = x_of(self.press_t_ns)
            p.drawLine(QPointF(xp, inner.y()), QPointF(xp, inner.bottom()))
        values = [v for _, v in self.history]
        lo, hi = min(values), max(values)
        span = hi - lo if hi > lo else 1.0
        path = QPainterPath()
        for i, (t, v) in enumerate(self.history):
            pt = QPointF(x_of(t), inner.bottom() - inner.height() * (v - lo) / span)
            path.moveTo(pt) if i == 0 else path.lineTo(pt)
        p.setPen(QPen(ACCENT, max(3, unit // 8)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.setPen(DIM)
        p.setFont(self._font(round(unit * 0.7)))
        p.drawText(inner, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                   f"{hi:.2f}")
        p.drawText(inner, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                   f"{lo:.2f}   last {HISTORY_SECONDS:.0f} s · shaded: burst window")
        return rect
