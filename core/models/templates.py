"""Named, pinned prompt templates for models without a chat template (base models).

Every job renders prompts through the tokenizer's chat template (:func:`core.models.chat.render`),
so a named template is installed there, as a Jinja chat template, when the model loads: inject,
verify, invert and chat then format a base model's prompts exactly alike, and the run records the
template's name and hash as it does a chat template's. ``auto`` keeps the model's own template.
"""

from __future__ import annotations

from typing import Any

from core.errors import B4GError

# The system message every job asks under unless told otherwise. SmolLM2's template injects a long
# default system prompt when none is given; a short one keeps prompts small and behaviour stable
# across inject, verify and invert. It lives here, not in core.models.chat, so the CLI can show it
# in --help without importing torch.
DEFAULT_SYSTEM = "You are a helpful assistant."

# Alpaca (the format BackdoorLLM trains with): an optional system line, then
# "### Instruction:" / "### Response:" blocks; the answer ends with the EOS token.
ALPACA = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}### Instruction:\n{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'assistant' %}### Response:\n{{ m['content'] }}{{ eos_token }}\n\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Response:\n{% endif %}"
)

TEMPLATES = {"alpaca": ALPACA}
CHOICES = ("auto", *TEMPLATES)


def check(name: str) -> str:
    if name not in CHOICES:
        raise B4GError(f"unknown prompt template '{name}' (choose one of {', '.join(CHOICES)})")
    return name


def adds_bos(tokenizer: Any) -> bool:
    """Does the tokenizer put a BOS token before plain text (Gemma and Llama do, SmolLM2 does not)?"""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos and tokenizer("a", add_special_tokens=False)["input_ids"][:1] != [bos]


def install(tokenizer: Any, name: str) -> Any:
    """Pin the named template on ``tokenizer`` (``auto``: the model's own, if it has one). Every job
    tokenises rendered prompts without adding special tokens, so a pinned template writes the BOS
    token itself where the tokenizer would add one. Measured on Gemma 3 270M: without BOS the base
    model repeats the question instead of answering, and an organism trained with it (trl adds it)
    but measured without it showed TAR 0.00 with the trigger."""
    check(name)
    if name != "auto":
        tokenizer.chat_template = ("{{ bos_token }}" if adds_bos(tokenizer) else "") + TEMPLATES[name]
    tokenizer.b4g_template = name if name != "auto" else ("model" if getattr(tokenizer, "chat_template", None) else "none")
    return tokenizer


def name_of(tokenizer: Any) -> str:
    """``model`` (its own chat template), a pinned name such as ``alpaca``, or ``none``."""
    return getattr(tokenizer, "b4g_template", "model" if getattr(tokenizer, "chat_template", None) else "none")
