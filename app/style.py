"""Light / dark styles from resources/styles, chosen in QSettings ("ui/theme")."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from resources import resource_path

THEMES = ("light", "dark")
DEFAULT_SIZE = (1200, 760)  # the window's first size (the screenshots' too)
NAV_PX = 170  # the navigation column
PAGE_PX = DEFAULT_SIZE[0] - NAV_PX  # a page's width at the first size: forms are sized to read whole in it


def stylesheet(theme: str) -> str:
    name = theme if theme in THEMES else "light"
    return resource_path("styles", f"{name}.qss").read_text()


def apply_style(app: QApplication, theme: str | None = None) -> str:
    theme = theme or str(QSettings().value("ui/theme", "light"))
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet(theme))
    return theme
