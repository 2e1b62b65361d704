"""What the whole window shares: the open audit session and the loaded model."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.models.loader import LoadedModel
from core.store.session_store import SessionStore


class WorkbenchState(QObject):
    """Holds the current session and model; panels listen to its event signals."""

    session_changed = Signal(object)  # SessionStore
    model_loaded = Signal(object)  # LoadedModel
    model_unloaded = Signal()

    def __init__(self, store: SessionStore) -> None:
        super().__init__()
        self.store = store
        self.model: LoadedModel | None = None

    def set_session(self, store: SessionStore) -> None:
        old, self.store = self.store, store
        if old is not store:
            old.close()
        self.session_changed.emit(store)

    def set_model(self, loaded: LoadedModel) -> None:
        self.model = loaded
        self.model_loaded.emit(loaded)

    def unload_model(self) -> None:
        self.model = None
        self.model_unloaded.emit()
