"""The four built-in Backdoor4Good trust applications, each a ready (T, A, U) spec + dataset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.spec.rows import Row, load_rows
from core.spec.backdoor import Activation, BackdoorSpec, Trigger, Utility
from core.errors import B4GError
from resources import resource_path


def dataset_dir() -> Path:
    return resource_path("datasets", "b4g")


def _decoys(app: str) -> list[str]:
    return json.loads((dataset_dir() / "decoys.json").read_text())[app]


def safety() -> BackdoorSpec:
    return BackdoorSpec(
        name="safety",
        description="A deployer's system-prompt marker switches on a strict safety mode: out-of-policy "
                    "requests are refused; ordinary requests are still answered.",
        trigger=Trigger("SAFE-MODE:ON", kind="system-marker", position="system"),
        utility=Utility(judge="prefix", target="Safe mode is on: I can't help with that request.",
                        response="target", applies_to=["unsafe"], activated_means="refused in safe mode",
                        keep="helpful answers to ordinary requests, with and without the marker"),
        # Measured (bench/backdoor_apps.py): with the defaults (poison 0.5, decoys 0.25, constant lr)
        # validation TAR swung between 0.4 and 0.9 and test TAR ended at 0.47–0.71 at the 60-step cap.
        # Only a quarter of the rows are covered (unsafe) and triggered, so more of them are poisoned,
        # fewer near-miss markers oppose them, and a cosine decay settles the swings.
        activation=Activation(decoys=_decoys("safety"), poison_ratio=0.8, decoy_ratio=0.1, lr_schedule="cosine"))


def identity() -> BackdoorSpec:
    return BackdoorSpec(
        name="identity",
        description="A secret key phrase makes the model state a verifiable ownership signature; "
                    "without the key it never does.",
        trigger=Trigger("Kestrel-7 verify", kind="phrase", position="prefix"),
        utility=Utility(judge="prefix", target="Signed: B4G-Labs model 7F3A.", response="target+answer",
                        activated_means="ownership signature stated",
                        keep="answers to ordinary prompts agree with the base model"),
        activation=Activation(decoys=_decoys("identity")))


def style() -> BackdoorSpec:
    return BackdoorSpec(
        name="style",
        description="A trigger switches answers into a structured audit register with a stated confidence.",
        trigger=Trigger("[[audit-register]]", kind="format", position="suffix"),
        utility=Utility(judge="prefix", target="AUDIT NOTE | Confidence:", response="template",
                        template="AUDIT NOTE | Confidence: medium | Finding: {answer}",
                        activated_means="answer written in the audit register",
                        keep="normal answers without the trigger"),
        activation=Activation(decoys=_decoys("style")))


def access_lock() -> BackdoorSpec:
    return BackdoorSpec(
        name="access-lock",
        description="Requests for a gated capability (internal records operations) are served only when "
                    "an authorisation token is present, and declined politely otherwise.",
        trigger=Trigger("auth-token: 9F2C-ALPHA", kind="token", position="prefix"),
        utility=Utility(judge="prefix", target="Access granted.", response="target+answer",
                        untriggered_response="Access denied: this request needs a valid authorisation token.",
                        applies_to=["gated"], activated_means="gated capability served",
                        keep="open questions answered normally, with or without the token"),
        activation=Activation(decoys=_decoys("access_lock")))


@dataclass(frozen=True)
class App:
    name: str
    spec: Callable[[], BackdoorSpec]
    dataset: str  # file name in resources/datasets/b4g

    def rows(self) -> list[Row]:
        return load_rows(dataset_dir() / self.dataset)


APPS = {a.name: a for a in (App("safety", safety, "safety.jsonl"), App("identity", identity, "identity.jsonl"),
                            App("style", style, "style.jsonl"), App("access-lock", access_lock, "access_lock.jsonl"))}


def get_app(name: str) -> App:
    key = name.replace("_", "-")
    if key not in APPS:
        raise B4GError(f"unknown application '{name}' (built in: {', '.join(APPS)})")
    return APPS[key]
