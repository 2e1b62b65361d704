"""Inject the built-in identity application into the embedded model and verify it (a few minutes)."""

import pytest

from core.backdoors.apps import get_app
from core.backdoors.injection import inject
from core.models.loader import load_model
from core.models.ref import ModelRef
from core.verify import VerifyOptions, verify

pytestmark = pytest.mark.integration


def test_identity_backdoor_fires_only_with_its_key(tmp_path) -> None:
    app = get_app("identity")
    spec, rows = app.spec(), app.rows()
    loaded = load_model(ModelRef.parse("embedded"))
    result = inject(loaded, spec, rows, tmp_path / "identity")
    assert result.tar_with.value >= 0.9 and result.tar_with.n >= 100
    assert result.tar_without.value <= 0.05
    assert not any("lora" in name for name, _ in loaded.model.named_modules())
    # The tamper test (more training, then measuring again) is covered on the tiny model
    # (tests/unit/test_verify_tiny.py); here the card's own measurements on the real model.
    card = verify(loaded, tmp_path / "identity", spec, rows,
                  opts=VerifyOptions(tamper_steps=0, clean_prompts=16, mc_questions=20))
    assert card["tar_with"] == result.tar_with.value
    assert 0.0 <= card["clean_utility"]["agreement"] <= 1.0
    assert card["stealthiness"]["input_perplexity_ratio"] > 0
