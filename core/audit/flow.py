"""The audit's stages in order, each built from the earlier ones' results (see :mod:`core.audit.stages`).

A stage that fails is recorded failed and the audit goes on wherever the next stage still makes
sense: no model, nothing else runs; no behaviour, no trigger search and no removal; no trigger (or
one that fires on fewer than half the held-out requests), the trigger-free removal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.audit import stages as st
from core.audit.stage_jobs import DataScanRequest, ModelCheckRequest


@dataclass
class Facts:
    """What the stages found, for the summary."""

    behaviour: Any = None  # Behaviour
    behaviour_record: dict[str, Any] | None = None
    scan: dict[str, Any] | None = None  # the scan-model result (behaviour not given)
    source: str | None = None  # the inversion's: data | memory
    recovered: Any = None  # Recovered (working triggers) or None
    removal: dict[str, Any] = field(default_factory=dict)  # stage name -> result


def audit_stages(audit: Any) -> Facts:
    facts = Facts()
    req = audit.request
    model = audit.stage(st.MODEL, ModelCheckRequest.KIND, lambda: ModelCheckRequest(req.model))
    if not model.ok:
        return facts
    _record_model(audit, model)
    proposal = _behaviour(audit, facts)
    if facts.behaviour is None:
        return facts
    invert = _trigger(audit, facts)
    if invert is not None and invert.ok:
        facts.recovered = st.working_triggers(audit.recorded(invert.run_id), req.settings.top_k)
    if facts.recovered is not None:
        _recovered_removal(audit, facts, invert.run_id)
    else:
        _trigger_free_removal(audit, facts, proposal, invert)
    return facts


def _record_model(audit: Any, model: Any) -> None:
    """The fingerprint as a model record of the session (what ``b4g models info --session`` adds);
    once, not again when the audit is resumed."""
    if model.reused:
        return
    from core.models.record import _jsonable

    r = model.result

    audit.store.add_model_record(source=r["source"], kind=r["kind"], weights_sha256=r["weights_sha256"],
                                 adapters=r["adapters"], config=_jsonable({"load": r["load"], "template": r["template"]}))


def _behaviour(audit: Any, facts: Facts) -> dict[str, Any] | None:
    """The auditor's behaviour, or the scan's top proposal when the scan flags it (returned)."""
    from core.requests import ScanModelRequest
    from core.target_scan.handoff import behaviour_of

    req = audit.request
    if req.behaviour is not None:
        audit.given(st.BEHAVIOUR, "given")
        facts.behaviour, facts.behaviour_record = req.behaviour, st.behaviour_record(req.behaviour, "given")
        return None
    scan = audit.stage(st.BEHAVIOUR, ScanModelRequest.KIND,
                       lambda: ScanModelRequest.build(req.model, req.settings.scan_settings(req.seed)))
    if not scan.ok:
        return None
    facts.scan = scan.result
    proposal = st.scan_proposal(scan.result)
    if proposal is not None:
        facts.behaviour = behaviour_of(proposal)
        facts.behaviour_record = st.behaviour_record(facts.behaviour, "scan", proposal)
    return proposal


def _data(audit: Any, answers: bool) -> str:
    req = audit.request
    return req.data or str(st.shipped_data(Path(req.out), answers))


def _trigger(audit: Any, facts: Facts) -> Any:
    """The data scan (when there is data), then the inversion; returns the inversion's stage."""
    from core.requests import InvertRequest

    req = audit.request
    scanned = None
    if req.data:
        scanned = audit.stage(st.DATA_SCAN, DataScanRequest.KIND,
                              lambda: DataScanRequest(req.model, req.data, facts.behaviour))
    facts.source = st.inversion_source(req.data, scanned.result if scanned is not None and scanned.ok else None)
    config = req.settings.invert_config(req.preset, facts.source, req.seed)
    return audit.stage(st.INVERSION, InvertRequest.KIND,
                       lambda: InvertRequest.build(req.model, _data(audit, True), facts.behaviour, config,
                                                   eval_trigger=req.eval_trigger))


def _recovered_removal(audit: Any, facts: Facts, invert_run: int) -> None:
    from core.requests import GuardRequest, UnlearnRequest

    req, rec = audit.request, facts.recovered
    out = Path(req.out)
    unlearn = audit.stage(st.UNLEARNING, UnlearnRequest.KIND, lambda: UnlearnRequest.build(
        req.model, _data(audit, False), rec.triggers, out / "unlearning-adapter", facts.behaviour, req.eval_trigger,
        req.settings.unlearn_settings(rec.position, req.controls, req.seed), invert_run))
    facts.removal[st.UNLEARNING] = unlearn
    guard = audit.stage(st.GUARDRAIL, GuardRequest.KIND, lambda: GuardRequest.build(
        req.model, rec.triggers, _data(audit, False), req.eval_trigger, req.settings.guard_settings(rec.position, req.seed),
        rec.keywords, save=out / "guardrail.json", from_run=invert_run))
    facts.removal[st.GUARDRAIL] = guard


def _trigger_free_removal(audit: Any, facts: Facts, proposal: dict[str, Any] | None, invert: Any) -> None:
    from core.requests import RemoveRequest

    req = audit.request
    stand_in = (invert.result or {}).get("recovered_trigger") if invert is not None and invert.ok else None
    scan_run = next((s.run_id for s in audit.stages if s.name == st.BEHAVIOUR), None)

    def build() -> Any:
        return RemoveRequest.build(req.model, req.data, facts.behaviour, Path(req.out) / "removal-adapter",
                            example=st.removal_example(facts.behaviour, proposal), eval_trigger=req.eval_trigger,
                            stand_in=stand_in, settings=req.settings.remove_settings(req.controls, req.seed),
                            from_run=scan_run)

    facts.removal[st.REMOVAL] = audit.stage(st.REMOVAL, RemoveRequest.KIND, build)
