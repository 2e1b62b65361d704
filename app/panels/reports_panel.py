"""Reports page: a live preview of the session's audit report, export to HTML / PDF / JSON, signing.

The report is built from the store alone (:mod:`core.report`), off the UI thread: charts take a
second or two and the window must stay responsive. Exports do not queue behind a training job
(they are not runs); the preview follows the session as runs finish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QStandardPaths, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.widgets.plain_label import PlainLabel
from app.widgets.whole_text_edit import WholeTextEdit
from app.workbench_state import WorkbenchState
from core.report.export import FORMATS, default_path
from core.store.queries import run_states

FILTERS = {"html": "HTML report (*.html)", "pdf": "PDF report (*.pdf)", "json": "JSON report (*.json)"}


class _Signals(QObject):
    done = Signal(str, object)  # what, result
    failed = Signal(str, str)  # what, one-line error


class _Task(QRunnable):
    """Runs ``fn`` on the thread pool; its outcome comes back on the UI thread through signals."""

    def __init__(self, what: str, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.what, self.fn, self.signals = what, fn, signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line message on the page
            self.signals.failed.emit(self.what, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        else:
            self.signals.done.emit(self.what, result)


class ReportsPanel(QWidget):
    exported = Signal(dict)  # what export_report returned

    def __init__(self, state: WorkbenchState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-reports")
        self.state = state
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._busy: set[str] = set()
        self._seen: tuple[Any, ...] = ()
        self._stale = False  # the session changed while a preview was being built
        self._build()
        self._timer = QTimer(self, interval=3000)
        self._timer.timeout.connect(self.refresh_if_changed)
        self._timer.start()
        state.session_changed.connect(lambda _s: self.refresh_if_changed())

    # --- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        title = QLabel("Audit report")
        title.setObjectName("panelTitle")
        intro = QLabel("Built from the audit session alone: the verdict, the model and its hashes, every run with its "
                       "configuration and versions, curves, defenses and a manifest of sha256 hashes.")
        intro.setWordWrap(True)
        self.export_buttons = {fmt: QPushButton(f"Export {fmt.upper()}…") for fmt in FORMATS}
        row = QHBoxLayout()
        for fmt, button in self.export_buttons.items():
            button.clicked.connect(lambda _=False, f=fmt: self.export_dialog(f))
            row.addWidget(button)
        self.refresh_button = QPushButton("Refresh preview")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        self.sign_box = QCheckBox("Sign with my ed25519 key")
        self.key_edit = WholeTextEdit("private key, PEM (writes REPORT.sig beside the report)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_key)
        sign_row = QHBoxLayout()
        for w in (self.sign_box, self.key_edit, browse):
            sign_row.addWidget(w)
        self.status = PlainLabel()
        self.status.setObjectName("reportStatus")
        self.status.setWordWrap(True)
        self.preview = QTextBrowser()
        self.preview.setOpenExternalLinks(False)
        layout = QVBoxLayout(self)
        for w in (title, intro):
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addLayout(sign_row)
        layout.addWidget(self.status)
        layout.addWidget(self.preview, 1)

    def _browse_key(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Signing key", str(Path.home()), "PEM key (*.pem);;All files (*)")
        if path:
            self.key_edit.setText(path)
            self.sign_box.setChecked(True)

    # --- preview --------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh_if_changed()

    def _fingerprint(self) -> tuple[Any, ...]:
        return (str(self.state.store.path), run_states(self.state.store))

    @Slot()
    def refresh_if_changed(self) -> None:
        """Rebuild the preview when the session gained or finished a run (polled while shown)."""
        if not self.isVisible():
            return
        if self._fingerprint() != self._seen:
            self.refresh()

    @Slot()
    def refresh(self) -> None:
        if "preview" in self._busy:
            self._stale = True  # rebuilt when the current build ends
            return
        self._seen = self._fingerprint()
        store = self.state.store

        def build() -> tuple[str, str]:
            from core.report.content import build_report
            from core.report.html import render_html

            return str(store.path), render_html(build_report(store))

        self._start("preview", build)

    # --- export ---------------------------------------------------------------------------------
    def sign_key(self) -> Path | None:
        return Path(self.key_edit.text()).expanduser() if self.sign_box.isChecked() and self.key_edit.text() else None

    def export_dialog(self, fmt: str) -> None:
        """Ask where; the file dialog itself asks before replacing a file, so a confirmed path is forced."""
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        suggested = default_path(self.state.store.info().get("name", ""), fmt, Path(docs))
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()} report", str(suggested), FILTERS[fmt])
        if path:
            self.export(fmt, Path(path), force=True)

    def export(self, fmt: str, path: Path, force: bool = False) -> None:
        """Write the report in the background; the outcome shows on the status line."""
        if self.sign_box.isChecked() and not self.key_edit.text():
            self._on_failed("export", "choose the signing key first (or untick signing)")
            return
        store, key = self.state.store, self.sign_key()

        def write() -> dict[str, Any]:
            from core.report.export import export_report

            return export_report(store, fmt, path, force=force, sign_key=key)

        self._start("export", write)

    # --- background ---------------------------------------------------------------------------
    def _start(self, what: str, fn: Callable[[], Any]) -> None:
        if what in self._busy:
            return
        self._busy.add(what)
        self._set_buttons()
        if what == "export":
            self.status.setText("Writing the report…")
        QThreadPool.globalInstance().start(_Task(what, fn, self._signals))

    def _set_buttons(self) -> None:
        for b in self.export_buttons.values():
            b.setEnabled("export" not in self._busy)
        self.refresh_button.setEnabled("preview" not in self._busy)

    @Slot(str, object)
    def _on_done(self, what: str, result: Any) -> None:
        self._busy.discard(what)
        self._set_buttons()
        if what == "preview":
            path, html = result
            if path == str(self.state.store.path):  # not a report of a session closed meanwhile
                bar = self.preview.verticalScrollBar().value()
                self.preview.setHtml(html)
                self.preview.verticalScrollBar().setValue(bar)
            if self._stale or path != str(self.state.store.path):
                self._stale = False
                self.refresh()
            return
        signed = f" · signed, key {result['key_fingerprint']} ({Path(result['signature']).name})" if result["signature"] else ""
        self.status.setText(f"Wrote {result['path']} · sha256 {result['sha256'][:16]}…{signed}")
        self.exported.emit(result)

    @Slot(str, str)
    def _on_failed(self, what: str, message: str) -> None:
        self._busy.discard(what)
        self._stale = False
        self._set_buttons()
        self.status.setText(f"Could not {'write the report' if what == 'export' else 'build the preview'}: {message}")
