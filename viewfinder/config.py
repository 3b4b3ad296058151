"""Frozen configuration dataclasses. Pure; read by every layer, changed only by making new ones."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BufferConfig:
    seconds_before: float = 0.7  # pre-shutter window; people press late, so it leans before
    seconds_after: float = 0.3
    burst_fps: float = 10.0  # rate at which frames are sampled from the camera stream
    settle_seconds: float = 0.5  # frames dropped after opening while exposure settles

    @property
    def pre_frames(self) -> int:
        return max(0, round(self.seconds_before * self.burst_fps))

    @property
    def post_frames(self) -> int:
        return max(0, round(self.seconds_after * self.burst_fps))

    @property
    def burst_len(self) -> int:
        return self.pre_frames + 1 + self.post_frames


def default_output_folder() -> Path:
    """<user's pictures>/Viewfinder, resolved without Qt (the UI layer may override it)."""
    return Path.home() / "Pictures" / "Viewfinder"


@dataclass(frozen=True)
class SaveConfig:
    folder: Path = field(default_factory=default_output_folder)
    fmt: str = "jpeg"  # "jpeg" or "png"
    jpeg_quality: int = 95
    auto_save: bool = True


@dataclass(frozen=True)
class AppConfig:
    source: str = "auto"  # "auto" (default camera, else synthetic), camera index, file, folder, "synthetic"
    scorer: str = "default"
    buffer: BufferConfig = field(default_factory=BufferConfig)
    save: SaveConfig = field(default_factory=SaveConfig)
    mirror: bool | None = None  # None: mirror camera previews, not files/synthetic
    overlay: bool = True
