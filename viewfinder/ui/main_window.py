"""The main window: wires CaptureThread -> ScoringThread -> overlay / filmstrip -> SaveThread.

GUI thread only. It never scores, ranks or writes files itself: it sends requests to the
threads and reacts to their signals. Modes: live -> [countdown] -> collecting (after an accepted
press) -> ranking (burst complete) -> review (ranked filmstrip) -> live (Esc); live <-> wall (the
session's kept photos).

Demo mode (`set_demo`, `--demo`, `D`, View menu) is the same pipeline dressed for a projector:
fullscreen, larger overlay and shutter button, an instruction line, a 3-2-1 countdown, the frame
at the shutter instant beside the kept one on the result screen, and an automatic return to live.

Labelling (`L`, View menu): kept bursts are labelled pairwise on a screen hosting
LabellingWidget; *Personalise* fits the personal ranker on RankerThread and the scoring thread
switches to it (or back to the shipped one). Reliability: a camera lost mid-stream is reconnected
by the capture thread while a banner says so; a burst cut short is still ranked and marked short;
a held shutter key gives one burst; closing mid-capture ranks and saves what was captured.
"""
from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (QColor, QDesktopServices, QGuiApplication, QIcon, QImage, QKeySequence,
                           QPixmap)
from PySide6.QtWidgets import (QFileDialog, QGridLayout, QHBoxLayout, QLabel, QMainWindow, QMenu,
                               QMessageBox, QPushButton, QSizePolicy, QStackedWidget, QToolButton,
                               QVBoxLayout, QWidget)

from viewfinder.camera import FrameSource, SourceError, list_cameras, open_source
from viewfinder.config import AppConfig
from viewfinder.labels import LabelsError, LabelStore
from viewfinder.personalize import RankerInfo, active_ranker
from viewfinder.scoring import Scorer
from viewfinder.ui import settings as settings_mod
from viewfinder.ui.capture_thread import CaptureThread, PressResult
from viewfinder.ui.countdown_widget import CountdownWidget
from viewfinder.ui.filmstrip_widget import FilmstripWidget
from viewfinder.ui.flash_widget import FlashWidget
from viewfinder.ui.images import PREVIEW_LONG_SIDE, to_qimage
from viewfinder.ui.labelling_widget import LabellingWidget
from viewfinder.ui.overlay_widget import OverlayWidget
from viewfinder.ui.photo_wall_widget import KeptPhoto, PhotoWallWidget
from viewfinder.ui.preview_widget import PreviewWidget
from viewfinder.ui.ranker_thread import RankerJobResult, RankerThread
from viewfinder.ui.resolution_picker import ResolutionButton
from viewfinder.ui.save_thread import SaveJob, SaveResult, SaveThread
from viewfinder.ui.scoring_thread import BurstReview, LiveScore, ScoringThread
from viewfinder.ui.settings import UiConfig
from viewfinder.ui.source_picker import SourcePickerButton

SHORTCUTS = (
    ("Space / Enter", "shutter (live view; after the countdown, if one is set)"),
    ("← / →, click", "pick another frame (filmstrip)"),
    ("Enter / S", "save the chosen frame (filmstrip)"),
    ("Esc", "cancel the countdown · back to live · leave fullscreen"),
    ("Ctrl+C", "copy the chosen frame (filmstrip) or the last kept photo"),
    ("O", "score overlay on/off"),
    ("M", "mirror the preview on/off"),
    ("F", "fullscreen on/off"),
    ("D", "demo mode on/off"),
    ("W", "wall of this session's kept photos"),
    ("L", "label kept bursts: 1-5 answer, U undo, P personalise, Esc back"),
    ("Del", "clear the wall (on the wall)"),
    ("?", "this help"),
)
MODES = ("live", "countdown", "collecting", "ranking", "review", "wall", "label")
HIDDEN_LIVE_MODES = ("review", "wall", "label")  # the live view is not on screen
DEMO_SCALE = 1.3  # overlay size in demo mode, relative to the normal window
# Demo mode never waits long for a lost camera: after these failed reopenings (0.5+1+2 s of
# back-off) it falls back to the synthetic scene. The normal window retries until it is back.
DEMO_RECONNECT_ATTEMPTS = 3
INSTRUCTIONS = {
    "live": "Press Space: we keep the best moment",
    "countdown": "Get ready…   (Esc cancels)",
    "collecting": "Capturing the moments around your press…",
    "ranking": "Ranking the burst…",
    "review": "We kept the best moment   ·   Space: go again",
    "wall": "",
    "label": "",
}
HINT = ("← → pick   ·   Enter / S save this one   ·   Esc back to live   ·   "
        "Ctrl+C copy   ·   ? keys")
DEMO_HINT = ("Back to live in {:.0f} s   ·   ← → browse the burst   ·   Esc: live now   ·   "
             "W: wall of kept photos")
KEPT_COLOR = QColor(30, 150, 60, 210)
INSTANT_COLOR = QColor(90, 90, 90, 210)

INSTRUCTION_STYLE = ("background:#000; color:#ffd60a; font-size:40px; font-weight:bold;"
                     "padding:10px;")
SHUTTER_STYLE = ("QPushButton {font-size:26px; font-weight:bold; padding:10px 36px; color:#000;"
                 "background:#fff; border-radius:24px;} QPushButton:pressed {background:#ffd60a;}")
DEMO_SHUTTER_STYLE = ("QPushButton {font-size:44px; font-weight:bold; padding:18px 70px;"
                      "color:#000; background:#fff; border-radius:44px;}"
                      "QPushButton:pressed {background:#ffd60a;}")
BANNER_STYLE = ("background:#ffd60a; color:#000; font-size:22px; font-weight:bold; padding:8px;")
WARN_STYLE = ("background:#ff6b00; color:#fff; font-size:18px; font-weight:bold; padding:6px;"
              "border-radius:6px;")
LOST_STYLE = ("background:#d70015; color:#fff; font-size:22px; font-weight:bold; padding:8px;")
STATUS_STYLE = "color:#fff; font-size:20px; padding:4px;"
FEEDBACK_STYLE = "color:#000; background:#ff9f0a; font-size:20px; font-weight:bold; padding:4px;"


