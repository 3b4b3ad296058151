"""PySide6 6.12 on CPython 3.11 drops references to None (void methods) and True/False (bool
signals); a window that runs for a while would abort. viewfinder.ui guards against it (see its
docstring)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")

SCRIPT = """
import viewfinder.ui
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
class Flags(QObject):
    changed = Signal(bool)
app = QApplication([])
w, flags = QWidget(), Flags()
flags.changed.connect(lambda on: None)
for _ in range(50_000):
    w.update()
    flags.changed.emit(True)
    flags.changed.emit(False)
print("alive")
"""


def test_many_qt_calls_do_not_abort_the_app():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                       timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert r.returncode == 0 and "alive" in r.stdout, r.stderr[-500:]
