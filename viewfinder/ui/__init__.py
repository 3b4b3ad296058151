"""The Qt layer: widgets and the threads that move frames between the pure stages.

camera -> CaptureThread (ring buffer, shutter) -> ScoringThread (scores, ranking)
-> MainWindow (overlay, filmstrip) -> SaveThread (storage). Nothing outside this package
and viewfinder/app.py imports Qt.
"""
from __future__ import annotations

import ctypes
import platform
import sys


def _guard_singleton_refcounts() -> None:
    """Work around PySide6 6.12 on CPython < 3.12: void methods (QWidget.update,
    QPainter.setPen, ...) return None without taking a reference, and emitting a bool signal
    drops one from True/False, so after a few thousand calls the process aborts ("none_dealloc:
    deallocating None", "bool_dealloc"). CPython 3.12 made these objects immortal (PEP 683);
    here we emulate that by giving each a reference count no app can spend.
    tests/test_ui_refcount.py checks that many such calls do not abort.
    """
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return
    if getattr(sys, "_viewfinder_refcount_guard", False):
        return
    for obj in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt: first field of PyObject
        refcnt.value += 1 << 48
    sys._viewfinder_refcount_guard = True


_guard_singleton_refcounts()
