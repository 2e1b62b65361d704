"""Widgets for some of a job's settings, built from the settings' declarations (core.job_settings).

Each widget takes its default, tooltip and limits from the field, so a page never repeats them. A
widget counts as set only once the user changed it: until then the defaults shown (a preset's, or
an inversion run's position) are the ones the request is made with, exactly as a CLI flag left out.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from core.job_settings import Knob, knobs, value_at

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int


class SettingsForm(QObject):
    """``paths`` of ``cls``'s settings as widgets; ``labels``: display names of a choice's values."""

    def __init__(self, cls: type, paths: list[str], labels: dict[str, dict[str, str]] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings_type = cls
        every = knobs(cls)
        self.knobs: dict[str, Knob] = {p: every[p] for p in paths}
        self.widgets: dict[str, QWidget] = {p: self._widget(k, (labels or {}).get(p, {})) for p, k in self.knobs.items()}
        self._changed: set[str] = set()
        self._showing = False
        for path in self.knobs:
            self._set(path, self.knobs[path].default)
            self._on_change(path)

    # --- building ---------------------------------------------------------------------------------
    @staticmethod
    def _widget(k: Knob, labels: dict[str, str]) -> QWidget:
        if k.kind is bool:
            w: QWidget = QCheckBox(k.label)
        elif k.choices:
            w = QComboBox()
            for choice in k.choices:
                w.addItem(labels.get(choice, choice), choice)
        elif k.kind is int:
            w = QSpinBox(minimum=int(k.low or 0), maximum=min(int(k.high if k.high is not None else INT_LIMIT),
                                                              INT_LIMIT))
        elif k.kind is float:
            w = QDoubleSpinBox(decimals=4, minimum=k.low if k.low is not None else 0.0,
                               maximum=k.high if k.high is not None else 1e9, singleStep=max(abs(k.default) / 10, 1e-4))
        else:
            w = QLineEdit()
        if k.kind is bool and k.default:  # its flag switches it off: say what unticking does
            w.setToolTip(f"On by default. Unticked ({k.flag} in the CLI): {k.help}")
        else:
            w.setToolTip(f"{k.help[0].upper()}{k.help[1:]} ({k.flag} in the CLI)")
        w.setObjectName(f"setting-{k.path}")
        return w

    def _on_change(self, path: str) -> None:
        w = self.widgets[path]
        signal = (w.toggled if isinstance(w, QCheckBox) else w.currentIndexChanged if isinstance(w, QComboBox)
                  else w.textChanged if isinstance(w, QLineEdit) else w.valueChanged)
        signal.connect(lambda *_: None if self._showing else self._changed.add(path))

    def add_rows(self, form: QFormLayout) -> None:
        for path, w in self.widgets.items():
            if isinstance(w, QCheckBox):
                form.addRow(w)
            else:
                form.addRow(self.knobs[path].label, w)

    # --- values -----------------------------------------------------------------------------------
    def widget(self, name: str) -> Any:
        """The widget of a setting, by its path or its last part (``"steps"``)."""
        if name in self.widgets:
            return self.widgets[name]
        return next(w for p, w in self.widgets.items() if p.rpartition(".")[2] == name)

    def _get(self, path: str) -> Any:
        w = self.widgets[path]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QLineEdit):
            return w.text()
        return w.value()

    def _set(self, path: str, value: Any) -> None:
        w = self.widgets[path]
        self._showing = True
        try:
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QLineEdit):
                w.setText(str(value))
            else:
                w.setValue(value)
        finally:
            self._showing = False

    def show_defaults(self, settings: Any) -> None:
        """Show ``settings``' values (a preset's, a run's) in the widgets the user has not changed."""
        for path in self.widgets:
            if path not in self._changed:
                self._set(path, value_at(settings, path))

    def values(self) -> dict[str, Any]:
        """The values the user changed, by path: what the request overrides (as flags given)."""
        return {path: self._get(path) for path in self.widgets if path in self._changed}

    def forget_changes(self) -> None:
        self._changed.clear()
