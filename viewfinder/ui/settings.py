"""Persistent settings (QSettings) and the settings dialog. GUI thread only.

Persisted: source, buffer lengths (seconds before/after, burst fps), output folder, format,
JPEG quality, auto-save, mirror. Values are written only when the user changes them in the
window; command-line options apply to one run and are never written back.
Tests and scripted runs point `VIEWFINDER_SETTINGS` (or `open_settings(path)`) at an INI file
so they never touch the user's settings.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton,
                               QSpinBox, QWidget)

from viewfinder.config import AppConfig, BufferConfig, SaveConfig, default_output_folder

SETTINGS_ENV = "VIEWFINDER_SETTINGS"
FORMATS = ("jpeg", "png")


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
    """Burst window, burst rate, format, quality, output folder, auto-save."""

    def __init__(self, buffer: BufferConfig, save: SaveConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Viewfinder settings")
        self._buffer, self._save = buffer, save
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
