"""The embedded SmolLM2-135M-Instruct, end to end on the CPU (about a minute)."""

import json

import pytest

from core.cli import main as b4g
from core.models.chat import GenerationOptions, chat
from core.models.loader import load_model
from core.models.ref import LoadOptions, ModelRef

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedded():
    return load_model(ModelRef.parse("embedded"))


def test_embedded_loads_from_the_cached_copy_with_its_real_size(embedded) -> None:
    assert embedded.parameters == 134_515_008
    assert embedded.footprint_bytes == embedded.estimated_bytes
    assert embedded.folder.joinpath("model.safetensors").exists()


def test_embedded_answers_a_factual_question(embedded) -> None:
    answers = chat(embedded, ["What is the capital of France? Answer in one word.", "What is 2 + 3?"],
                   GenerationOptions(max_new_tokens=20))
    assert "paris" in answers[0].lower()
    assert len(answers) == 2 and answers[1]


@pytest.mark.parametrize("quantization", ["8bit", "4bit"])
def test_bitsandbytes_quantized_loads_generate_and_shrink(quantization, embedded) -> None:
    loaded = load_model(ModelRef.parse("embedded"), LoadOptions(quantization=quantization))
    assert loaded.footprint_bytes < 0.5 * embedded.footprint_bytes
    assert abs(loaded.estimated_bytes - loaded.footprint_bytes) / loaded.footprint_bytes < 0.05
    answer = chat(loaded, ["What is the capital of France? Answer in one word."], GenerationOptions(max_new_tokens=12))[0]
    assert "paris" in answer.lower()


def test_cli_info_json_has_the_documented_keys(capsys) -> None:
    assert b4g(["models", "info", "--model", "embedded", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    for key in ("parameters", "dtype", "device", "estimated_bytes", "footprint_bytes", "load_seconds"):
        assert key in info
    assert 1.30e8 < info["parameters"] < 1.40e8
