"""The workbench window: left navigation over one page per task, session menu, job bar, status."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobRunner
from app.panels.audit_panel import AuditPanel
from app.panels.backdoors_panel import BackdoorsPanel
from app.panels.buffer_panel import BufferPanel
from app.panels.inversion_panel import InversionPanel
from app.panels.defenses_panel import DefensesPanel
from app.panels.models_panel import ModelsPanel
from app.panels.reports_panel import ReportsPanel
from app.panels.sessions_panel import SessionsPanel
from app.style import DEFAULT_SIZE, NAV_PX
from app.widgets.job_bar import JobBar
from app.widgets.plain_label import plain_html
from app.widgets.status_line import StatusLine
from app.workbench_state import WorkbenchState
from core.errors import B4GError
from core.store import catalog
from core.store.session_store import SESSION_SUFFIX, SessionStore

PAGES = ["Models", "Audit", "Backdoors", "Inversion", "Replay buffer", "Defenses", "Reports", "Sessions"]


class MainWindow(QMainWindow):
    def __init__(self, store: SessionStore) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.state = WorkbenchState(store)
        self.runner = JobRunner(self)
        self.pages: dict[str, QWidget] = {}
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(NAV_PX)
        self.stack = QStackedWidget()
        self._build_pages()
        # a fixed column, not a splitter: a splitter gave the 170 px list about 260 px, and the
        # empty 90 px beside it were taken from the pages' forms
        pages = QHBoxLayout()
        pages.setContentsMargins(0, 0, 0, 0)
        pages.addWidget(self.nav)
        pages.addWidget(self.stack, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(pages, 1)
        self.job_bar = JobBar(self.runner)
        layout.addWidget(self.job_bar)
        self.setCentralWidget(central)
        self.status_line = StatusLine(self.state)
        self.statusBar().addPermanentWidget(self.status_line, 1)
        self._build_menu()
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.state.session_changed.connect(lambda _s: self._update_title())
        self.state.page_requested.connect(self.show_page)
        self._update_title()
        self._restore_settings()

    # --- building -----------------------------------------------------------------------------
    def _build_pages(self) -> None:
        for name in PAGES:
            if name == "Models":
                page = ModelsPanel(self.state, self.runner)
            elif name == "Sessions":
                page = SessionsPanel(self.state, self.runner)
            elif name == "Backdoors":
                page = BackdoorsPanel(self.state, self.runner)
            elif name == "Inversion":
                page = InversionPanel(self.state, self.runner)
            elif name == "Replay buffer":
                page = BufferPanel(self.state, self.runner)
            elif name == "Audit":
                page = AuditPanel(self.state, self.runner)
            elif name == "Defenses":
                page = DefensesPanel(self.state, self.runner)
            else:
                page = ReportsPanel(self.state)
            self.pages[name] = page
            self.stack.addWidget(page)
            self.nav.addItem(name)
        self.nav.setCurrentRow(0)

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Session")
        for text, key, slot in (("&New session…", QKeySequence.StandardKey.New, self.new_session_dialog),
                                ("&Open session…", QKeySequence.StandardKey.Open, self.open_session_dialog),
                                ("Save session &as…", QKeySequence.StandardKey.SaveAs, self.save_as_dialog)):
            action = QAction(text, self, shortcut=key)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.addAction("New &audit…").triggered.connect(lambda: self.show_page("Audit"))
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)
        demo = self.menuBar().addMenu("&Demo")
        demo_action = QAction("Run the &self-awareness demo (SUDO organism, minutes on CPU)", self)
        demo_action.triggered.connect(self.start_demo)
        demo.addAction(demo_action)
        view = self.menuBar().addMenu("&View")
        for i, name in enumerate(PAGES):
            action = QAction(name, self, shortcut=f"Ctrl+{i + 1}")
            action.triggered.connect(lambda _=False, row=i: self.nav.setCurrentRow(row))
            view.addAction(action)
        sessions = self.pages["Sessions"]
        sessions.new_button.clicked.connect(self.new_session_dialog)
        sessions.open_button.clicked.connect(self.open_session_dialog)
        sessions.save_as_button.clicked.connect(self.save_as_dialog)

    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow(PAGES.index(name))

    @Slot()
    def start_demo(self) -> None:
        from app.demo import DemoController

        if self.user_jobs_pending():  # a memory estimate finishes in a moment; the demo queues behind it
            QMessageBox.information(self, "Job running", "Wait for the running job (or cancel it) first.")
            return
        self.demo = DemoController(self)
        self.demo.start()

    # --- sessions -----------------------------------------------------------------------------
    def new_session(self, name: str) -> None:
        self.state.set_session(catalog.new_session(name))

    def open_session(self, path: str) -> None:
        self.state.set_session(catalog.open_session(path))

    def save_session_as(self, path: str, name: str | None = None) -> None:
        copy = self.state.store.save_as(Path(path), name)
        catalog.remember(copy.path)
        self.state.set_session(copy)

    def _guard(self, action, *args) -> None:  # noqa: ANN001 - any session action
        if self.runner.is_busy():
            QMessageBox.information(self, "Job running", "Wait for the running job (or cancel it) first.")
            return
        try:
            action(*args)
        except B4GError as exc:
            QMessageBox.warning(self, "Session", plain_html(str(exc)))  # it may quote a path or name

    @Slot()
    def new_session_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "New audit session", "Name:")
        if ok and name.strip():
            self._guard(self.new_session, name.strip())

    @Slot()
    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open audit session", str(self.state.store.path.parent),
                                              f"B4G sessions (*{SESSION_SUFFIX})")
        if path:
            self._guard(self.open_session, path)

    @Slot()
    def save_as_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save audit session as", str(self.state.store.path.parent),
                                              f"B4G sessions (*{SESSION_SUFFIX})")
        if path:
            path = path if path.endswith(SESSION_SUFFIX) else path + SESSION_SUFFIX
            self._guard(self.save_session_as, path, Path(path).stem)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in catalog.recent():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self._guard(self.open_session, p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.state.store.info()['name']} — B4G Workbench")

    # --- settings and closing -----------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        self.nav.setCurrentRow(int(settings.value("window/page", 0)))

    def user_jobs_pending(self) -> bool:
        """A running or queued job worth asking about (a memory estimate is not)."""
        current = self.runner.current()
        jobs = ([current] if current else []) + self.runner.queued()
        return any(item.job.kind != "estimate-memory" for item in jobs)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.user_jobs_pending():
            answer = QMessageBox.question(self, "A job is running",
                                          "A job is still running. Cancel it and close the workbench?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.runner.shutdown()  # cancels, waits, and records the run as cancelled
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/page", self.nav.currentRow())
        event.accept()


__all__ = ["MainWindow", "PAGES", "Qt"]
