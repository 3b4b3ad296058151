"""The main window: wires CaptureThread -> ScoringThread -> overlay / filmstrip -> SaveThread.

GUI thread only. It never scores, ranks or writes files itself: it sends requests to the
threads and reacts to their signals. Modes: live -> collecting (after an accepted press) ->
ranking (burst complete) -> review (ranked filmstrip) -> live (Esc).
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QGridLayout, QHBoxLayout, QLabel, QMainWindow,
                               QMessageBox, QPushButton, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget)

from viewfinder.camera import FrameSource, SourceError, list_cameras, open_source
from viewfinder.config import AppConfig
from viewfinder.scoring import Scorer
from viewfinder.ui import settings as settings_mod
from viewfinder.ui.capture_thread import CaptureThread, PressResult
from viewfinder.ui.filmstrip_widget import FilmstripWidget
from viewfinder.ui.images import to_qimage
from viewfinder.ui.overlay_widget import OverlayWidget
from viewfinder.ui.preview_widget import PreviewWidget
from viewfinder.ui.save_thread import SaveJob, SaveResult, SaveThread
from viewfinder.ui.scoring_thread import BurstReview, LiveScore, ScoringThread
from viewfinder.ui.source_picker import SourcePickerButton

SHORTCUTS = (
    ("Space / Enter", "shutter (live view)"),
    ("← / →, click", "pick another frame (filmstrip)"),
    ("Enter / S", "save the chosen frame (filmstrip)"),
    ("Esc", "back to live"),
    ("Ctrl+C", "copy the chosen frame (filmstrip)"),
    ("O", "score overlay on/off"),
    ("M", "mirror the preview on/off"),
    ("F", "fullscreen on/off"),
    ("?", "this help"),
)

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
                 scorer_warning: str = "", interactive: bool = True) -> None:
        super().__init__()
        self.config = config
        self.scorer = scorer
        self.qsettings = settings
        self.interactive = interactive  # False in scripted mode: no dialogs
        self.mode = "live"
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

        self.stack = QStackedWidget()
        live = QWidget()
        grid = QGridLayout(live)
        grid.setContentsMargins(0, 0, 0, 0)
        self.preview = PreviewWidget()
        self.overlay = OverlayWidget()
        self.overlay.set_scorer(self.scorer.name, tuple(self.scorer.attribute_names))
        self.overlay.set_window(self.config.buffer.seconds_before, self.config.buffer.seconds_after)
        self.overlay.setVisible(self.config.overlay)
        grid.addWidget(self.preview, 0, 0)
        grid.addWidget(self.overlay, 0, 0)
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
        hint = QLabel("← → pick   ·   Enter / S save this one   ·   Esc back to live   ·   "
                      "Ctrl+C copy   ·   ? keys")
        hint.setStyleSheet("background:#111; color:#ddd; font-size:18px; padding:6px;")
        rv.addWidget(self.caption)
        rv.addWidget(self.big, 1)
        rv.addWidget(self.filmstrip)
        rv.addWidget(hint)
        self.stack.addWidget(review)
        outer.addWidget(self.stack, 1)

        bar = QWidget(objectName="bar")
        row = QHBoxLayout(bar)
        self.picker = SourcePickerButton()
        self.picker.source_chosen.connect(self.switch_source)
        self.shutter_button = QPushButton("●  Shutter")
        self.shutter_button.setStyleSheet(
            "QPushButton {font-size:26px; font-weight:bold; padding:10px 36px; color:#000;"
            "background:#fff; border-radius:24px;} QPushButton:pressed {background:#ffd60a;}")
        self.shutter_button.clicked.connect(self.press_shutter)
        self.status = QLabel("Starting…")
        self.status.setStyleSheet(STATUS_STYLE)
        for label in (self.status, self.caption):  # long paths must not widen the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.warning = QLabel(scorer_warning)
        self.warning.setStyleSheet(WARN_STYLE)
        self.warning.setVisible(bool(scorer_warning))
        self.warning.setToolTip(scorer_warning)
        buttons = []
        for text, slot in (("Settings", self.open_settings_dialog),
                           ("Open folder", self.open_output_folder), ("?", self.show_help)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.append(b)
        row.addWidget(self.picker)
        row.addWidget(self.warning)
        row.addWidget(self.status, 1)
        row.addWidget(self.shutter_button)
        for b in buttons:
            row.addWidget(b)
        outer.addWidget(bar)
        for w in (self.picker, self.shutter_button, *buttons):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window, not a button
        self.setCentralWidget(central)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._feedback_timer = QTimer(self, singleShot=True, interval=1800)
        self._feedback_timer.timeout.connect(self._restore_status)
        self._status_text = ""
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
        self.picker.set_current(source.name)
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
        self._stop_capture()
        if self.config.mirror is None:
            self.mirror = source.is_camera
        self.config = replace(self.config, source=spec)
        if persist:
            self.qsettings.setValue("source", spec)
        self.banner.setVisible(False)
        self._start_capture(source, already_open=False)

    def _fallback_to_synthetic(self, why: str) -> None:
        if not self.config.source.startswith("synthetic"):
            self.switch_source("synthetic", persist=False)
        self.banner.setText(f"{why} — showing the synthetic scene instead. "
                            "Pick another source from the Source menu.")
        self.banner.setVisible(True)

    def _on_source_failed(self, message: str) -> None:
        if self.config.source.startswith("synthetic"):
            self.banner.setText(f"Source failed: {message}")
            self.banner.setVisible(True)
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
        if p is not None and self.mode != "review":
            self.preview.set_image(p.image)

    def _on_frame_scored(self, live: LiveScore) -> None:
        self.overlay.add_score(live)

    def press_shutter(self) -> None:
        if self.mode == "review":
            self.back_to_live()
        if self.mode in ("collecting", "ranking"):
            self._feedback("Burst in progress — press ignored")
            self.press_ignored.emit("burst in progress")
            return
        if self.capture is None:
            return
        self.mode = "collecting"
        self._pressed_at = time.monotonic()
        self.shutter_button.setText("●  Capturing…")
        self.capture.request_shutter()

    def _on_shutter_pressed(self, result: PressResult) -> None:
        if result.accepted:
            self.overlay.mark_press(result.press_t_ns)
            self._set_status(f"Capturing the burst ({result.pre_frames} frames before the press)…")
            return
        if self.mode == "collecting" and not (self.capture and self.capture.collecting):
            self.mode = "live"
            self.shutter_button.setText("●  Shutter")
        self._feedback(result.reason[:1].upper() + result.reason[1:])
        self.press_ignored.emit(result.reason)

    def _on_burst_captured(self, n: int, short: bool) -> None:
        self.mode = "ranking"
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
        self.mode = "review"
        self.shutter_button.setText("●  Shutter")
        self.overlay.mark_press(None)
        self.filmstrip.set_review(review)
        self._show_selected()
        self.stack.setCurrentIndex(1)
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
            pressed_at=self._pressed_at if self.saved is None else None))

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
        ms = f" in {result.shutter_to_saved_ms:.0f} ms" \
            if result.shutter_to_saved_ms is not None else ""
        self._set_status(f"Saved{ms}: {result.photo.path.name}")
        self.status.setToolTip(str(result.photo.path))
        self.photo_saved.emit(result)
        if self._queued_choice is not None:
            pos, self._queued_choice = self._queued_choice, None
            self.save_chosen(pos)

    def _on_save_error(self, result: SaveResult) -> None:
        self._set_status(f"Save failed: {result.error}")
        if not self.interactive or self._closed:
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
        if self.mode != "review":
            return
        self.mode = "live"
        self.stack.setCurrentIndex(0)
        self._set_status("Live · Space: shutter · ?: keys")

    def copy_chosen(self) -> None:
        pos = self.chosen_pos()
        if pos is None:
            return
        QGuiApplication.clipboard().setImage(to_qimage(self.review.burst.frames[pos].pixels))
        self._feedback("Copied the chosen frame")

    # --- keys, toggles, dialogs ----------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        key, text = event.key(), event.text()
        review = self.mode == "review"
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_chosen()
        elif key == Qt.Key.Key_Space:
            self.press_shutter()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.save_chosen() if review else self.press_shutter()
        elif key == Qt.Key.Key_S and review:
            self.save_chosen()
        elif key == Qt.Key.Key_Escape:
            if self.isFullScreen() and not review:
                self.showNormal()
            self.back_to_live()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and review:
            self.filmstrip.set_selected(self.filmstrip.selected
                                        + (1 if key == Qt.Key.Key_Right else -1))
        elif key == Qt.Key.Key_O:
            self.toggle_overlay()
        elif key == Qt.Key.Key_M:
            self.toggle_mirror()
        elif key == Qt.Key.Key_F:
            self.showNormal() if self.isFullScreen() else self.showFullScreen()
        elif text == "?" or key == Qt.Key.Key_Question:
            self.show_help()
        else:
            super().keyPressEvent(event)

    def toggle_overlay(self) -> None:
        self.overlay.setVisible(not self.overlay.isVisible())
        self.qsettings.setValue("view/overlay", self.overlay.isVisible())

    def toggle_mirror(self) -> None:
        self.mirror = not self.mirror
        if self.capture is not None:
            self.capture.mirror = self.mirror
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
        dlg = settings_mod.SettingsDialog(self.config.buffer, self.config.save, self)
        if not dlg.exec():
            return
        buffer, save = dlg.values()
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
