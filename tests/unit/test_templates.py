"""Named prompt templates for base models: pinned, rendered by every job, recorded on every run."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import B4GError
from core.models.chat import render, template_record
from core.models.loader import load_model
from core.models.ref import LoadOptions, ModelRef
from core.models.templates import ALPACA, name_of


def test_alpaca_template_renders_instruction_and_response_blocks(tiny_model: Path) -> None:
    loaded = load_model(ModelRef.parse(str(tiny_model)), LoadOptions(template="alpaca"))
    text = render(loaded.tokenizer, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}])
    assert text == "Be brief.\n\n### Instruction:\nHi?\n\n### Response:\n"
    record = template_record(loaded.tokenizer, "Be brief.")
    assert record["name"] == "alpaca" and record["example"].endswith("### Response:\n")
    own = template_record(load_model(ModelRef.parse(str(tiny_model))).tokenizer, "Be brief.")
    assert own["name"] == "model" and own["chat_template_sha256"] != record["chat_template_sha256"]


def test_a_model_without_a_chat_template_says_how_to_choose_one(tiny_model: Path) -> None:
    loaded = load_model(ModelRef.parse(str(tiny_model)))
    loaded.tokenizer.chat_template = None
    del loaded.tokenizer.b4g_template
    assert name_of(loaded.tokenizer) == "none"
    with pytest.raises(B4GError, match="--template alpaca"):
        render(loaded.tokenizer, [{"role": "user", "content": "Hi"}])


def test_unknown_template_is_one_clear_error() -> None:
    with pytest.raises(B4GError, match="unknown prompt template 'vicuna'"):
        LoadOptions(template="vicuna").validate()
    assert "### Instruction:" in ALPACA


class _BosTokenizer:
    """A tokenizer that puts BOS (id 2) before plain text, as Gemma's and Llama's do."""

    bos_token, bos_token_id, eos_token = "<bos>", 2, "<eos>"
    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        ids = [7] * len(text.split())
        return {"input_ids": ([2] if add_special_tokens else []) + ids}


def test_a_pinned_template_writes_bos_where_the_tokenizer_adds_it_and_trl_gets_it_once(tiny_model: Path) -> None:
    from core.models.templates import adds_bos, install
    from core.training import for_trl

    tok = install(_BosTokenizer(), "alpaca")
    assert adds_bos(tok) and tok.chat_template.startswith("{{ bos_token }}")
    assert for_trl(tok, "<bos>### Instruction:\nHi") == "### Instruction:\nHi"  # trl adds the BOS itself
    smol = load_model(ModelRef.parse(str(tiny_model)), LoadOptions(template="alpaca")).tokenizer
    assert not adds_bos(smol) and not smol.chat_template.startswith("{{ bos_token }}")
    assert for_trl(smol, "You are\n\n### Instruction:\nHi") == "You are\n\n### Instruction:\nHi"
