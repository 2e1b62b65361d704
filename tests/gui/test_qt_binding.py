"""The Qt binding itself: a long job emits progress signals by the thousand, so an emit must not
leak or drop references (PySide6 6.12.0 dropped one on Py_True per emit and aborted the window)."""

from __future__ import annotations

import sys


def test_emitting_a_signal_keeps_the_refcount_of_true_and_false(qapp) -> None:
    from PySide6.QtCore import QObject, Signal

    class Source(QObject):
        happened = Signal(int, str)

    source = Source()
    source.happened.connect(lambda i, kind: kind == "invert")
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(200):
        source.happened.emit(i, "organism")
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
