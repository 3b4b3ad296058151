"""The labelling screen (GUI thread): two frames of a kept burst side by side, five choices.

The paper's protocol: left significantly / marginally better, equal, right marginally /
significantly better, on keys 1-5 (or the buttons); U or Backspace undoes the last answer, even
across bursts. Which pair comes next is viewfinder.pair_selection's job (compare against the
current best, then refine the top); every answer is written at once to viewfinder.labels, so
quitting half way loses nothing and the next session resumes where this one stopped.

Self-contained: give it a LabelStore opened on the GUI thread; the main window decides where
it lives and listens to `finished`.
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from viewfinder.labels import LabelsError, LabelStore, StoredBurst
from viewfinder.pair_selection import Comparison, PairSelector
from viewfinder.ui.images import PREVIEW_LONG_SIDE, to_qimage
from viewfinder.ui.preview_widget import PreviewWidget

CHOICE_TEXT = {1: "Left much better", 2: "Left a bit better", 3: "Equal",
               4: "Right a bit better", 5: "Right much better"}
KEYS = {Qt.Key.Key_1: 1, Qt.Key.Key_2: 2, Qt.Key.Key_3: 3, Qt.Key.Key_4: 4, Qt.Key.Key_5: 5}


class LabellingWidget(QWidget):
    labelled = Signal(int)  # comparisons left in the current burst, after an answer or an undo
    burst_finished = Signal(str)  # uid of a burst whose comparisons are all done
    finished = Signal()  # nothing left to label
    failed = Signal(str)  # one line: the database or a frame file could not be used

    def __init__(self, store: LabelStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.queue: list[str] = []  # uids still to label, current first
        self.total = 0
        self.burst: StoredBurst | None = None
        self.selector: PairSelector | None = None
        self.pair: tuple[int, int] | None = None  # indices into burst.frames (left, right)
        self.history: list[str] = []  # uid of each answer given here, for undo across bursts
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QLabel()
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.left, self.right = PreviewWidget(), PreviewWidget()
        self.left_caption, self.right_caption = QLabel(), QLabel()
        panes = QHBoxLayout()
        for pane, caption in ((self.left, self.left_caption), (self.right, self.right_caption)):
            col = QVBoxLayout()
            col.addWidget(pane, 1)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            col.addWidget(caption)
            panes.addLayout(col, 1)
        buttons = QHBoxLayout()
        self.buttons: dict[int, QPushButton] = {}
        for key, text in CHOICE_TEXT.items():
            b = QPushButton(f"{key}  {text}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, k=key: self.choose(k))
            buttons.addWidget(b)
            self.buttons[key] = b
        self.undo_button = QPushButton("U  Undo")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.clicked.connect(self.undo)
        buttons.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(panes, 1)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self._show()

    # -- the queue ----------------------------------------------------------------------------
    def start(self, uids: Sequence[str] | None = None) -> bool:
        """Label these bursts (default: every kept burst not finished yet). False when there is
        nothing to label."""
        try:
            if uids is None:
                uids = [b.uid for b in self.store.bursts()]
            self.queue = [u for u in uids if not self._selector(self.store.burst(u))[1].done]
        except LabelsError as e:
            self.failed.emit(str(e))
            self.queue = []
        self.total = len(self.queue)
        self._load()
        return self.burst is not None

    def _selector(self, burst: StoredBurst) -> tuple[StoredBurst, PairSelector]:
        index = {f.pos: i for i, f in enumerate(burst.frames)}
        labels = [Comparison(index[lab.a], index[lab.b], lab.label)
                  for lab in self.store.labels(burst.uid, kind="compare")]
        return burst, PairSelector(len(burst.frames), [f.score for f in burst.frames], labels=labels)

    def _load(self) -> None:
        """Show the next pair of the first burst in the queue that still needs one."""
        while self.queue:
            try:
                self.burst, self.selector = self._selector(self.store.burst(self.queue[0]))
            except LabelsError as e:
                self.failed.emit(str(e))
                self.queue.pop(0)
                continue
            self.pair = self.selector.next_pair()
            if self.pair is not None:
                self._show()
                return
            self.burst_finished.emit(self.queue.pop(0))
        self.burst = self.selector = self.pair = None
        self._show()
        self.finished.emit()

    # -- answers ------------------------------------------------------------------------------
    def choose(self, key: int) -> None:
        """The user's answer 1..5 for the pair on screen."""
        if self.pair is None or self.selector is None or self.burst is None:
            return
        c = self.selector.answer(*self.pair, key)
        try:
            self.store.add_label(self.burst.uid, self.burst.frames[c.a].pos,
                                 self.burst.frames[c.b].pos, c.label, kind="compare")
        except LabelsError as e:
            self.selector.undo()
            self.failed.emit(str(e))
            return
        self.history.append(self.burst.uid)
        self.pair = self.selector.next_pair()
        self.labelled.emit(self.selector.remaining)
        if self.pair is None:
            self.burst_finished.emit(self.queue.pop(0))
            self._load()
        else:
            self._show()

    def undo(self) -> None:
        """Take back the last answer given on this screen (going back to its burst)."""
        if not self.history:
            return
        uid = self.history.pop()
        try:
            self.store.undo(uid, kind="compare")
        except LabelsError as e:
            self.failed.emit(str(e))
            return
        if not self.queue or self.queue[0] != uid:
            self.queue.insert(0, uid)
        self._load()
        if self.selector is not None:
            self.labelled.emit(self.selector.remaining)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        key = event.key()
        if key in KEYS:
            self.choose(KEYS[key])
        elif key in (Qt.Key.Key_U, Qt.Key.Key_Backspace):
            self.undo()
        else:
            super().keyPressEvent(event)

    # -- display ------------------------------------------------------------------------------
    @property
    def remaining(self) -> int:
        """Comparisons left in the current burst (0 when there is none)."""
        return self.selector.remaining if self.selector is not None and self.pair is not None else 0

    def _show(self) -> None:
        has = self.pair is not None and self.burst is not None
        for b in self.buttons.values():
            b.setEnabled(has)
        self.undo_button.setEnabled(bool(self.history))
        if not has:
            self.title.setText("Nothing to label" if not self.history else "All bursts labelled")
            self.progress.setText("Keep bursts (a setting) to label them here." if not self.history
                                  else f"{len(self.history)} comparisons given; thank you.")
            self.left.set_image(None)
            self.right.set_image(None)
            self.left_caption.setText("")
            self.right_caption.setText("")
            return
        done = self.total - len(self.queue) + 1
        self.title.setText(f"Burst {done} of {self.total} ({self.burst.created[:16].replace('T', ' ')}): "
                           "which frame is better?")
        left = self.remaining
        self.progress.setText(f"{left} comparison{'s' if left != 1 else ''} left in this burst  ·  "
                              "keys 1-5 choose, U or Backspace undoes")
        for pane, caption, i, side in ((self.left, self.left_caption, self.pair[0], "Left"),
                                       (self.right, self.right_caption, self.pair[1], "Right")):
            f = self.burst.frames[i]
            try:
                pane.set_image(to_qimage(self.store.pixels(self.burst.uid, f.pos), PREVIEW_LONG_SIDE))
            except LabelsError as e:
                pane.set_image(None)
                self.failed.emit(str(e))
            caption.setText(f"{side}: frame {f.pos + 1} of the burst")
