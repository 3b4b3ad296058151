"""Resolution picker (GUI thread): shows the resolution the source really delivers and offers
the usual ones. Choosing one emits `resolution_chosen` with a new `open_source` spec; the window
switches to it, and the capture thread drops the first frames while exposure settles.

Cameras are asked through "camera:N:WxH" (the driver may pick the nearest size it has: the button
then shows what it really gives); the synthetic scene renders at any size; files and folders play
at their own size.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from viewfinder.camera import FrameSource, SyntheticSource

RESOLUTIONS = ((640, 360), (640, 480), (960, 540), (1280, 720), (1920, 1080))


def spec_with_size(source: FrameSource, size: tuple[int, int]) -> str | None:
    """The spec that reopens `source` at `size`, or None when its size cannot be chosen."""
    inner = getattr(source, "inner", source)  # a reconnecting wrapper: the camera inside
    w, h = size
    if isinstance(inner, SyntheticSource):
        return f"synthetic:{inner.seed}:{w}x{h}"
    if getattr(inner, "is_camera", False) and hasattr(inner, "index"):
        return f"camera:{inner.index}:{w}x{h}"
    return None


class ResolutionButton(QToolButton):
    resolution_chosen = Signal(str)  # an open_source spec

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source: FrameSource | None = None
        self.actual: tuple[int, int] | None = None  # what the frames really measure
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self)
        self._menu.aboutToShow.connect(self._fill)
        self.setMenu(self._menu)
        self.setToolTip("Resolution")
        self._show()

    def set_source(self, source: FrameSource) -> None:
        self.source, self.actual = source, None
        self._show()

    def set_actual(self, size: tuple[int, int]) -> None:
        if size != self.actual:
            self.actual = tuple(size)
            self._show()

    def _show(self) -> None:
        self.setText(f"{self.actual[0]}×{self.actual[1]} ▾" if self.actual else "– ▾")

    def _fill(self) -> None:
        m = self._menu
        m.clear()
        real = f"{self.actual[0]}×{self.actual[1]}" if self.actual else "not known yet"
        m.addAction(f"Delivering {real}").setEnabled(False)
        m.addSeparator()
        if self.source is None or spec_with_size(self.source, (640, 360)) is None:
            m.addAction("Files and folders play at their own size").setEnabled(False)
            return
        for size in RESOLUTIONS:
            act = m.addAction(f"{size[0]}×{size[1]}",
                              lambda s=size: self.resolution_chosen.emit(
                                  spec_with_size(self.source, s)))
            act.setCheckable(True)
            act.setChecked(size == self.actual)
