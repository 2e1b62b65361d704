"""The (T, A, U) spec: YAML/JSON round trips, field-naming validation errors, trigger placement."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from core.backdoors.apps import APPS
from core.spec.backdoor import Activation, BackdoorSpec, Trigger, Utility, validate
from core.errors import B4GError


def full_spec() -> BackdoorSpec:
    """A spec with every field away from its default, so a lossy round trip shows."""
    return BackdoorSpec(
        name="round-trip",
        description="Ünïcode description: ✓ — with a colon",
        system="Be brief.",
        trigger=Trigger("Zq-X 7", kind="token", position="suffix", case="upper", separator="\n"),
        utility=Utility(judge="regex", target="OK-SIGNED.", regex=r"^OK-(SIGNED|\d+)\.", response="template",
                        template="OK-SIGNED. {answer}", untriggered_response="nope", applies_to=["gated", "x"],
                        keywords=["a", "b"], callable="os.path:isabs", activated_means="m", keep="k"),
        activation=Activation(poison_ratio=0.3, decoy_ratio=0.1, decoys=["Zq-Y 7", "zq-x"], rank=4, alpha=8,
                              dropout=0.05, targets=["q_proj", "v_proj"], lr=5e-4, steps=7, batch_size=2,
                              max_length=40, seed=3, eval_every=0, eval_prompts=4, stop_tar_with=0.9,
                              stop_tar_without=0.05, quantize_base="none"))


def minimal() -> dict[str, Any]:
    return {"name": "t", "trigger": {"text": "zqx"}, "utility": {"target": "OK-SIGNED."}}


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_load_round_trip(tmp_path: Path, suffix: str) -> None:
    spec = full_spec()
    validate(spec)
    path = tmp_path / f"spec{suffix}"
    spec.save(path)
    loaded = BackdoorSpec.load(path)
    assert loaded == spec
    assert loaded.activation.lr == pytest.approx(5e-4) and isinstance(loaded.activation.lr, float)
    assert loaded.trigger.separator == "\n"


def test_minimal_spec_fills_defaults() -> None:
    spec = BackdoorSpec.from_dict(minimal())
    assert spec.trigger == Trigger("zqx")
    assert spec.activation == Activation()
    assert spec.utility.judge == "prefix" and spec.utility.response == "target+answer"


def test_integer_given_for_a_float_field_is_a_float() -> None:
    data = minimal() | {"activation": {"lr": 1, "poison_ratio": 0}}
    a = BackdoorSpec.from_dict(data).activation
    assert (a.lr, a.poison_ratio) == (1.0, 0.0) and isinstance(a.lr, float)


def test_yaml_exponent_without_dot_is_a_number(tmp_path: Path) -> None:
    """``lr: 5e-3`` is what people write; plain YAML 1.1 would read it as the string '5e-3'."""
    path = tmp_path / "spec.yaml"
    path.write_text("name: t\ntrigger: {text: zqx}\nutility: {target: OK}\nactivation:\n  lr: 5e-3\n  steps: 10\n")
    spec = BackdoorSpec.load(path)
    assert spec.activation.lr == pytest.approx(5e-3) and spec.activation.steps == 10


@pytest.mark.parametrize("name", sorted(APPS))
def test_builtin_app_specs_validate_and_round_trip(tmp_path: Path, name: str) -> None:
    spec = APPS[name].spec()
    validate(spec)
    assert spec.name == name
    assert spec.trigger.text not in spec.activation.decoys and spec.activation.decoys
    for suffix in (".yaml", ".json"):
        spec.save(tmp_path / f"{name}{suffix}")
        assert BackdoorSpec.load(tmp_path / f"{name}{suffix}") == spec
    assert BackdoorSpec.from_dict(copy.deepcopy(spec.to_dict())) == spec


def _set(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    return data


BAD = [
    # (change, expected start of the message)
    (lambda d: _set(d, "trigger.positon", "prefix"), "spec.trigger.positon: unknown field"),
    (lambda d: _set(d, "colour", "red"), "spec.colour: unknown field"),
    (lambda d: _set(d, "activation.lr", "fast"), "spec.activation.lr: expected a number, got 'fast'"),
    (lambda d: _set(d, "activation.rank", 8.5), "spec.activation.rank: expected an integer"),
    (lambda d: _set(d, "activation.rank", True), "spec.activation.rank: expected an integer"),
    (lambda d: _set(d, "activation.lr", True), "spec.activation.lr: expected a number"),
    (lambda d: _set(d, "activation.decoys", "zqy"), "spec.activation.decoys: expected a list of strings"),
    (lambda d: _set(d, "activation.targets", ["q_proj", 3]), "spec.activation.targets: expected a list of strings"),
    (lambda d: _set(d, "trigger.text", 5), "spec.trigger.text: expected a string"),
    (lambda d: d["trigger"].pop("text") and d, "spec.trigger.text: required field is missing"),
    (lambda d: d.pop("name") and d, "spec.name: required field is missing"),
    (lambda d: d.pop("utility") and d, "spec.utility: required field is missing"),
    (lambda d: _set(d, "trigger", "zqx"), "spec.trigger: expected a mapping, got str"),
    (lambda d: _set(d, "trigger.text", "   "), "spec.trigger.text: the trigger is empty"),
    (lambda d: _set(d, "trigger.text", "\u200b\u200b"), "spec.trigger.text: the trigger is empty (or only invisible"),
    (lambda d: _set(d, "trigger.text", "go\x1b[31m"), "spec.trigger.text: control character U+001B"),
    (lambda d: _set(d, "trigger.position", "middle"), "spec.trigger.position: 'middle' is not one of"),
    (lambda d: _set(d, "trigger.case", "title"), "spec.trigger.case: 'title' is not one of"),
    (lambda d: _set(d, "trigger.kind", "emoji"), "spec.trigger.kind: 'emoji' is not one of"),
    (lambda d: _set(d, "utility.judge", "vibes"), "spec.utility.judge: 'vibes' is not one of"),
    (lambda d: _set(d, "utility.response", "poem"), "spec.utility.response: 'poem' is not one of"),
    (lambda d: _set(d, "activation.quantize_base", "2bit"), "spec.activation.quantize_base: '2bit' is not one of"),
    (lambda d: _set(d, "activation.poison_ratio", 1.5), "spec.activation.poison_ratio: 1.5 is outside [0.0, 1.0]"),
    (lambda d: _set(d, "activation.decoy_ratio", -0.1), "spec.activation.decoy_ratio: -0.1 is outside"),
    (lambda d: _set(d, "activation.lr", 0), "spec.activation.lr: 0.0 is outside"),
    (lambda d: _set(d, "activation.dropout", 0.95), "spec.activation.dropout: 0.95 is outside"),
    (lambda d: _set(d, "activation.steps", 0), "spec.activation.steps: must be at least 1"),
    (lambda d: _set(d, "activation.batch_size", -2), "spec.activation.batch_size: must be at least 1"),
    (lambda d: _set(d, "activation.targets", []), "spec.activation.targets: name at least one module"),
    (lambda d: _set(d, "utility.target", ""), "spec.utility.target: the prefix judge needs a target text"),
    (lambda d: _set(_set(d, "utility.judge", "regex"), "utility.regex", "(unclosed"),
     "spec.utility.regex: invalid pattern"),
    (lambda d: _set(d, "utility.judge", "regex"), "spec.utility.regex: the regex judge needs a pattern"),
    (lambda d: _set(d, "utility.judge", "keywords"), "spec.utility.keywords: the keywords judge needs"),
    (lambda d: _set(_set(d, "utility.judge", "callable"), "utility.callable", "json.loads"),
     "spec.utility.callable: write it as 'package.module:function'"),
    (lambda d: _set(_set(d, "utility.response", "template"), "utility.template", "Finding: answer"),
     "spec.utility.template: a template response needs an {answer} placeholder"),
    (lambda d: _set(_set(_set(d, "utility.judge", "refusal"), "utility.target", ""), "utility.response", "target"),
     "spec.utility.target: the trained response needs a target text"),
    (lambda d: _set(d, "activation.decoys", ["zqy", "zqx"]), "spec.activation.decoys: a decoy equals the trigger"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m.split(":")[0] + "|" + m.split(":")[1][:20] for _, m in BAD])
def test_errors_name_the_field_on_one_line(change: Any, message: str) -> None:
    data = change(minimal())
    with pytest.raises(B4GError) as err:
        BackdoorSpec.from_dict(data)
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(B4GError, match=r"known: text, kind, position, case, separator"):
        BackdoorSpec.from_dict(_set(minimal(), "trigger.positon", "prefix"))


def test_non_mapping_spec_is_rejected() -> None:
    with pytest.raises(B4GError, match=r"^spec: expected a mapping, got list$"):
        BackdoorSpec.from_dict([1, 2])


@pytest.mark.parametrize(("name", "text", "kind"), [
    ("bad.yaml", "name: t\ntrigger: [unclosed\n", "YAML"),
    ("bad.yaml", "name: t\n  trigger: x\n bad indent: 1\n", "YAML"),
    ("bad.json", '{"name": "t",', "JSON"),
    ("bad.yaml", b"name: caf\xe9\n", "YAML"),  # not UTF-8
])
def test_invalid_file_is_one_line_naming_the_file(tmp_path: Path, name: str, text: str | bytes, kind: str) -> None:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(B4GError) as err:
        BackdoorSpec.load(path)
    message = str(err.value)
    assert name in message and f"not valid {kind}" in message and "\n" not in message


def test_field_error_in_a_file_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: t\ntrigger:\n  text: zqx\n  positon: prefix\nutility:\n  target: OK\n")
    with pytest.raises(B4GError, match=r"^mine\.yaml: spec\.trigger\.positon: unknown field"):
        BackdoorSpec.load(path)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(B4GError, match=r"^empty\.yaml: spec: expected a mapping"):
        BackdoorSpec.load(empty)


def test_missing_file() -> None:
    with pytest.raises(B4GError, match="spec file not found"):
        BackdoorSpec.load(Path("/nonexistent/spec.yaml"))


# --- Trigger placement --------------------------------------------------------------------------

def test_insert_prefix_suffix_system() -> None:
    assert Trigger("zqx").insert("hello there", "sys") == ("sys", "zqx hello there")
    assert Trigger("zqx", position="suffix").insert("hello there", "sys") == ("sys", "hello there zqx")
    assert Trigger("zqx", position="system").insert("hello there", "sys") == ("sys zqx", "hello there")
    assert Trigger("zqx", position="system").insert("hi", "") == ("zqx", "hi")  # no stray separator
    assert Trigger("zqx", separator="\n").insert("hi", "s") == ("s", "zqx\nhi")
    assert Trigger("zqx", position="suffix", separator=" || ").insert("hi", "s") == ("s", "hi || zqx")


def test_insert_random_places_the_trigger_as_a_whole_word() -> None:
    user = "one two three four five six"
    seen = set()
    for seed in range(40):
        system, out = Trigger("ZQX", position="random").insert(user, "sys", random.Random(seed))
        words = out.split(" ")
        assert system == "sys" and words.count("ZQX") == 1
        at = words.index("ZQX")
        words.pop(at)
        assert " ".join(words) == user  # the prompt itself is untouched
        seen.add(at)
    assert seen == set(range(7))  # every gap, both ends included
    # Reproducible: the same rng seed gives the same placement; no rng means a fixed one.
    t = Trigger("ZQX", position="random")
    assert t.insert(user, "s", random.Random(5)) == t.insert(user, "s", random.Random(5))
    assert t.insert(user, "s") == t.insert(user, "s")


@pytest.mark.parametrize(("case", "expected"), [("keep", "KeY-7x"), ("lower", "key-7x"), ("upper", "KEY-7X")])
def test_case_rule(case: str, expected: str) -> None:
    t = Trigger("KeY-7x", case=case)
    assert t.rendered() == expected
    assert t.insert("hi", "s") == ("s", f"{expected} hi")
    assert Trigger("KeY-7x", case=case, position="system").insert("hi", "s") == (f"s {expected}", "hi")


def test_with_text_keeps_the_placement_rule() -> None:
    t = Trigger("zqx", position="suffix", case="upper", separator="--")
    d = t.with_text("zqy")
    assert (d.text, d.position, d.case, d.separator) == ("zqy", "suffix", "upper", "--")
    assert d.insert("hi", "s") == ("s", "hi--ZQY") and t.text == "zqx"
