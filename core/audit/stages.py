"""The audit's stages and the decisions between them, as plain functions of the stages' results.

Model -> behaviour (the auditor's, or the scan's top proposal when it is flagged) -> trigger (the
data scan, then the inversion from the data, or from the model's memory when the data shows no
row of the behaviour) -> removal (unlearning and a guardrail when a recovered trigger fires on at
least half the held-out requests, else the trigger-free removal) -> report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.measurement.behaviour import REFUSAL_EXAMPLE, Behaviour

MODEL, BEHAVIOUR, DATA_SCAN, INVERSION = "model", "behaviour", "data scan", "inversion"
UNLEARNING, GUARDRAIL, REMOVAL, REPORT = "unlearning", "guardrail", "trigger-free removal", "report"
# Every stage an audit may run, in order (an audit runs either unlearning + guardrail or removal).
STAGES = (MODEL, BEHAVIOUR, DATA_SCAN, INVERSION, UNLEARNING, GUARDRAIL, REMOVAL, REPORT)
MIN_R_ASR = 0.5  # a recovered trigger is used for removal when it fires on at least half the held-out requests
SHIPPED_FOLDER = "shipped-requests"  # in the audit's folder: the shipped requests as datasets, when no data is given

# What a clean scan cannot rule out (docs/inversion.md, "Behaviour unknown"): said with every "not found".
SCAN_LIMITS = ("The scan proposes fixed answers that the adapters make the model continue whatever the request; "
               "it does not see a backdoor whose answer changes with the request (a style, a kind of code), one that "
               "the adapters do not lift above the base model's own answers, or one in a model given without its "
               "base (no adapter to compare with). A clean scan is not proof of a clean model: describe the "
               "behaviour (--target, --keywords, --regex, --refusal) to search for its trigger anyway.")


@dataclass
class StageRecord:
    """One stage as the audit's result lists it (``result`` is kept for the decisions, not listed)."""

    name: str
    run_id: int | None = None
    status: str = "pending"  # pending | started | finished | failed | cancelled | given | skipped
    seconds: float | None = None
    error: str | None = None
    result: Any = None
    reused: bool = False  # taken as recorded by an earlier attempt of the audit (a resume)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "run_id": self.run_id, "status": self.status, "seconds": self.seconds,
                "error": self.error}

    @property
    def ok(self) -> bool:
        return self.status == "finished" and isinstance(self.result, dict)


def scan_proposal(result: dict[str, Any]) -> dict[str, Any] | None:
    """The scan's top proposal when the scan flagged it, else None."""
    proposals = result.get("proposals") or []
    return proposals[0] if result.get("backdoor_found") and proposals else None


def behaviour_record(behaviour: Behaviour, source: str, proposal: dict[str, Any] | None = None) -> dict[str, Any]:
    """The audit's ``behaviour``: ``text`` and ``class`` as the scan words them (the auditor's
    description in the same terms), ``source`` given | scan."""
    if proposal is not None:
        text, kind = proposal["text"], proposal["class"]
    else:
        text = {"target": behaviour.target, "keywords": ", ".join(behaviour.keywords), "regex": behaviour.regex,
                "refusal": REFUSAL_EXAMPLE}[behaviour.kind]
        kind = {"target": "fixed text"}.get(behaviour.kind, behaviour.kind)
    return {"text": text, "class": kind, "source": source, "behaviour": behaviour.to_json()}


def inversion_source(data: str | None, data_scan: dict[str, Any] | None) -> str:
    """``data`` when the data has rows that show the behaviour, else ``memory`` (requests read back
    from the model: the poisoned rows are not in the data, or there is no data)."""
    return "data" if data and data_scan and data_scan.get("behaviour_rows") else "memory"


def trigger_record(invert: dict[str, Any], eval_trigger: str | None) -> dict[str, Any] | None:
    """The audit's ``trigger``: the inversion's recovered trigger, or None when it recovered none."""
    text = invert.get("recovered_trigger")
    if not text:
        return None
    found = invert.get("recovered") or {}
    return {"text": text, "position": invert.get("position") or found.get("position"), "r_asr": found.get("r_asr"),
            "exact": (text == eval_trigger) if eval_trigger else None}


def working_triggers(run: dict[str, Any], k: int) -> Any:
    """The recovered triggers that fire on at least half the held-out requests (``Recovered``, as
    ``defend --from-run`` takes them), or None: then the removal is trigger-free."""
    from core.defend.from_run import recovered_from_run
    from core.defend.normalise import fold
    from core.errors import B4GError

    result = run.get("result") or {}
    try:
        rec = recovered_from_run(run, k)
    except B4GError:
        return None
    weak = result.get("recovered_trigger") if ((result.get("recovered") or {}).get("r_asr") or 0) < MIN_R_ASR else None
    rec.triggers = [t for t in rec.triggers if weak is None or fold(t) != fold(weak)]
    return rec if rec.triggers else None


def removal_example(behaviour: Behaviour, proposal: dict[str, Any] | None) -> str | None:
    """The text the trigger-free removal pulls towards, where the behaviour gives none of its own
    (a regex: the scan's proposal, which is how the model goes on once forced)."""
    return proposal["text"] if behaviour.kind == "regex" and proposal else None


def shipped_data(folder: Path, answers: bool) -> Path:
    """The project's held-out general requests as a dataset in ``folder`` (for an auditor without
    data): with the embedded model's answers (the inversion contrasts answers), or requests only
    (the defenses then ask the model under audit for its own answers)."""
    from resources import resource_path

    path = folder / SHIPPED_FOLDER / ("requests-answers.jsonl" if answers else "requests.jsonl")
    if path.is_file():
        return path
    rows = [json.loads(line) for line in resource_path("datasets", "b4g", "clean_answers.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    unique = list({r["prompt"]: r for r in rows}.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"instruction": r["prompt"], "input": "",
                                        **({"output": r["answer"]} if answers else {})}, ensure_ascii=False) + "\n"
                            for r in unique), encoding="utf-8")
    return path
