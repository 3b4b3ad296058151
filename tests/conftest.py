"""Shared fixtures. Qt runs offscreen; tests never depend on ../shared except via `dev_data`."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent


def _dev_data_dir() -> Path | None:
    env = os.environ.get("VIEWFINDER_DEV_DATA")
    candidates = [Path(env)] if env else [REPO.parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture
def dev_data() -> Path:
    """The project's development data (../shared/data or $VIEWFINDER_DEV_DATA); skips if absent."""
    d = _dev_data_dir()
    if d is None:
        pytest.skip("dev data not found: set VIEWFINDER_DEV_DATA to the shared data folder")
    return d


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run slow tests (long soak, ...)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_thread_leak():
    """Fail a test that leaves a Python thread running (every thread must have stop())."""
    before = set(threading.enumerate())
    yield
    import time

    deadline = time.monotonic() + 2.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()
                  and not t.daemon and t is not threading.current_thread()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture
def window_factory(qtbot, tmp_path):
    """Build real MainWindows (offscreen) on a synthetic scene; every one is closed afterwards.

    make(spec, buffer=, folder=, auto_save=, mirror=, scorer=, source=, show=, **MainWindow kwargs)
    saves into tmp_path/out and keeps settings in tmp_path/s.ini, never the user's.
    """
    from viewfinder.camera import open_source
    from viewfinder.config import AppConfig, BufferConfig, SaveConfig
    from viewfinder.scoring import make_scorer
    from viewfinder.ui.main_window import MainWindow
    from viewfinder.ui.settings import open_settings

    made = []

    def make(spec, *, buffer=None, folder=None, auto_save=True, mirror=False, scorer=None,
             source=None, show=True, **window_kwargs):
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        config = AppConfig(source=spec, buffer=buffer or BufferConfig(), mirror=mirror,
                           save=SaveConfig(folder=folder or out, auto_save=auto_save))
        window_kwargs.setdefault("interactive", False)
        w = MainWindow(config, scorer or make_scorer("sharpness"),
                       settings=open_settings(tmp_path / "s.ini"),
                       source=source or open_source(spec), **window_kwargs)
        qtbot.addWidget(w)
        if show:
            w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
