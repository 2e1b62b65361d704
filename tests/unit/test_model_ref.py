"""ModelRef.parse and LoadOptions.validate: pure parsing, nothing is loaded."""

from pathlib import Path

import pytest

from core.errors import B4GError
from core.models.ref import LoadOptions, ModelRef


def test_parse_embedded_folder_and_gguf(tmp_path: Path) -> None:
    assert ModelRef.parse("embedded") == ModelRef("embedded", None, ())
    assert ModelRef.parse("  embedded\n").kind == "embedded"
    folder = ModelRef.parse(str(tmp_path / "my-model"), [str(tmp_path / "lora")])
    assert (folder.kind, folder.path, folder.adapters) == ("hf", str(tmp_path / "my-model"), (str(tmp_path / "lora"),))
    assert ModelRef.parse(str(tmp_path / "m.Q4_K_M.GGUF")).kind == "gguf"
    assert ModelRef.parse("~/m.gguf").path == str(Path.home() / "m.gguf")
    assert ModelRef.parse("embedded", ["a"]).describe().endswith("+ a")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_parse_empty_is_a_one_line_error(text: str | None) -> None:
    with pytest.raises(B4GError, match="no model given") as err:
        ModelRef.parse(text)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_default_options_are_valid_and_safe() -> None:
    opts = LoadOptions().validate()
    assert (opts.device, opts.dtype, opts.quantization) == ("auto", "auto", "none")
    assert not opts.trust_remote_code and not opts.allow_pickle


@pytest.mark.parametrize(("field", "value", "words"), [
    ("quantization", "3bit", "unknown quantization '3bit'"),
    ("device", "tpu", "unknown device 'tpu'"),
    ("dtype", "float8", "unknown dtype 'float8'"),
    ("compute_dtype", "int4", "unknown compute dtype 'int4'"),
])
def test_validate_names_the_bad_value_and_the_choices(field: str, value: str, words: str) -> None:
    with pytest.raises(B4GError, match=words) as err:
        LoadOptions(**{field: value}).validate()
    assert "choose one of" in str(err.value) and "\n" not in str(err.value)
