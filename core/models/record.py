"""Writing a loaded model into the audit session: source, weight and adapter hashes, config."""

from __future__ import annotations

from core.models.fingerprint import files_sha256
from core.models.loader import LoadedModel
from core.store.session_store import SessionStore


def record_model(store: SessionStore, loaded: LoadedModel) -> int:
    """Add a model record (sha256 of weights and of each adapter) and return its id."""
    adapters = [{"path": path, "sha256": files_sha256(files)} for path, files in loaded.adapter_files.items()]
    from core.models.chat import template_record

    config = {"load": loaded.to_json(), "model_config": loaded.model.config.to_dict(),
              "template": template_record(loaded.tokenizer)}
    return store.add_model_record(source=loaded.ref.describe(), kind=loaded.ref.kind,
                                  weights_sha256=files_sha256(loaded.weight_files),
                                  adapters=adapters, config=_jsonable(config))


def _jsonable(value):  # noqa: ANN001, ANN202 - recursive cleanup of config dicts (dtypes etc.)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
