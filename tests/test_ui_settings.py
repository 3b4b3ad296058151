"""Settings persistence and the scorer fallback, without starting the pipeline."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from viewfinder.app import apply_args, build_parser, make_scorer_or_fallback  # noqa: E402
from viewfinder.config import BufferConfig, SaveConfig  # noqa: E402
from viewfinder.ui.settings import (load_config, open_settings, pictures_folder,  # noqa: E402
                                    store_buffer, store_save)


def test_settings_round_trip_and_corrupt_values_fall_back(qapp, tmp_path):
    qs = open_settings(tmp_path / "s.ini")
    store_buffer(qs, BufferConfig(seconds_before=1.2, seconds_after=0.5, burst_fps=15))
    store_save(qs, SaveConfig(folder=tmp_path / "pics", fmt="png", jpeg_quality=80,
                              auto_save=False))
    qs.setValue("view/mirror", False)
    qs.sync()
    cfg = load_config(open_settings(tmp_path / "s.ini"))
    assert (cfg.buffer.seconds_before, cfg.buffer.seconds_after, cfg.buffer.burst_fps) == \
        (1.2, 0.5, 15)
    assert cfg.save == SaveConfig(folder=tmp_path / "pics", fmt="png", jpeg_quality=80,
                                  auto_save=False)
    assert cfg.mirror is False

    bad = tmp_path / "bad.ini"
    bad.write_text("[buffer]\nseconds_before=lots\nburst_fps=-3\n[save]\nformat=gif\n")
    cfg = load_config(open_settings(bad))
    assert cfg.buffer == BufferConfig() and cfg.save.fmt == "jpeg"
    assert cfg.save.folder == pictures_folder() and cfg.mirror is None and cfg.source == "auto"


def test_command_line_overrides_settings_for_one_run(qapp, tmp_path):
    cfg = load_config(open_settings(tmp_path / "empty.ini"))
    args = build_parser().parse_args(["--before", "1", "--burst-fps", "5", "--output",
                                      str(tmp_path), "--no-mirror", "--format", "png"])
    cfg = apply_args(cfg, args)
    assert cfg.buffer.pre_frames == 5 and cfg.buffer.post_frames == 2
    assert cfg.save.folder == Path(tmp_path) and cfg.save.fmt == "png" and cfg.mirror is False
    assert not (tmp_path / "empty.ini").exists()


def test_unbuildable_scorer_falls_back_to_sharpness_with_a_warning(capsys):
    scorer, warning = make_scorer_or_fallback("no-such-scorer")
    assert scorer.name == "sharpness" and "fallback" in warning
    assert "no-such-scorer" in capsys.readouterr().err
