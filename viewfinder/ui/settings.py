"""Persistent settings (QSettings) and the settings dialog. GUI thread only.

Persisted: source, buffer lengths (seconds before/after, burst fps), output folder, format,
JPEG quality, auto-save, mirror, and the window's own options (`UiConfig`: countdown, flash,
keep the whole burst, demo result time, size of the wall of kept photos). Values are written
only when the user changes them in the window; command-line options apply to one run and are
never written back.
Tests and scripted runs point `VIEWFINDER_SETTINGS` (or `open_settings(path)`) at an INI file
so they never touch the user's settings.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton,
                               QSpinBox, QWidget)

from viewfinder.config import AppConfig, BufferConfig, SaveConfig, default_output_folder

SETTINGS_ENV = "VIEWFINDER_SETTINGS"
FORMATS = ("jpeg", "png")
KEEP_CHOICES = ("the best frame only", "the whole burst (for labelling)")


@dataclass(frozen=True)
class UiConfig:
    """Options of the window itself (the pipeline's are in viewfinder.config)."""

    countdown_s: int = 0  # seconds of 3-2-1 before the burst; 0: shoot at once
    demo_countdown_s: int = 3  # the same in demo mode (Photo Booth and Cheese use 3 s)
    flash: bool = True  # white screen flash when the burst starts
    keep_whole_burst: bool = False  # also keep every frame of the burst for labelling
    demo_result_s: float = 8.0  # demo mode: result screen shown this long, then back to live
    wall_size: int = 12  # kept photos on the wall (the newest)


def open_settings(path: str | os.PathLike | None = None) -> QSettings:
    """The user's settings, or an INI file at `path` / $VIEWFINDER_SETTINGS."""
    path = path or os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings("viewfinder", "Viewfinder")


def pictures_folder() -> Path:
    """<QStandardPaths PicturesLocation>/Viewfinder."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return Path(loc) / "Viewfinder" if loc else default_output_folder()


def _get(qs: QSettings, key: str, default, kind):
    """A typed value; a missing or corrupt entry gives the default, never an exception."""
    raw = qs.value(key)
    if raw is None or raw == "":
        return default
    try:
        if kind is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
        return kind(raw)
    except (TypeError, ValueError):
        return default


def load_config(qs: QSettings) -> AppConfig:
    """AppConfig from stored settings, defaults for anything missing or out of range."""
    d = BufferConfig()
    before = _get(qs, "buffer/seconds_before", d.seconds_before, float)
    after = _get(qs, "buffer/seconds_after", d.seconds_after, float)
    fps = _get(qs, "buffer/burst_fps", d.burst_fps, float)
    buffer = BufferConfig(seconds_before=before if 0 <= before <= 10 else d.seconds_before,
                          seconds_after=after if 0 <= after <= 10 else d.seconds_after,
                          burst_fps=fps if 0 < fps <= 60 else d.burst_fps)
    fmt = _get(qs, "save/format", "jpeg", str)
    quality = _get(qs, "save/jpeg_quality", 95, int)
    folder = _get(qs, "save/folder", "", str)
    save = SaveConfig(folder=Path(folder) if folder else pictures_folder(),
                      fmt=fmt if fmt in FORMATS else "jpeg",
                      jpeg_quality=quality if 1 <= quality <= 100 else 95,
                      auto_save=_get(qs, "save/auto_save", True, bool))
    mirror_raw = qs.value("view/mirror")
    mirror = None if mirror_raw in (None, "") else _get(qs, "view/mirror", False, bool)
    return AppConfig(source=_get(qs, "source", "auto", str) or "auto", buffer=buffer,
                     save=save, mirror=mirror, overlay=_get(qs, "view/overlay", True, bool))


def load_ui_config(qs: QSettings) -> UiConfig:
    d = UiConfig()

    def clamp(key: str, default, kind, lo, hi):
        v = _get(qs, key, default, kind)
        return v if lo <= v <= hi else default

    return UiConfig(countdown_s=clamp("capture/countdown", d.countdown_s, int, 0, 10),
                    demo_countdown_s=clamp("demo/countdown", d.demo_countdown_s, int, 0, 10),
                    flash=_get(qs, "capture/flash", d.flash, bool),
                    keep_whole_burst=_get(qs, "save/keep_whole_burst", d.keep_whole_burst, bool),
                    demo_result_s=clamp("demo/result_seconds", d.demo_result_s, float, 1, 600),
                    wall_size=clamp("demo/wall_size", d.wall_size, int, 1, 60))


def store_ui_config(qs: QSettings, ui: UiConfig) -> None:
    qs.setValue("capture/countdown", ui.countdown_s)
    qs.setValue("demo/countdown", ui.demo_countdown_s)
    qs.setValue("capture/flash", ui.flash)
    qs.setValue("save/keep_whole_burst", ui.keep_whole_burst)
    qs.setValue("demo/result_seconds", ui.demo_result_s)
    qs.setValue("demo/wall_size", ui.wall_size)


def store_buffer(qs: QSettings, buffer: BufferConfig) -> None:
    qs.setValue("buffer/seconds_before", buffer.seconds_before)
    qs.setValue("buffer/seconds_after", buffer.seconds_after)
    qs.setValue("buffer/burst_fps", buffer.burst_fps)


def store_save(qs: QSettings, save: SaveConfig) -> None:
    qs.setValue("save/folder", str(save.folder))
    qs.setValue("save/format", save.fmt)
    qs.setValue("save/jpeg_quality", save.jpeg_quality)
    qs.setValue("save/auto_save", save.auto_save)


class SettingsDialog(QDialog):
    """Burst window and rate, format, quality, output folder, auto-save, countdown, flash,
    mirror, keep the best frame or the whole burst, demo result time."""

    def __init__(self, buffer: BufferConfig, save: SaveConfig, parent: QWidget | None = None,
                 *, ui: UiConfig | None = None, mirror: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Viewfinder settings")
        self._buffer, self._save, self._ui = buffer, save, ui or UiConfig()
        ui = self._ui
        form = QFormLayout(self)
        self.before = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=5.0, singleStep=0.1,
                                     value=buffer.seconds_before, suffix=" s")
        self.after = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=5.0, singleStep=0.1,
                                    value=buffer.seconds_after, suffix=" s")
        self.fps = QDoubleSpinBox(decimals=0, minimum=1, maximum=30, value=buffer.burst_fps,
                                  suffix=" frames/s")
        self.fmt = QComboBox()
        self.fmt.addItems(["jpeg", "png"])
        self.fmt.setCurrentText(save.fmt)
        self.quality = QSpinBox(minimum=50, maximum=100, value=save.jpeg_quality)
        self.folder = QLineEdit(str(save.folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        self.auto_save = QCheckBox("save the best frame immediately", checked=save.auto_save)
        form.addRow("Seconds before the press", self.before)
        form.addRow("Seconds after the press", self.after)
        form.addRow("Burst rate", self.fps)
        form.addRow("Format", self.fmt)
        form.addRow("JPEG quality", self.quality)
        form.addRow("Output folder", row)
        form.addRow("Auto-save", self.auto_save)
        self.keep = QComboBox()
        self.keep.addItems(KEEP_CHOICES)
        self.keep.setCurrentIndex(int(ui.keep_whole_burst))
        form.addRow("Keep", self.keep)
        self.countdown = QSpinBox(minimum=0, maximum=10, value=ui.countdown_s, suffix=" s",
                                  specialValueText="off")
        self.demo_countdown = QSpinBox(minimum=0, maximum=10, value=ui.demo_countdown_s,
                                       suffix=" s", specialValueText="off")
        form.addRow("Countdown", self.countdown)
        form.addRow("Countdown in demo mode", self.demo_countdown)
        self.flash = QCheckBox("white screen flash on capture", checked=ui.flash)
        form.addRow("Flash", self.flash)
        self.mirror = QCheckBox("mirror the preview (photos never are)", checked=mirror)
        form.addRow("Mirror", self.mirror)
        self.demo_result = QDoubleSpinBox(decimals=0, minimum=1, maximum=600,
                                          value=ui.demo_result_s, suffix=" s")
        form.addRow("Demo: result shown for", self.demo_result)
        self.wall_size = QSpinBox(minimum=1, maximum=60, value=ui.wall_size, suffix=" photos")
        form.addRow("Wall of kept photos", self.wall_size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Output folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def values(self) -> tuple[BufferConfig, SaveConfig]:
        buffer = replace(self._buffer, seconds_before=self.before.value(),
                         seconds_after=self.after.value(), burst_fps=self.fps.value())
        save = replace(self._save, fmt=self.fmt.currentText(), jpeg_quality=self.quality.value(),
                       folder=Path(self.folder.text()).expanduser(),
                       auto_save=self.auto_save.isChecked())
        return buffer, save

    def ui_values(self) -> tuple[UiConfig, bool]:
        """(window options, mirror)."""
        ui = replace(self._ui, countdown_s=self.countdown.value(),
                     demo_countdown_s=self.demo_countdown.value(), flash=self.flash.isChecked(),
                     keep_whole_burst=self.keep.currentIndex() == 1,
                     demo_result_s=self.demo_result.value(), wall_size=self.wall_size.value())
        return ui, self.mirror.isChecked()
