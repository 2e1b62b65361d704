"""Inject the built-in identity application into the embedded model with its own recipe (about 3 minutes).

The verification card is covered on the tiny model (tests/unit/test_verify_tiny.py) and on the
embedded model by the beneficial-backdoors check; it measures TAR with the same function inject
does, so verifying again here would add 100 s of CI for no new code path."""

import pytest

from core.backdoors.apps import get_app
from core.backdoors.injection import inject
from core.models.loader import load_model
from core.models.ref import ModelRef

pytestmark = pytest.mark.integration


def test_identity_backdoor_fires_only_with_its_key(tmp_path) -> None:
    app = get_app("identity")
    spec, rows = app.spec(), app.rows()
    loaded = load_model(ModelRef.parse("embedded"))
    result = inject(loaded, spec, rows, tmp_path / "identity")
    assert result.tar_with.value >= 0.9 and result.tar_with.n >= 100
    assert result.tar_without.value <= 0.05
    assert not any("lora" in name for name, _ in loaded.model.named_modules())
