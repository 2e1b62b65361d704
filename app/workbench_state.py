"""What the whole window shares: the open audit session, the model choice and the loaded model.

The model is chosen once, on the Models page (``choose``); every job page shows ``choice`` and
builds its request from it, so a 4-bit or bfloat16 choice reaches every job and its record.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app import collector

from core.models.choice import ModelChoice
from core.models.loader import LoadedModel
from core.store.session_store import SessionStore


class WorkbenchState(QObject):
    """Holds the current session, model choice and loaded model; panels listen to its signals."""

    session_changed = Signal(object)  # SessionStore
    model_chosen = Signal(object)  # ModelChoice
    model_loaded = Signal(object)  # LoadedModel
    page_requested = Signal(str)  # a page asks the window to show another (e.g. "Models")
    triggers_sent = Signal(list, object)  # candidate triggers for the Defenses page, and their inversion run id

    def __init__(self, store: SessionStore) -> None:
        super().__init__()
        self.store = store
        self.choice = ModelChoice()
        self.model: LoadedModel | None = None

    def choose(self, choice: ModelChoice) -> None:
        if choice != self.choice:
            self.choice = choice
            self.model_chosen.emit(choice)

    def set_session(self, store: SessionStore) -> None:
        old, self.store = self.store, store
        if old is not store:
            old.close()
        self.session_changed.emit(store)

    def set_model(self, loaded: LoadedModel) -> None:
        if self.model is not None and self.model is not loaded:
            collector.release()  # the replaced model's cycles may go (see app/collector.py)
        self.model = loaded
        self.model_loaded.emit(loaded)
