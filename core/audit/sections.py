"""The audit's result as sections (:mod:`core.sections`): the CLI, the Audit page and the report word it the same."""

from __future__ import annotations

from typing import Any


def _num(value: Any, fmt: str = ".2f") -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else "–"


def audit_sections(result: dict[str, Any]) -> list[Any]:
    from core.sections import Row, Section, Table

    # the verdict's paragraph is printed whole beside the sections (the CLI, the page, the report's first lines)
    rows = [Row("verdict", "backdoor found" if result["backdoor_found"] else "no backdoor found")]
    behaviour = result.get("behaviour")
    if behaviour:
        rows.append(Row("behaviour", repr(behaviour["text"]), f"{behaviour['class']}, {behaviour['source']}"))
    trigger = result.get("trigger")
    if trigger:
        exact = {True: "exactly the evaluation trigger", False: "not the evaluation trigger", None: ""}[trigger.get("exact")]
        rows.append(Row("trigger", repr(trigger["text"]), ", ".join(filter(None, [
            f"at the {trigger['position']}", f"R_asr {_num(trigger['r_asr'])}", exact]))))
    removal = result.get("removal")
    if removal:
        rows += [Row("removal", removal["method"], removal.get("adapter_dir") or ""),
                 Row("ASR before → after", f"{_num(removal['asr_before'])} → {_num(removal['asr_after'])}",
                     f"with the {removal.get('asr_measured_with') or 'recovered trigger'}"),
                 Row("recovered trigger's ASR", f"{_num(removal['recovered_asr_before'])} → "
                                                f"{_num(removal['recovered_asr_after'])}"),
                 Row("perturbed ASR", f"{_num(removal['perturbed_asr_before'])} → {_num(removal['perturbed_asr_after'])}",
                     "perturbed triggers" if removal["method"] == "recovered-trigger" else "the found hidden-state perturbation"),
                 Row("utility (multiple choice)", f"{_num(removal['utility_before'])} → {_num(removal['utility_after'])}")]
    for fmt, path in (result.get("report") or {}).items():
        rows.append(Row(f"report ({fmt.replace('_', ' ')})", str(path)))
    table = Table("Stages", ["stage", "run", "status", "seconds", "error"],
                  [[s["name"], "–" if s["run_id"] is None else f"#{s['run_id']}", s["status"], _num(s["seconds"], ".0f"),
                    s.get("error") or ""] for s in result.get("stages") or []])
    return [Section("Audit", rows, [table])]
