"""A table model over one run's candidates in the audit store, paged and sorted in SQL.

Rows are fetched 500 at a time as the view scrolls (``canFetchMore``/``fetchMore``), so a buffer
of 100 k candidates opens instantly; sorting and filtering re-query the store.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.widgets.plain_label import plain_html
from core.store.queries import count_candidates, list_candidates
from core.store.session_store import SessionStore

PAGE = 500
# (header, sort key in the store or None, value from a candidate row, tooltip)
COLUMNS = [
    ("Candidate", "text", lambda c: c["text"], "The candidate trigger text"),
    ("Reward", "reward", lambda c: round(c["reward"], 4), "R_asr + dense − length penalty (−0.5 when rejected)"),
    ("R_asr", "r_asr", lambda c: round(c["r_asr"], 4), "Share of held-out prompts whose answer shows the behaviour "
     "(a minimised candidate: on minimisation's larger set)"),
    ("Dense", None, lambda c: round(c["parts"].get("dense", 0.0), 4), "exp(mean target log-prob): the signal below the cliff"),
    ("Length penalty", None, lambda c: round(c["parts"].get("length", 0.0), 4), "Piecewise penalty for extra words"),
    ("Position", None, lambda c: c["parts"].get("position", ""), "Where it was inserted into the held-out prompts: "
     "prefix or suffix, the better of the two when the position is unknown"),
    ("Words", "length", lambda c: len(c["text"].split()), "Length of the candidate in words"),
    ("First step", "first_step", lambda c: c["first_step"], "GRPO step it was first scored at"),
    ("Last step", "last_step", lambda c: c["last_step"], "GRPO step it was last seen at"),
    ("Replays", "times_replayed", lambda c: c["times_replayed"], "Times the buffer mixed it back into a group"),
    ("Origin", "origin", lambda c: c["origin"], "policy sample, span of a sample, replay, or minimised"),
]


class CandidateTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.store: SessionStore | None = None
        self.run_id: int | None = None
        self.order, self.descending, self.contains = "reward", True, ""
        self.rows: list[dict[str, Any]] = []
        self.total = 0

    def show_run(self, store: SessionStore | None, run_id: int | None) -> None:
        self.store, self.run_id = store, run_id
        self.reload()

    def set_filter(self, text: str) -> None:
        self.contains = text
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.total = count_candidates(self.store, self.run_id, self.contains) if self._ready() else 0
        self._fetch()
        self.endResetModel()

    def _ready(self) -> bool:
        return self.store is not None and self.run_id is not None

    def _fetch(self) -> list[dict[str, Any]]:
        if not self._ready():
            return []
        page = list_candidates(self.store, self.run_id, PAGE, len(self.rows), self.order, self.descending, self.contains)
        self.rows.extend(page)
        return page

    # --- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        return not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        start = len(self.rows)
        page = list_candidates(self.store, self.run_id, PAGE, start, self.order, self.descending, self.contains)
        if page:
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self.rows.extend(page)
            self.endInsertRows()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        header, _key, value, _tip = COLUMNS[index.column()]
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return value(row)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return plain_html(row["text"], exact_spaces=True)  # a tooltip guesses HTML: the model wrote this
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][3]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        if key is None:
            return  # reward parts live in JSON: not sortable in SQL
        self.order, self.descending = key, order == Qt.SortOrder.DescendingOrder
        self.reload()

    def text_at(self, row: int) -> str:
        return self.rows[row]["text"]

    def position_at(self, row: int) -> str:
        """Where the candidate fired best (prefix when it was scored before positions were recorded)."""
        return self.rows[row]["parts"].get("position") or "prefix"
