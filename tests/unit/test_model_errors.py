"""Every bad model input ends in one clear line (a B4GError), never a stack trace."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from core.errors import B4GError
from core.models import validate
from core.models.gguf_cache import embedded_gguf
from core.models.loader import LoadedModel, load_model
from core.models.ref import LoadOptions, ModelRef


def load(path: Path | str, adapters: tuple[Path, ...] = (), **options: object) -> LoadedModel:
    return load_model(ModelRef.parse(str(path), [str(a) for a in adapters]), LoadOptions(**options))


def refused(match: str, path: Path | str, adapters: tuple[Path, ...] = (), **options: object) -> str:
    """Load, expect a one-line B4GError matching ``match``; return its message."""
    with pytest.raises(B4GError, match=match) as err:
        load(path, adapters, **options)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def copy_model(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def edit_config(folder: Path, **changes: object) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, **changes}))


def test_missing_folder(tmp_path: Path) -> None:
    refused("model folder not found", tmp_path / "nope")


def test_file_that_is_not_gguf(tmp_path: Path) -> None:
    (tmp_path / "weights.txt").write_text("hello")
    refused("neither a model folder nor a .gguf file", tmp_path / "weights.txt")


def test_folder_without_config(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    refused("has no config.json", tmp_path / "m")


def test_corrupt_safetensors(tmp_path: Path, tiny_model: Path) -> None:
    folder = copy_model(tiny_model, tmp_path / "m")
    (folder / "model.safetensors").write_bytes(os.urandom(4096))
    refused(r"model\.safetensors is not a valid safetensors file", folder)


def test_truncated_safetensors(tmp_path: Path, tiny_model: Path) -> None:
    folder = copy_model(tiny_model, tmp_path / "m")
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    refused(r"model\.safetensors is truncated or corrupt", folder)


def test_weights_without_the_models_tensors_are_refused(tmp_path: Path, tiny_model: Path) -> None:
    """A safetensors file holding none of the model's tensors used to load (random weights, exit 0)."""
    from safetensors.torch import load_file, save_file

    folder = copy_model(tiny_model, tmp_path / "m")
    save_file({"x": torch.zeros(2)}, str(folder / "model.safetensors"), metadata={"format": "pt"})
    refused("lack .* of the model's tensors", folder)
    full = load_file(str(tiny_model / "model.safetensors"))
    save_file({**full, "extra.weight": torch.zeros(2)}, str(folder / "model.safetensors"), metadata={"format": "pt"})
    refused("does not have .*extra.weight", folder)
    save_file({**full, "model.layers.0.self_attn.rotary_emb.inv_freq": torch.zeros(2)}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    assert load(folder).parameters > 0  # a buffer some exporters save is not a reason to refuse


def test_pickle_weights_refused_unless_allowed(tmp_path: Path, tiny_model: Path) -> None:
    # save_pretrained(safe_serialization=False) still writes safetensors in transformers 5,
    # so the pickle checkpoint is written by hand, as older tools did.
    from safetensors.torch import load_file

    folder = copy_model(tiny_model, tmp_path / "m")
    state = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(state, folder / "pytorch_model.bin")
    message = refused(r"only pickle weights \(pytorch_model\.bin\)", folder)
    assert "--allow-pickle" in message
    loaded = load(folder, allow_pickle=True)
    assert [p.name for p in loaded.weight_files] == ["pytorch_model.bin"]
    assert torch.equal(loaded.model.get_input_embeddings().weight, state["model.embed_tokens.weight"])


def test_random_bytes_gguf(tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_bytes(os.urandom(4096))
    refused("is not a GGUF file", tmp_path / "m.gguf")


def test_truncated_gguf(tmp_path: Path) -> None:
    with embedded_gguf().open("rb") as fh:
        (tmp_path / "cut.gguf").write_bytes(fh.read(1000))
    refused(r"cut\.gguf is truncated or corrupt \(1000 bytes\)", tmp_path / "cut.gguf")


def test_missing_gguf(tmp_path: Path) -> None:
    refused("GGUF file not found", tmp_path / "absent.gguf")


def test_gguf_of_unknown_architecture(tmp_path: Path) -> None:
    import numpy as np
    from gguf import GGUFWriter

    path = tmp_path / "odd.gguf"
    writer = GGUFWriter(str(path), "notanarch")
    writer.add_tensor("w", np.zeros(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    refused("unknown GGUF architecture 'notanarch'", path)


def test_unknown_architecture(tmp_path: Path, tiny_model: Path) -> None:
    folder = copy_model(tiny_model, tmp_path / "m")
    edit_config(folder, model_type="notanarch")
    refused("unknown architecture 'notanarch'", folder)


def test_remote_code_needs_trust_remote_code(tmp_path: Path, tiny_model: Path) -> None:
    folder = copy_model(tiny_model, tmp_path / "m")
    edit_config(folder, model_type="notanarch", auto_map={"AutoModelForCausalLM": "modeling_x.XForCausalLM"})
    refused("trust_remote_code", folder)


def test_adapter_for_another_base(tmp_path: Path, tiny_model: Path, tiny_adapter: Path, tiny_llama_factory) -> None:
    wider = tiny_llama_factory(tmp_path / "wider", tiny_model, hidden=96)
    message = refused(r"adapter lora does not match this base model", wider, (tiny_adapter,))
    assert "[4, 64] in the adapter but [4, 96] in the model" in message


def test_adapter_folder_missing_or_not_an_adapter(tmp_path: Path, tiny_model: Path) -> None:
    refused("adapter folder not found", tiny_model, (tmp_path / "nope",))
    (tmp_path / "empty").mkdir()
    refused("has no adapter_config.json", tiny_model, (tmp_path / "empty",))


def test_quantization_without_bitsandbytes(monkeypatch: pytest.MonkeyPatch, tiny_model: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(validate.importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    refused("8bit quantization needs bitsandbytes", tiny_model, quantization="8bit")
    refused("4bit quantization needs bitsandbytes", tiny_model, quantization="4bit")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu(tiny_model: Path) -> None:
    refused("no CUDA GPU is available", tiny_model, device="cuda")