class MainWindow(QMainWindow):
    photo_saved = Signal(object)  # SaveResult with a photo
    save_failed = Signal(object)  # SaveResult without one (after the dialog, if any)
    review_shown = Signal(object)  # BurstReview
    press_ignored = Signal(str)  # why
    ranker_changed = Signal(object)  # RankerJobResult (personalised, or switched ranker)

    def __init__(self, config: AppConfig, scorer: Scorer, *, settings: QSettings,
                 source: FrameSource, source_open: bool = False, notice: str = "",
                 scorer_warning: str = "", interactive: bool = True, demo: bool = False,
                 ui_config: UiConfig | None = None, data_dir: Path | None = None) -> None:
        super().__init__()
        self.config = config
        self.scorer = scorer
        self.qsettings = settings
        self.interactive = interactive  # False in scripted mode: no dialogs
        self.ui = ui_config or settings_mod.load_ui_config(settings)
        self.data_dir = data_dir  # label store for kept bursts (None: the app's data folder)
        self.demo = False
        self._demo_made_fullscreen = False
        self._notice = notice  # the source notice in force (banner, or status line in demo)
        self.mode = "live"
        self.last_kept: KeptPhoto | None = None
        self.review: BurstReview | None = None
        self.saved: SaveResult | None = None  # last successful save of the current burst
        self._in_flight: list[SaveJob] = []  # submitted to the save thread, not landed yet
        # (burst, position) to save once that burst's save in flight has landed (it replaces it)
        self._queued: list[tuple[BurstReview, int]] = []
        self.label_store: LabelStore | None = None  # opened on this thread for the labeller
        self.labeller: LabellingWidget | None = None
        self.ranker_info: RankerInfo | None = None
        self.ranker_text = ""  # which ranker scores (labelling screen, overlay)
        self.last_ranker_result: RankerJobResult | None = None
        self._lost = ""  # the camera's reconnect status, while it is lost
        self._pressed_at: float | None = None
        self._closed = False
        self._probe: threading.Thread | None = None
        self.mirror = config.mirror if config.mirror is not None else source.is_camera

        self.setWindowTitle("Viewfinder")
        self.setStyleSheet("QMainWindow, #bar {background:#111;} "
                           "QPushButton, QToolButton {font-size:18px; padding:8px 14px;}")
        self._build(notice, scorer_warning)

        self.ranker = RankerThread(data_dir)
        self.ranker.finished_job.connect(self._on_ranker_finished)
        self._update_ranker_display()
        self.scoring = ScoringThread(scorer)
        self.scoring.frame_scored.connect(self._on_frame_scored)
        self.scoring.burst_ranked.connect(self._on_burst_ranked)
        self.scoring.scorer_failed.connect(self._on_scorer_failed)
        self.scoring.start()
        self.saver = SaveThread()
        self.saver.finished_job.connect(self._on_save_finished)
        self.saver.start()
        self.capture: CaptureThread | None = None
        self._start_capture(source, already_open=source_open, spec=None)
        self._probe_cameras()
        if demo:
            self.set_demo(True)

    # --- layout --------------------------------------------------------------------------
    def _build(self, notice: str, scorer_warning: str) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.banner = QLabel(notice)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.setVisible(bool(notice))
        outer.addWidget(self.banner)
        self.instructions = QLabel(INSTRUCTIONS["live"])
        self.instructions.setStyleSheet(INSTRUCTION_STYLE)
        self.instructions.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.instructions.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.instructions.setVisible(False)
        outer.addWidget(self.instructions)

        self.stack = QStackedWidget()
        live = QWidget()
        grid = QGridLayout(live)
        grid.setContentsMargins(0, 0, 0, 0)
        self.preview = PreviewWidget()
        self.preview.box_changed.connect(self._on_preview_box_changed)
        self.overlay = OverlayWidget()
        self.overlay.set_scorer(self.scorer.name, tuple(self.scorer.attribute_names))
        self.overlay.set_window(self.config.buffer.seconds_before, self.config.buffer.seconds_after)
        self.overlay.setVisible(self.config.overlay)
        self.countdown = CountdownWidget()
        self.countdown.finished.connect(self._on_countdown_finished)
        grid.addWidget(self.preview, 0, 0)
        grid.addWidget(self.overlay, 0, 0)
        grid.addWidget(self.countdown, 0, 0)
        self.stack.addWidget(live)

        review = QWidget()
        rv = QVBoxLayout(review)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(0)
        self.caption = QLabel()
        self.caption.setStyleSheet("background:#000; color:#fff; font-size:24px; padding:6px;")
        self.big = PreviewWidget()
        self.filmstrip = FilmstripWidget()
        self.filmstrip.selected_changed.connect(self._on_selected_changed)
        # Demo mode: the frame at the shutter instant beside the kept one, both scored.
        self.instant = PreviewWidget()
        self.instant.setVisible(False)
        frames = QHBoxLayout()
        frames.setSpacing(6)
        frames.addWidget(self.big, 9)
        frames.addWidget(self.instant, 5)
        self.hint = QLabel(HINT)
        self.hint.setStyleSheet("background:#111; color:#ddd; font-size:18px; padding:6px;")
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        rv.addWidget(self.caption)
        rv.addLayout(frames, 1)
        rv.addWidget(self.filmstrip)
        rv.addWidget(self.hint)
        self.stack.addWidget(review)
        self.wall = PhotoWallWidget(self.ui.wall_size)
        self.stack.addWidget(self.wall)
        self.stack.addWidget(self._build_label_page())
        outer.addWidget(self.stack, 1)

        bar = QWidget(objectName="bar")
        row = QHBoxLayout(bar)
        self.picker = SourcePickerButton()
        self.picker.source_chosen.connect(self.switch_source)
        self.resolution = ResolutionButton()
        self.resolution.resolution_chosen.connect(self.switch_source)
        self.shutter_button = QPushButton("●  Shutter")
        self.shutter_button.setStyleSheet(SHUTTER_STYLE)
        self.shutter_button.clicked.connect(self.shoot)
        self.status = QLabel("Starting…")
        self.status.setStyleSheet(STATUS_STYLE)
        for label in (self.status, self.caption):  # long paths must not widen the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.warning = QLabel()
        self.warning.setStyleSheet(WARN_STYLE)
        self.warning.setVisible(False)
        if scorer_warning:
            self._show_warning(scorer_warning)
        self.view_button = QToolButton(text="View ▾")
        self.view_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        view = QMenu(self.view_button)
        self.demo_action = view.addAction("Demo mode\tD", lambda: self.set_demo(not self.demo))
        self.demo_action.setCheckable(True)
        view.addAction("Wall of kept photos\tW", self.toggle_wall)
        view.addAction("Label kept bursts\tL", self.open_labelling)
        view.addAction("Personalise the ranker", self.personalise)
        self.switch_action = view.addAction("Use the shipped ranker", self.toggle_ranker)
        view.addAction("Fullscreen\tF", self.toggle_fullscreen)
        view.addAction("Mirror preview\tM", self.toggle_mirror)
        view.addAction("Score overlay\tO", self.toggle_overlay)
        view.addSeparator()  # also here because demo mode hides their buttons
        view.addAction("Settings…", self.open_settings_dialog)
        view.addAction("Open output folder", self.open_output_folder)
        view.addAction("Keyboard shortcuts\t?", self.show_help)
        self.view_button.setMenu(view)
        buttons = []
        for text, slot in (("Settings", self.open_settings_dialog),
                           ("Open folder", self.open_output_folder), ("?", self.show_help)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.append(b)
        self._normal_only = [self.resolution, *buttons]  # hidden in demo mode (keys still work)
        # The last kept photo, in the corner as on a phone camera; a click opens the wall.
        self.last_kept_button = QToolButton()
        self.last_kept_button.setIconSize(QSize(96, 54))
        self.last_kept_button.setStyleSheet("QToolButton {padding:2px; border:2px solid #fff;}")
        self.last_kept_button.clicked.connect(self.toggle_wall)
        self.last_kept_button.setVisible(False)
        row.addWidget(self.picker)
        row.addWidget(self.resolution)
        row.addWidget(self.warning)
        row.addWidget(self.status, 1)
        row.addWidget(self.shutter_button)
        row.addWidget(self.view_button)
        for b in buttons:
            row.addWidget(b)
        row.addWidget(self.last_kept_button)
        outer.addWidget(bar)
        for w in (self.picker, self.resolution, self.shutter_button, self.view_button, *buttons,
                  self.last_kept_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window, not a button
        self.setCentralWidget(central)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._feedback_timer = QTimer(self, singleShot=True, interval=1800)
        self._feedback_timer.timeout.connect(self._restore_status)
        self._status_text = ""
        self._auto_return = QTimer(self, singleShot=True)
        self._auto_return.timeout.connect(self._on_auto_return)
        self.flash = FlashWidget(central)
        self.resize(1280, 800)

    def _build_label_page(self) -> QWidget:
        """The labelling screen: ranker controls on top; the LabellingWidget is added below
        when the screen is first opened (it needs the label store)."""
        page = QWidget()
        page.setStyleSheet("QLabel {color:#fff; font-size:20px;} "
                           "QPushButton {font-size:16px; padding:6px 8px;}")
        self.label_layout = QVBoxLayout(page)
        self.label_layout.setContentsMargins(8, 6, 8, 6)
        top = QHBoxLayout()
        self.label_ranker = QLabel()
        self.label_ranker.setStyleSheet("color:#9fe870; font-size:18px;")
        self.personalise_button = QPushButton("P  Personalise the ranker")
        self.personalise_button.clicked.connect(self.personalise)
        self.switch_button = QPushButton()
        self.switch_button.clicked.connect(self.toggle_ranker)
        back = QPushButton("Esc  Back to live")
        back.clicked.connect(self.back_to_live)
        for b in (self.personalise_button, self.switch_button, back):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top.addWidget(self.label_ranker, 1)
        top.addWidget(self.personalise_button)
        top.addWidget(self.switch_button)
        top.addWidget(back)
        self.label_layout.addLayout(top)
        self.personal_result = QLabel()  # the last personalisation's measured before/after
        self.personal_result.setWordWrap(True)
        self.personal_result.setStyleSheet("color:#ddd; font-size:16px;")
        self.personal_result.setVisible(False)
        self.label_layout.addWidget(self.personal_result)
        return page

    # --- sources -------------------------------------------------------------------------
    def _start_capture(self, source: FrameSource, *, already_open: bool,
                       spec: str | None) -> None:
        """Capture from `source`; a camera lost mid-stream is reopened (a fresh one from `spec`
        when known), in demo mode only a few times before falling back to the synthetic scene."""
        factory = (lambda: open_source(spec)) if spec else None
        self._lost = ""
        self.capture = CaptureThread(source, self.config.buffer, self.scoring,
                                     already_open=already_open, mirror=self.mirror,
                                     factory=factory, max_attempts=self._max_attempts())
        self.capture.previews_wanted = self.mode not in HIDDEN_LIVE_MODES
        if self.preview.isVisible():  # else its size is not laid out yet: box_changed follows
            self.capture.set_preview_box(*self.preview.box_size())
        self.capture.preview_ready.connect(self._on_preview_ready)
        self.capture.shutter_pressed.connect(self._on_shutter_pressed)
        self.capture.burst_captured.connect(self._on_burst_captured)
        self.capture.source_failed.connect(self._on_source_failed)
        self.capture.source_status.connect(self._on_source_status)
        self.overlay.reset()
        self.overlay.set_source(source.name)
        self.overlay.set_frame_view(self.preview, self.mirror)
        self.picker.set_current(source.name)
        self.resolution.set_source(source)
        self.setWindowTitle(f"Viewfinder — {source.name}")
        self._set_status("Live · Space: shutter · ?: keys")
        self.capture.start()

    def _max_attempts(self) -> int | None:
        return DEMO_RECONNECT_ATTEMPTS if self.demo else None

    def _stop_capture(self, *, reset_scores: bool = True) -> None:
        """Stop capture (a burst in progress is cut short and handed to the scorer)."""
        if self.capture is not None:
            for sig in (self.capture.preview_ready, self.capture.shutter_pressed,
                        self.capture.burst_captured, self.capture.source_failed,
                        self.capture.source_status):
                sig.disconnect()
            if not self.capture.stop(0.6):
                print("viewfinder: capture thread did not stop in time", file=sys.stderr)
            self.capture = None
        if reset_scores:
            self.scoring.reset()

    def switch_source(self, spec: str, *, persist: bool = True) -> None:
        """Switch to another source (picker or fallback). A failed open falls back to synthetic."""
        if self._closed:
            return
        try:
            source = open_source(spec)
        except SourceError as exc:
            self._fallback_to_synthetic(str(exc))
            return
        self.back_to_live()
        self._cancel_countdown(quiet=True)
        self._stop_capture()
        if self.config.mirror is None:
            self.mirror = source.is_camera
        self.config = replace(self.config, source=spec)
        if persist:
            self.qsettings.setValue("source", spec)
        self._notice = ""
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setVisible(False)
        self._start_capture(source, already_open=False, spec=spec)

    def _fallback_to_synthetic(self, why: str, force: bool = False) -> None:
        if force or not self.config.source.startswith("synthetic"):
            self.switch_source("synthetic", persist=False)
        self._notify(f"{why} — showing the synthetic scene instead. "
                     "Pick another source from the Source menu.")

    def _notify(self, text: str) -> None:
        """A notice about the source: the yellow banner, or in demo mode (on a projector, in
        front of a crowd) only the status line."""
        self._notice = text
        self._lost = ""
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setText(text)
        self.banner.setToolTip(text)
        self.banner.setVisible(not self.demo)
        if self.demo:
            self._set_status(text.split(" — ")[0])

    def _on_source_status(self, text: str) -> None:
        """The camera's reconnect status: a red banner while it is lost (the status line in
        demo mode); the source notice again once frames flow."""
        self._lost = text
        name = self.capture.source.name if self.capture is not None else "camera"
        if text:
            line = f"{name}: {text[:1].upper()}{text[1:]}…"
            self.banner.setText(line)
            self.banner.setToolTip(line)
            self.banner.setStyleSheet(LOST_STYLE)
            self.banner.setVisible(not self.demo)
            self._set_status(line if self.demo else "Reconnecting…")
            return
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setText(self._notice)
        self.banner.setToolTip(self._notice)
        self.banner.setVisible(bool(self._notice) and not self.demo)
        if self.mode == "live":
            self._set_status("Live · Space: shutter · ?: keys")
        self._feedback(f"{name} is back")

    def _on_source_failed(self, message: str) -> None:
        """The capture thread ended on a source error (a camera that cannot be opened, a file
        that broke): the synthetic scene instead, unless that is what failed."""
        failed = self.capture.source.name if self.capture is not None else ""
        if failed.startswith("Synthetic"):
            self._notify(f"Source failed: {message}")
            self._set_status("No source")
            return
        self._fallback_to_synthetic(message, force=True)

    def _probe_cameras(self) -> None:
        def probe() -> None:
            try:
                found = list_cameras()
            except Exception:  # probing is best effort; the picker still offers the rest
                found = []
            QTimer.singleShot(0, self, lambda: self.picker.set_cameras(found))

        self._probe = threading.Thread(target=probe, name="viewfinder-camera-probe")
        self._probe.start()

    # --- live ----------------------------------------------------------------------------
    def _on_preview_ready(self) -> None:
        if self.capture is None:
            return
        p = self.capture.take_preview()
        if p is None:
            return
        self.resolution.set_actual(p.size)
        if p.image is not None and self.mode not in HIDDEN_LIVE_MODES:
            self.preview.set_image(p.image)

    def _on_preview_box_changed(self, w: int, h: int) -> None:
        if self.capture is not None:
            self.capture.set_preview_box(w, h)

    def _on_frame_scored(self, live: LiveScore) -> None:
        self.overlay.add_score(live)

    def shoot(self) -> None:
        """Space, Enter or the shutter button: the countdown first, when one is set."""
        seconds = self.ui.demo_countdown_s if self.demo else self.ui.countdown_s
        if self.mode == "countdown":
            self._feedback("Countdown running — Esc cancels")
            return
        if seconds <= 0 or self.mode in ("collecting", "ranking") or self.capture is None:
            self.press_shutter()
            return
        self.back_to_live()
        self._set_mode("countdown")
        self.shutter_button.setText("●  Get ready…")
        self._set_status(f"Countdown {seconds} s · Esc cancels")
        self.countdown.start(seconds)

    def _on_countdown_finished(self) -> None:
        if self.mode == "countdown":
            self._set_mode("live")
            self.press_shutter()

    def _cancel_countdown(self, quiet: bool = False) -> None:
        if self.mode != "countdown":
            return
        self.countdown.cancel()
        self._set_mode("live")
        self.shutter_button.setText("●  Shutter")
        self._set_status("Live · Space: shutter · ?: keys")
        if not quiet:
            self._feedback("Countdown cancelled")

    def press_shutter(self) -> None:
        """Take the burst now (no countdown): scripted runs and the end of the countdown."""
        if self.mode == "countdown":
            self.countdown.cancel()
            self._set_mode("live")
        if self.mode in ("review", "wall", "label"):
            self.back_to_live()
        if self.mode in ("collecting", "ranking"):
            self._feedback("Burst in progress — press ignored")
            self.press_ignored.emit("burst in progress")
            return
        if self.capture is None:
            return
        if self._lost:  # nothing to capture until the camera is back
            self._feedback("Camera lost, reconnecting — press ignored")
            self.press_ignored.emit("camera lost")
            return
        self._set_mode("collecting")
        self._pressed_at = time.monotonic()
        self.shutter_button.setText("●  Capturing…")
        self.capture.request_shutter()

    def _on_shutter_pressed(self, result: PressResult) -> None:
        if result.accepted:
            if self.ui.flash:
                self.flash.trigger()
            self.overlay.mark_press(result.press_t_ns)
            self._set_status(f"Capturing the burst ({result.pre_frames} frames before the press)…")
            return
        if self.mode == "collecting" and not (self.capture and self.capture.collecting):
            self._set_mode("live")
            self.shutter_button.setText("●  Shutter")
        self._feedback(result.reason[:1].upper() + result.reason[1:])
        self.press_ignored.emit(result.reason)

    def _on_burst_captured(self, n: int, short: bool) -> None:
        if self.mode != "collecting":  # already ranked and shown (signals from two threads)
            return
        self._set_mode("ranking")
        self._set_status(f"Ranking {n} frames{' (short burst)' if short else ''}…")

    def _on_scorer_failed(self, message: str) -> None:
        """The scorer threw on a frame: that frame is unscored, the others go on."""
        self._show_warning(f"⚠ scorer error: {message} (those frames are unscored)")
        print(f"viewfinder: {message}", file=sys.stderr)

    def _show_warning(self, text: str) -> None:
        """The orange badge for a scorer problem (a model that could not be loaded, a scorer
        failing on frames); all of the message in the tooltip."""
        self.warning.setToolTip(text)
        if len(text) > 80:  # short, but naming the model or weights file at fault
            named = re.search(r"[^\s:'\"()]+\.(?:onnx|json)", text)
            text = (f"{text.split(' (')[0][:50]} ({Path(named.group()).name})" if named
                    else f"{text[:79]}…")
        self.warning.setText(text)
        self.warning.setVisible(True)

    # --- review --------------------------------------------------------------------------
    def _on_burst_ranked(self, review: BurstReview) -> None:
        if self._closed:
            return
        self.review = review
        self.saved = None
        if self.config.save.auto_save:  # first: the photo is written while the review is drawn
            self.save_chosen(review.ranking.best.pos)
        self._set_mode("review")
        self.shutter_button.setText("●  Shutter")
        self.overlay.mark_press(None)
        self.filmstrip.set_review(review)
        self._show_selected()
        self.stack.setCurrentIndex(1)
        self._restart_auto_return()
        best = review.ranking.best
        short = " (short burst: capture was cut)" if review.burst.short else ""
        self._set_status(f"Best of {len(review.burst.frames)}{short} at "
                         f"{(best.t_ns - review.burst.press_t_ns) / 1e9:+.1f} s from the press")
        if self._saving:
            self._set_status(f"{self._status_text} · saving…")
        self.review_shown.emit(review)

    def _on_selected_changed(self, rank_pos: int) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        review = self.review
        if review is None:
            return
        i = self.filmstrip.selected
        rf = review.ranking.frames[i]
        self.big.set_image(review.previews[rf.pos])
        score = f"score {rf.score.value:.2f}" if rf.score is not None else "unscored"
        n = len(review.ranking.frames)
        of = (f"of {n} (short burst: {n} of {self.config.buffer.burst_len} frames)"
              if review.burst.short else f"of {n}")
        parts = [f"#{i + 1} {of}", score,
                 f"{(rf.t_ns - review.burst.press_t_ns) / 1e9:+.1f} s from the press"]
        if rf.score is not None and rf.score.reasons:
            parts.append(", ".join(rf.score.reasons))
        if self.saved is not None and self.saved.job.pos == rf.pos:
            parts.append(f"saved as {self.saved.photo.path.name}")
        self.caption.setText("   ·   ".join(parts))
        self._show_comparison(rf)

    def _show_comparison(self, rf) -> None:
        """Demo mode: "what we kept" (the selected frame) beside the frame at the shutter
        instant."""
        review = self.review
        if not self.demo:
            self.big.set_caption("")
            return

        def fmt(score) -> str:
            return f"{score.value:.2f}" if score is not None else "unscored"

        burst = review.burst
        if self.filmstrip.selected == 0:
            self.big.set_caption(f"What we kept: {fmt(rf.score)}", KEPT_COLOR)
        else:
            self.big.set_caption(f"Your pick #{self.filmstrip.selected + 1}: {fmt(rf.score)}",
                                 KEPT_COLOR)
        instant = review.scores[burst.shutter_pos]
        self.instant.set_image(review.previews[burst.shutter_pos])
        if burst.shutter_pos == review.ranking.best.pos:
            self.instant.set_caption(f"At the shutter: {fmt(instant)} (already the best)",
                                     INSTANT_COLOR)
        else:
            why = f" ({', '.join(instant.reasons)})" if instant is not None and instant.reasons \
                else ""
            self.instant.set_caption(f"What you would have got: {fmt(instant)}{why}",
                                     INSTANT_COLOR)

    def chosen_pos(self) -> int | None:
        if self.review is None:
            return None
        return self.review.ranking.frames[self.filmstrip.selected].pos

    @property
    def _saving(self) -> bool:
        """A save is being written."""
        return bool(self._in_flight)

    def save_chosen(self, pos: int | None = None) -> None:
        """Save a frame of the burst under review; replaces this burst's earlier save."""
        review = self.review
        pos = self.chosen_pos() if pos is None else pos
        if review is None or pos is None:
            return
        self._save(review, pos, self.saved.photo if self.saved is not None else None)

    def _save(self, review: BurstReview, pos: int, replaces) -> None:
        if any(job.burst is review.burst for job in self._in_flight):
            # replace once the save in flight has landed (the replacement needs its file)
            self._queued = [q for q in self._queued if q[0] is not review] + [(review, pos)]
            return
        if review is self.review and self.saved is not None and self.saved.job.pos == pos:
            self._feedback(f"Already saved: {self.saved.photo.path.name}")
            return
        self._submit_save(SaveJob(
            review.burst, review.ranking, pos, self.config.save.folder, self.config.save.fmt,
            self.config.save.jpeg_quality, review.scorer_name or self.scorer.name,
            review.scorer_version or self.scorer.version, replaces=replaces,
            pressed_at=self._pressed_at if replaces is None and review is self.review else None,
            keep_burst=self.ui.keep_whole_burst, scores=review.scores,
            source=self.capture.source.name if self.capture is not None else "",
            data_dir=self.data_dir))

    def _submit_save(self, job: SaveJob) -> None:
        self._in_flight.append(job)
        self._set_status("Saving…")
        self.saver.submit(job)

    def _on_save_finished(self, result: SaveResult) -> None:
        self._in_flight = [j for j in self._in_flight if j is not result.job]
        if result.photo is None:
            self._queued = [q for q in self._queued if q[0].burst is not result.job.burst]
            self._on_save_error(result)
            return
        if self.review is not None and result.job.burst is self.review.burst:
            self.saved = result
            self.filmstrip.set_saved_pos(result.job.pos)
            self._show_selected()
        self._keep_on_wall(result)
        ms = f" in {result.shutter_to_saved_ms:.0f} ms" \
            if result.shutter_to_saved_ms is not None else ""
        self._set_status(f"Saved{ms}: {result.photo.path.name}")
        self.status.setToolTip(str(result.photo.path))
        if result.keep_error:
            self._feedback(f"Photo saved, but the burst was not kept: {result.keep_error}")
        self.photo_saved.emit(result)
        for i, (review, pos) in enumerate(self._queued):
            if review.burst is result.job.burst:  # the choice made while this save was running
                del self._queued[i]
                self._save(review, pos, result.photo)
                break

    def _keep_on_wall(self, result: SaveResult) -> None:
        """The saved photo on the wall and as the corner thumbnail (a replaced choice swaps)."""
        job = result.job
        review = self.review
        if review is not None and job.burst is review.burst:
            image = review.previews[job.pos]
        else:  # a retried save of an older burst: rare, so converting here is fine
            image = to_qimage(job.burst.frames[job.pos].pixels, PREVIEW_LONG_SIDE)
        rf = next((f for f in job.ranking.frames if f.pos == job.pos), None)
        score = rf.score.value if rf is not None and rf.score is not None else None
        self.last_kept = KeptPhoto(result.photo.path, image, score)
        self.wall.add(self.last_kept, job.replaces.path if job.replaces is not None else None)
        thumb = image.scaled(192, 108, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        self.last_kept_button.setIcon(QIcon(QPixmap.fromImage(thumb)))
        self.last_kept_button.setToolTip(f"Last kept: {result.photo.path}\nClick: the wall (W)")
        self.last_kept_button.setVisible(True)

    def _on_save_error(self, result: SaveResult) -> None:
        self._set_status(f"Save failed: {result.error}")
        if not self.interactive or self._closed or self.demo:
            self.save_failed.emit(result)
            return
        answer = self.ask_after_failed_save(result.error)
        if answer == "retry":
            self._submit_save(result.job)
        elif answer == "folder":
            folder = self.ask_folder()
            if folder is not None:
                self.config = replace(self.config,
                                      save=replace(self.config.save, folder=Path(folder)))
                settings_mod.store_save(self.qsettings, self.config.save)
                self._submit_save(result.job.to(Path(folder)))
                return
            self.save_failed.emit(result)
        else:
            self.save_failed.emit(result)

    def ask_after_failed_save(self, error: str) -> str:
        """The failed-save dialog: "retry", "folder" (choose another) or "cancel"."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Could not save the photo",
                          f"{error}\n\nThe burst is still in memory.", parent=self)
        box.setObjectName("save-failed")
        retry = box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)
        other = box.addButton("Choose another folder…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "retry" if clicked is retry else "folder" if clicked is other else "cancel"

    def ask_folder(self) -> Path | None:
        """Another output folder, from the user (None: cancelled)."""
        folder = QFileDialog.getExistingDirectory(self, "Save photos in",
                                                  str(self.config.save.folder))
        return Path(folder) if folder else None

    def back_to_live(self) -> None:
        if self.mode not in ("review", "wall", "label"):
            return
        self._auto_return.stop()
        self._set_mode("live")
        self.stack.setCurrentIndex(0)
        self._set_status("Live · Space: shutter · ?: keys")

    def _restart_auto_return(self) -> None:
        if self.demo and self.mode == "review":
            self._auto_return.start(round(self.ui.demo_result_s * 1000))

    def _on_auto_return(self) -> None:
        if self.demo and self.mode == "review" and not self._saving:
            self.back_to_live()
        elif self.demo and self.mode == "review":  # the photo is still being written
            self._auto_return.start(200)

    def toggle_wall(self) -> None:
        if self.mode == "wall":
            self.back_to_live()
            return
        self._cancel_countdown(quiet=True)
        if self.mode not in ("live", "review", "label"):
            self._feedback("Burst in progress — the wall opens after it")
            return
        self._auto_return.stop()
        self._set_mode("wall")
        self.stack.setCurrentIndex(2)
        self._set_status(f"{len(self.wall.photos)} kept photos · Del: clear · Esc: back")

    # --- labelling and the personal ranker -----------------------------------------------
    def open_labelling(self) -> None:
        """L: the labelling screen for the kept bursts (Settings → Keep: the whole burst)."""
        if self.mode == "label":
            self.back_to_live()
            return
        self._cancel_countdown(quiet=True)
        if self.mode not in ("live", "review", "wall"):
            self._feedback("Burst in progress — labelling opens after it")
            return
        try:
            if self.label_store is None:
                self.label_store = LabelStore(self.data_dir)
            kept = len(self.label_store.bursts())
        except LabelsError as exc:
            self._feedback(f"Labels unavailable: {exc}")
            return
        if kept == 0:
            self._feedback("No kept bursts to label yet: Settings → Keep: the whole burst")
            return
        if self.labeller is None:
            self.labeller = LabellingWidget(self.label_store)
            self.labeller.labelled.connect(lambda _: self._label_status())
            self.labeller.finished.connect(self._label_status)
            self.labeller.failed.connect(lambda why: self._feedback(f"Labels: {why}"))
            self.label_layout.addWidget(self.labeller, 1)
        self._auto_return.stop()
        self._set_mode("label")
        self.stack.setCurrentIndex(3)
        self.setFocus()  # keys 1-5 reach the labeller through keyPressEvent
        self.labeller.start()
        self._update_ranker_display()
        self._label_status()

    def _label_status(self) -> None:
        w = self.labeller
        if w is None or self.mode != "label":
            return
        if w.pair is None:
            self._set_status("All kept bursts labelled · P: personalise · Esc: back to live")
            return
        bursts = len(w.queue)  # the comparisons left in this burst are on the screen itself
        self._set_status(f"Labelling: {bursts} burst{'s' if bursts != 1 else ''} to go")

    def personalise(self) -> None:
        """Fit the personal ranker to the labels (off this thread); the result comes back in
        _on_ranker_finished."""
        if not self.ranker.start_personalise():
            self._feedback("The ranker is already being updated")
            return
        self.personalise_button.setEnabled(False)
        self._feedback("Personalising the ranker on your labels…")

    def toggle_ranker(self) -> None:
        """Switch between the shipped and the personal ranker."""
        personal = not (self.ranker_info is not None and self.ranker_info.personal
                        and self.scorer.name == "personal")
        if not self.ranker.start_switch(personal):
            self._feedback("The ranker is already being updated")

    def _on_ranker_finished(self, result: RankerJobResult) -> None:
        if self._closed:
            return
        self.last_ranker_result = result
        self.personalise_button.setEnabled(True)
        if result.info is not None:
            self.ranker_info = result.info
        if result.scorer is not None:
            self._use_scorer(result.scorer)
        self._update_ranker_display()
        if result.kind == "personalise":
            self._show_personal_result(result)
        else:
            self._feedback(result.message)
        self.ranker_changed.emit(result)

    def _use_scorer(self, scorer: Scorer) -> None:
        """Score with `scorer` from the next frame (the scoring thread swaps it safely)."""
        self.scorer = scorer
        self.scoring.set_scorer(scorer)
        self.overlay.set_scorer(scorer.name, tuple(scorer.attribute_names))
        self.warning.setVisible(False)  # the badge was about the scorer just replaced

    def _show_personal_result(self, result: RankerJobResult) -> None:
        """The measured before/after and whether it switched, on the labelling screen (and in
        a dialog in the normal window)."""
        r = result.personal
        if r is None:
            text = result.message
        else:  # personalize's message: "<measured>. <switched or why not>"
            verdict = result.message.split(". ", 1)[1] if ". " in result.message else ""
            text = (f"Measured on {r.after['bursts']} held-out bursts ({r.after['pairs']} "
                    f"pairs): shipped pairwise {r.before['pairwise']:.2f}, top-1 "
                    f"{r.before['top1']:.2f}  →  personal pairwise {r.after['pairwise']:.2f}, "
                    f"top-1 {r.after['top1']:.2f}\n{verdict}")
        self.personal_result.setText(text)
        self.personal_result.setToolTip(result.message)
        self.personal_result.setVisible(True)
        self._feedback(text.splitlines()[0][:120])
        if self.interactive and not self.demo:
            box = QMessageBox(QMessageBox.Icon.Information, "Personal ranker", text, parent=self)
            box.setObjectName("personalised")
            box.open()

    def _update_ranker_display(self) -> None:
        """Which ranker is scoring: shipped or personal (date, label count), or another scorer."""
        if self.ranker_info is None:
            try:
                self.ranker_info = active_ranker(self.data_dir)
            except LabelsError:
                self.ranker_info = None
        info = self.ranker_info
        available = info is not None and info.available
        if self.scorer.name == "personal" and info is not None:
            text = f"Ranker: {info.describe()}"
            short = f"personal ranker · {info.label_count} labels · {info.created[:10]}"
        elif self.scorer.name == "fused":
            text = "Ranker: shipped" + (" (personal available)" if available else "")
            short = "shipped ranker"
        else:
            text, short = f"Scorer: {self.scorer.name}", self.scorer.name
        self.ranker_text = text
        self.overlay.set_ranker(short)  # on the live view, where the score is
        self.label_ranker.setText(text)
        personal_on = self.scorer.name == "personal"
        switch = "Use the shipped ranker" if personal_on else "Use the personal ranker"
        self.switch_button.setText(switch)
        self.switch_button.setVisible(available)
        self.switch_action.setText(switch)
        self.switch_action.setEnabled(available)

    def clear_wall(self) -> None:
        """Empty the wall (the photos stay on disk) and the corner thumbnail."""
        self.wall.clear()
        self.last_kept = None
        self.last_kept_button.setVisible(False)
        self._feedback("Wall cleared (the photos stay in the output folder)")

    def copy_chosen(self) -> None:
        """Ctrl+C: the frame chosen in the filmstrip (full resolution), else the last kept photo."""
        pos = self.chosen_pos() if self.mode == "review" else None
        if pos is not None:
            QGuiApplication.clipboard().setImage(to_qimage(self.review.burst.frames[pos].pixels))
            self._feedback("Copied the chosen frame")
        elif self.last_kept is not None and self.last_kept.path.is_file():
            QGuiApplication.clipboard().setImage(QImage(str(self.last_kept.path)))
            self._feedback(f"Copied {self.last_kept.path.name}")
        else:
            self._feedback("Nothing to copy yet")

    # --- keys, toggles, dialogs ----------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        key, text = event.key(), event.text()
        if event.isAutoRepeat() and key in (Qt.Key.Key_Space, Qt.Key.Key_Return,
                                            Qt.Key.Key_Enter, Qt.Key.Key_S):
            return  # a held shutter (or save) key is one press, as on a camera
        if self.mode == "label" and self._label_key(event):
            return
        review = self.mode == "review"
        if review:
            self._restart_auto_return()  # someone is looking: do not leave under their eyes
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_chosen()
        elif key == Qt.Key.Key_Space:
            self.shoot()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.save_chosen() if review else self.shoot()
        elif key == Qt.Key.Key_S and review:
            self.save_chosen()
        elif key == Qt.Key.Key_Escape:
            if self.mode == "countdown":
                self._cancel_countdown()
            elif self.mode in ("review", "wall"):
                self.back_to_live()
            elif self.isFullScreen():
                self.showNormal()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.mode == "wall":
            self.clear_wall()
        elif key == Qt.Key.Key_W:
            self.toggle_wall()
        elif key == Qt.Key.Key_L:
            self.open_labelling()
        elif key == Qt.Key.Key_D:
            self.set_demo(not self.demo)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and review:
            self.filmstrip.set_selected(self.filmstrip.selected
                                        + (1 if key == Qt.Key.Key_Right else -1))
        elif key == Qt.Key.Key_O:
            self.toggle_overlay()
        elif key == Qt.Key.Key_M:
            self.toggle_mirror()
        elif key == Qt.Key.Key_F:
            self.toggle_fullscreen()
        elif text == "?" or key == Qt.Key.Key_Question:
            self.show_help()
        else:
            super().keyPressEvent(event)

    def _label_key(self, event) -> bool:
        """Keys of the labelling screen: Esc / L back, P personalise, the rest to the labeller
        (1-5, U, Backspace). True when handled here."""
        key = event.key()
        if key in (Qt.Key.Key_Escape, Qt.Key.Key_L):
            self.back_to_live()
        elif key == Qt.Key.Key_P:
            self.personalise()
        elif self.labeller is not None and key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3,
                                                   Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_U,
                                                   Qt.Key.Key_Backspace):
            self.labeller.keyPressEvent(event)
            self._label_status()
        else:
            return False
        return True

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def set_demo(self, on: bool) -> None:
        """Demo mode on/off: fullscreen, big overlay and shutter, instructions, countdown,
        comparison and auto-return on the result screen, no banners or dialogs."""
        self.demo = on
        self.demo_action.setChecked(on)
        if self.capture is not None:
            self.capture.set_max_attempts(self._max_attempts())
        self.overlay.set_scale(DEMO_SCALE if on else 1.0)
        self.shutter_button.setStyleSheet(DEMO_SHUTTER_STYLE if on else SHUTTER_STYLE)
        for w in self._normal_only:
            w.setVisible(not on)
        self.instructions.setVisible(on and bool(INSTRUCTIONS[self.mode]))
        self.instant.setVisible(on)
        self.filmstrip.setFixedHeight(200 if on else 175)
        self.caption.setVisible(not on)  # the demo's captions sit on the two frames
        self.hint.setText(DEMO_HINT.format(self.ui.demo_result_s) if on else HINT)
        self.banner.setVisible((bool(self._notice) or bool(self._lost)) and not on)
        if on and self._notice:  # in front of a crowd the notice moves to the status line
            self._set_status(self._notice.split(" — ")[0])
        if self.review is not None:
            self._show_selected()
        if on and not self.isFullScreen():
            self._demo_made_fullscreen = True
            self.showFullScreen()
        elif not on and self._demo_made_fullscreen:
            self._demo_made_fullscreen = False
            self.showNormal()
        if on:
            self._restart_auto_return()
        else:
            self._auto_return.stop()

    def _set_mode(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        if getattr(self, "capture", None) is not None:  # no live previews nobody would see
            self.capture.previews_wanted = mode not in HIDDEN_LIVE_MODES
        # the source controls mean nothing on the labelling screen: room for its status
        self.picker.setVisible(mode != "label")
        self.resolution.setVisible(mode != "label" and not self.demo)
        text = INSTRUCTIONS[mode]
        self.instructions.setText(text)
        self.instructions.setVisible(self.demo and bool(text))

    def toggle_overlay(self) -> None:
        self.overlay.setVisible(not self.overlay.isVisible())
        self.qsettings.setValue("view/overlay", self.overlay.isVisible())

    def toggle_mirror(self) -> None:
        self.mirror = not self.mirror
        if self.capture is not None:
            self.capture.mirror = self.mirror
        self.overlay.set_frame_view(self.preview, self.mirror)
        self.config = replace(self.config, mirror=self.mirror)
        self.qsettings.setValue("view/mirror", self.mirror)
        self._feedback(f"Mirror preview {'on' if self.mirror else 'off'} (saved photos never are)")

    def help_text(self) -> str:
        return "\n".join(f"{k:<16} {v}" for k, v in SHORTCUTS)

    def show_help(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts",
                          f"<table style='font-size:18px'>{rows}</table>", parent=self)
        box.setObjectName("help")
        box.open()

    def open_settings_dialog(self) -> None:
        dlg = settings_mod.SettingsDialog(self.config.buffer, self.config.save, self,
                                          ui=self.ui, mirror=self.mirror)
        if not dlg.exec():
            return
        self.apply_settings(dlg)

    def apply_settings(self, dlg: settings_mod.SettingsDialog) -> None:
        """Take (and store) what an accepted settings dialog holds."""
        buffer, save = dlg.values()
        self.ui, mirror = dlg.ui_values()
        settings_mod.store_ui_config(self.qsettings, self.ui)
        self.wall.set_capacity(self.ui.wall_size)
        if self.demo:
            self.hint.setText(DEMO_HINT.format(self.ui.demo_result_s))
        if mirror != self.mirror:
            self.toggle_mirror()
        settings_mod.store_save(self.qsettings, save)
        settings_mod.store_buffer(self.qsettings, buffer)
        changed = buffer != self.config.buffer
        self.config = replace(self.config, buffer=buffer, save=save)
        self.overlay.set_window(buffer.seconds_before, buffer.seconds_after)
        if changed:  # a new ring buffer length: restart capture on the same source
            self.switch_source(self.config.source, persist=False)

    def open_output_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.config.save.folder)))

    # --- status line ---------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self._status_text = text
        if not self._feedback_timer.isActive():
            self.status.setText(text)

    def _feedback(self, text: str) -> None:
        """A short, highlighted message (e.g. an ignored press) that fades back to the status."""
        self.status.setText(text)
        self.status.setStyleSheet(FEEDBACK_STYLE)
        self._feedback_timer.start()

    def _restore_status(self) -> None:
        self.status.setStyleSheet(STATUS_STYLE)
        self.status.setText(self._status_text)

    # --- shutdown ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop capture (a burst in progress is cut short and handed to the scorer, and the
        camera released), let the scorer rank what it was handed, save that burst's best if
        the window never got to, then finish saving. Every thread is joined; about 2 s at most."""
        if self._closed:
            return
        self._closed = True
        self._feedback_timer.stop()
        self._auto_return.stop()
        self.countdown.cancel()
        self._stop_capture(reset_scores=False)
        if not self.scoring.stop(0.6, finish_bursts=True):
            print("viewfinder: scoring thread still busy at exit (a burst being ranked is lost)",
                  file=sys.stderr)
        self._save_unseen_burst()
        if self._queued:
            print(f"viewfinder: {len(self._queued)} chosen frame(s) not saved: the window closed "
                  "while the earlier save was written", file=sys.stderr)
        pending = self.saver.busy
        if not self.saver.stop(1.2):
            print("viewfinder: a save is still being written at exit", file=sys.stderr)
        elif pending:
            print("viewfinder: finished the pending save before exit", file=sys.stderr)
        self.ranker.stop(0.5)
        if self.label_store is not None:
            self.label_store.close()
        if self._probe is not None:
            self._probe.join(0.1)

    def _save_unseen_burst(self) -> None:
        """A burst ranked while the window was closing (cut short by the close, or ranked but
        not shown yet) is saved like any other: no lost shot."""
        review = self.scoring.last_review
        if review is None or review is self.review or not self.config.save.auto_save:
            return
        self.review, self.saved = review, None
        self._save(review, review.ranking.best.pos, None)
        print(f"viewfinder: saving the burst captured while closing "
              f"({len(review.burst.frames)} frames{', short' if review.burst.short else ''})",
              file=sys.stderr)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        super().closeEvent(event)
