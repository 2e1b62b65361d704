"""Triggers recovered by an inversion run in the audit session, ready for a defense.

The run's recovered trigger (the one the model was trained on) first, then the shortest part of it
that fires as well (a guardrail must catch it too, unlearning must cover it), then its top
candidates that switched the behaviour on for at least half of the held-out requests (weaker ones are not triggers, and would only make the
guardrail block more clean prompts), at most ``k``, duplicates after folding dropped. The run also
gives the behaviour it searched for, the position the trigger worked at, and its data scan's spans
(the keyword-list baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.defend.normalise import fold
from core.errors import B4GError
from core.measurement.behaviour import Behaviour

MIN_R_ASR = 0.5
SCAN_KEYWORDS = 3


@dataclass
class Recovered:
    triggers: list[str]
    behaviour: Behaviour | None = None
    position: str = "prefix"
    keywords: list[str] = field(default_factory=list)
    run_id: int | None = None


def recovered_from_run(run: dict[str, Any], k: int = 3, need_trigger: bool = True) -> Recovered:
    """``need_trigger`` False: the run's behaviour and position even when no trigger it found fires
    (the trigger-free removal's case)."""
    if run.get("kind") != "invert":
        raise B4GError(f"run #{run.get('id')} is a {run.get('kind')} run; choose an inversion run")
    result = run.get("result") or {}
    if run.get("status") != "finished" or not result:
        raise B4GError(f"inversion run #{run.get('id')} did not finish ({run.get('status')}); it recovered nothing")
    texts = [result["recovered_trigger"]] if result.get("recovered_trigger") else []
    part = ((result.get("recovered") or {}).get("sufficient_part") or {}).get("text")
    texts += [part] if part else []  # the trained trigger and its shortest sufficient part, both
    texts += [c["text"] for c in result.get("top_candidates") or [] if (c.get("r_asr") or 0) >= MIN_R_ASR]
    seen: dict[str, str] = {}
    for text in texts:
        seen.setdefault(fold(text), text)
    triggers = list(seen.values())[:k]
    if not triggers and need_trigger:
        raise B4GError(f"inversion run #{run.get('id')} recovered no trigger that fires on half the held-out requests")
    b = (run.get("config") or {}).get("behaviour")
    scan = [c.get("surface") or c.get("text") for c in (result.get("data_scan") or {}).get("candidates") or []]
    return Recovered(triggers, Behaviour(**b) if b else None, result.get("position") or "prefix",
                     [s for s in scan if s][:SCAN_KEYWORDS], run.get("id"))


def recovered_from(store: Any, triggers: list[str], run_id: int | None, k: int = 3,
                   need_trigger: bool = True) -> Recovered:
    """What a defense works from, for the CLI and the window alike: the triggers of inversion run
    ``run_id`` of the session (with its behaviour, position and scan keywords), or typed ones."""
    if run_id is None:
        return Recovered(list(triggers))
    from core.store.queries import get_run

    recovered = recovered_from_run(get_run(store, run_id), k, need_trigger)
    if triggers:  # the auditor may have dropped some of the run's triggers
        recovered.triggers = list(triggers)
    return recovered


def defense_settings(cls: type, recovered: Recovered, values: dict[str, Any]) -> Any:
    """A defense's settings: its defaults, the position the trigger was recovered at, then the
    values the user set (flags given, widgets changed; core.job_settings)."""
    from core.job_settings import with_values

    return with_values(cls(), {"position": recovered.position, **values})


def guard_keywords(recovered: Recovered, data: str, behaviour: Behaviour | None) -> list[str]:
    """The keyword-list baseline's words: an inversion run's data scan, or, for typed triggers, a
    scan of ``data`` when the behaviour is described (otherwise no keyword baseline)."""
    if recovered.run_id is not None or behaviour is None:
        return list(recovered.keywords)
    from pathlib import Path

    from core.measurement.data_scan import scan
    from core.spec.rows import load_rows

    rows = load_rows(Path(data))
    result = scan([(r.prompt, r.answer) for r in rows if r.answer], behaviour.judge())
    return [str(c.get("surface") or c.get("text")) for c in result.candidates[:SCAN_KEYWORDS]]
