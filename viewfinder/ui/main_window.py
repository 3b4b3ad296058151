"""The main window: wires CaptureThread -> ScoringThread -> overlay / filmstrip -> SaveThread.

GUI thread only. It never scores, ranks or writes files itself: it sends requests to the
threads and reacts to their signals. Modes: live -> [countdown] -> collecting (after an accepted
press) -> ranking (burst complete) -> review (ranked filmstrip) -> live (Esc); live <-> wall (the
session's kept photos).

Demo mode (`set_demo`, `--demo`, `D`, View menu) is the same pipeline dressed for a projector:
fullscreen, larger overlay and shutter button, an instruction line, a 3-2-1 countdown, the frame
at the shutter instant beside the kept one on the result screen, and an automatic return to live.
"""
from __future__ import annotations

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
from viewfinder.scoring import Scorer
from viewfinder.ui import settings as settings_mod
from viewfinder.ui.capture_thread import CaptureThread, PressResult
from viewfinder.ui.countdown_widget import CountdownWidget
from viewfinder.ui.filmstrip_widget import FilmstripWidget
from viewfinder.ui.flash_widget import FlashWidget
from viewfinder.ui.images import PREVIEW_LONG_SIDE, to_qimage
from viewfinder.ui.overlay_widget import OverlayWidget
from viewfinder.ui.photo_wall_widget import KeptPhoto, PhotoWallWidget
from viewfinder.ui.preview_widget import PreviewWidget
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
    ("Del", "clear the wall (on the wall)"),
    ("?", "this help"),
)
MODES = ("live", "countdown", "collecting", "ranking", "review", "wall")
DEMO_SCALE = 1.3  # overlay size in demo mode, relative to the normal window
INSTRUCTIONS = {
    "live": "Press Space: we keep the best moment",
    "countdown": "Get ready…   (Esc cancels)",
    "collecting": "Capturing the moments around your press…",
    "ranking": "Ranking the burst…",
    "review": "We kept the best moment   ·   Space: go again",
    "wall": "",
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
STATUS_STYLE = "color:#fff; font-size:20px; padding:4px;"
FEEDBACK_STYLE = "color:#000; background:#ff9f0a; font-size:20px; font-weight:bold; padding:4px;"


class MainWindow(QMainWindow):
    photo_saved = Signal(object)  # SaveResult with a photo
    save_failed = Signal(object)  # SaveResult without one (after the dialog, if any)
    review_shown = Signal(object)  # BurstReview
    press_ignored = Signal(str)  # why

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
        self._saving = False  # a save of the current burst is in flight
        self._queued_choice: int | None = None  # a burst position to save once it lands
        self._pressed_at: float | None = None
        self._closed = False
        self._probe: threading.Thread | None = None
        self.mirror = config.mirror if config.mirror is not None else source.is_camera

        self.setWindowTitle("Viewfinder")
        self.setStyleSheet("QMainWindow, #bar {background:#111;} "
                           "QPushButton, QToolButton {font-size:18px; padding:8px 14px;}")
        self._build(notice, scorer_warning)

        self.scoring = ScoringThread(scorer)
        self.scoring.frame_scored.connect(self._on_frame_scored)
        self.scoring.burst_ranked.connect(self._on_burst_ranked)
        self.scoring.scorer_failed.connect(self._on_scorer_failed)
        self.scoring.start()
        self.saver = SaveThread()
        self.saver.finished_job.connect(self._on_save_finished)
        self.saver.start()
        self.capture: CaptureThread | None = None
        self._start_capture(source, already_open=source_open)
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
        self.warning = QLabel(scorer_warning)
        self.warning.setStyleSheet(WARN_STYLE)
        self.warning.setVisible(bool(scorer_warning))
        self.warning.setToolTip(scorer_warning)
        self.view_button = QToolButton(text="View ▾")
        self.view_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        view = QMenu(self.view_button)
        self.demo_action = view.addAction("Demo mode\tD", lambda: self.set_demo(not self.demo))
        self.demo_action.setCheckable(True)
        view.addAction("Wall of kept photos\tW", self.toggle_wall)
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

    # --- sources -------------------------------------------------------------------------
    def _start_capture(self, source: FrameSource, *, already_open: bool) -> None:
        self.capture = CaptureThread(source, self.config.buffer, self.scoring,
                                     already_open=already_open, mirror=self.mirror)
        self.capture.preview_ready.connect(self._on_preview_ready)
        self.capture.shutter_pressed.connect(self._on_shutter_pressed)
        self.capture.burst_captured.connect(self._on_burst_captured)
        self.capture.source_failed.connect(self._on_source_failed)
        self.overlay.reset()
        self.overlay.set_source(source.name)
        self.overlay.set_frame_view(self.preview, self.mirror)
        self.picker.set_current(source.name)
        self.resolution.set_source(source)
        self.setWindowTitle(f"Viewfinder — {source.name}")
        self._set_status("Live · Space: shutter · ?: keys")
        self.capture.start()

    def _stop_capture(self) -> None:
        if self.capture is not None:
            for sig in (self.capture.preview_ready, self.capture.shutter_pressed,
                        self.capture.burst_captured, self.capture.source_failed):
                sig.disconnect()
            if not self.capture.stop(0.6):
                print("viewfinder: capture thread did not stop in time", file=sys.stderr)
            self.capture = None
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
        self.banner.setVisible(False)
        self._start_capture(source, already_open=False)

    def _fallback_to_synthetic(self, why: str) -> None:
        if not self.config.source.startswith("synthetic"):
            self.switch_source("synthetic", persist=False)
        self._notify(f"{why} — showing the synthetic scene instead. "
                     "Pick another source from the Source menu.")

    def _notify(self, text: str) -> None:
        """A notice about the source: the yellow banner, or in demo mode (on a projector, in
        front of a crowd) only the status line."""
        self._notice = text
        self.banner.setText(text)
        self.banner.setToolTip(text)
        self.banner.setVisible(not self.demo)
        if self.demo:
            self._set_status(text.split(" — ")[0])

    def _on_source_failed(self, message: str) -> None:
        if self.config.source.startswith("synthetic"):
            self._notify(f"Source failed: {message}")
            self._set_status("No source")
            return
        self._fallback_to_synthetic(message)

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
        if self.mode not in ("review", "wall"):
            self.preview.set_image(p.image)

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
        if self.mode in ("review", "wall"):
            self.back_to_live()
        if self.mode in ("collecting", "ranking"):
            self._feedback("Burst in progress — press ignored")
            self.press_ignored.emit("burst in progress")
            return
        if self.capture is None:
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
        self._set_mode("ranking")
        self._set_status(f"Ranking {n} frames{' (short burst)' if short else ''}…")

    def _on_scorer_failed(self, message: str) -> None:
        self.warning.setText("⚠ scorer error")
        self.warning.setToolTip(message)
        self.warning.setVisible(True)
        print(f"viewfinder: {message}", file=sys.stderr)

    # --- review --------------------------------------------------------------------------
    def _on_burst_ranked(self, review: BurstReview) -> None:
        if self._closed:
            return
        self.review = review
        self.saved = None
        self._queued_choice = None
        self._set_mode("review")
        self.shutter_button.setText("●  Shutter")
        self.overlay.mark_press(None)
        self.filmstrip.set_review(review)
        self._show_selected()
        self.stack.setCurrentIndex(1)
        self._restart_auto_return()
        best = review.ranking.best
        self._set_status(f"Best of {len(review.burst.frames)} at "
                         f"{(best.t_ns - review.burst.press_t_ns) / 1e9:+.1f} s from the press")
        self.review_shown.emit(review)
        if self.config.save.auto_save:
            self.save_chosen(best.pos)

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
        parts = [f"#{i + 1} of {len(review.ranking.frames)}", score,
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

    def save_chosen(self, pos: int | None = None) -> None:
        """Save a frame of the burst under review; replaces this burst's earlier save."""
        review = self.review
        pos = self.chosen_pos() if pos is None else pos
        if review is None or pos is None:
            return
        if self._saving:
            self._queued_choice = pos  # replace once the save in flight has landed
            return
        if self.saved is not None and self.saved.job.pos == pos:
            self._feedback(f"Already saved: {self.saved.photo.path.name}")
            return
        self._submit_save(SaveJob(
            review.burst, review.ranking, pos, self.config.save.folder, self.config.save.fmt,
            self.config.save.jpeg_quality, self.scorer.name, self.scorer.version,
            replaces=self.saved.photo if self.saved is not None else None,
            pressed_at=self._pressed_at if self.saved is None else None,
            keep_burst=self.ui.keep_whole_burst, scores=review.scores,
            source=self.capture.source.name if self.capture is not None else "",
            data_dir=self.data_dir))

    def _submit_save(self, job: SaveJob) -> None:
        self._saving = True
        self._set_status("Saving…")
        self.saver.submit(job)

    def _on_save_finished(self, result: SaveResult) -> None:
        self._saving = False
        if result.photo is None:
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
        if self._queued_choice is not None:
            pos, self._queued_choice = self._queued_choice, None
            self.save_chosen(pos)

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
        box = QMessageBox(QMessageBox.Icon.Warning, "Could not save the photo",
                          f"{result.error}\n\nThe burst is still in memory.", parent=self)
        retry = box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)
        other = box.addButton("Choose another folder…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is retry:
            self._submit_save(result.job)
        elif box.clickedButton() is other:
            folder = QFileDialog.getExistingDirectory(self, "Save photos in",
                                                      str(self.config.save.folder))
            if folder:
                self.config = replace(self.config,
                                      save=replace(self.config.save, folder=Path(folder)))
                settings_mod.store_save(self.qsettings, self.config.save)
                self._submit_save(result.job.to(Path(folder)))
                return
            self.save_failed.emit(result)
        else:
            self.save_failed.emit(result)

    def back_to_live(self) -> None:
        if self.mode not in ("review", "wall"):
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
        if self.mode not in ("live", "review"):
            self._feedback("Burst in progress — the wall opens after it")
            return
        self._auto_return.stop()
        self._set_mode("wall")
        self.stack.setCurrentIndex(2)
        self._set_status(f"{len(self.wall.photos)} kept photos · Del: clear · Esc: back")

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

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def set_demo(self, on: bool) -> None:
        """Demo mode on/off: fullscreen, big overlay and shutter, instructions, countdown,
        comparison and auto-return on the result screen, no banners or dialogs."""
        self.demo = on
        self.demo_action.setChecked(on)
        self.overlay.set_scale(DEMO_SCALE if on else 1.0)
        self.shutter_button.setStyleSheet(DEMO_SHUTTER_STYLE if on else SHUTTER_STYLE)
        for w in self._normal_only:
            w.setVisible(not on)
        self.instructions.setVisible(on and bool(INSTRUCTIONS[self.mode]))
        self.instant.setVisible(on)
        self.filmstrip.setFixedHeight(200 if on else 175)
        self.caption.setVisible(not on)  # the demo's captions sit on the two frames
        self.hint.setText(DEMO_HINT.format(self.ui.demo_result_s) if on else HINT)
        self.banner.setVisible(bool(self._notice) and not on)
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
        """Stop the scorer, then capture (which releases the camera), then finish saving."""
        if self._closed:
            return
        self._closed = True
        self._feedback_timer.stop()
        self._auto_return.stop()
        self.countdown.cancel()
        if not self.scoring.stop(0.4):
            print("viewfinder: scoring thread still busy at exit", file=sys.stderr)
        self._stop_capture()
        pending = self.saver.busy
        if not self.saver.stop(0.9):
            print("viewfinder: a save is still being written at exit", file=sys.stderr)
        elif pending:
            print("viewfinder: finished the pending save before exit", file=sys.stderr)
        if self._probe is not None:
            self._probe.join(0.1)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        super().closeEvent(event)
