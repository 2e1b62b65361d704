"""Keeping Python's cycle collector from stalling the UI thread while a job loads a model in process.

Loading a model creates hundreds of thousands of Python objects; each full collection the loading
triggers scans them all while holding the GIL, which stops the UI thread too. Measured on 2 cores
(embedded model load + a short chat on a worker thread): 605 collections, the longest four 200–410 ms.
With the collector paused during the load and what it created frozen afterwards (moved out of every
later scan, the pattern CPython documents for ``gc.freeze``), 9 collections and none of those pauses.
Garbage cycles the load left behind are released when the model is unloaded (:func:`release`).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def quiet_collection() -> Iterator[None]:
    """Run a model load without cycle collections; freeze what it made (long-lived) afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def release() -> None:
    """A model was unloaded: hand frozen objects back to the collector, so cycles among them go."""
    gc.unfreeze()
