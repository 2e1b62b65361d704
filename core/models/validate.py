"""Checks run before any weights are read, each failing with one clear line."""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

from core.errors import B4GError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
GGUF_MAGIC = b"GGUF"


def check_safetensors(path: Path) -> None:
    """Header readable and every tensor's byte range inside the file (catches truncation).

    Written by hand because ``safe_open`` maps the file lazily and a truncated file only fails
    later, deep inside loading, with a message that does not name the file.
    """
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n <= 0 or 8 + n > size:
                raise ValueError("header length past the end of the file")
            header = json.loads(fh.read(n))
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise B4GError(f"{path} is not a valid safetensors file ({exc})") from None
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    if ends and 8 + n + max(ends) > size:
        raise B4GError(f"{path} is truncated or corrupt: {size} bytes, tensors need {8 + n + max(ends)}")


def _weight_files(folder: Path) -> tuple[list[Path], list[Path]]:
    safe = sorted(folder.glob("*.safetensors"))
    pickles = sorted(p for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES and p.is_file())
    return safe, pickles


def check_weights(folder: Path, allow_pickle: bool, what: str = "model") -> list[Path]:
    """Return the weight files to hash; safetensors preferred, pickle refused unless allowed."""
    safe, pickles = _weight_files(folder)
    if safe:
        for f in safe:
            check_safetensors(f)
        return safe
    if pickles and not allow_pickle:
        raise B4GError(
            f"{folder} has only pickle weights ({pickles[0].name}); unpickling can run arbitrary code: "
            "convert them to safetensors, or allow pickle weights explicitly (--allow-pickle)"
        )
    if pickles:
        return pickles
    raise B4GError(f"{folder} holds no {what} weights (*.safetensors)")


def check_hf_folder(folder: Path, allow_pickle: bool, trust_remote_code: bool) -> list[Path]:
    if not folder.exists():
        raise B4GError(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise B4GError(f"{folder} is neither a model folder nor a .gguf file")
    config = folder / "config.json"
    if not config.exists():
        raise B4GError(f"{folder} has no config.json: not a Hugging Face model folder")
    check_architecture(config, trust_remote_code)
    return check_weights(folder, allow_pickle)


def check_architecture(config_file: Path, trust_remote_code: bool) -> None:
    from transformers import __version__ as tf_version
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    try:
        cfg = json.loads(config_file.read_text())
    except ValueError as exc:
        raise B4GError(f"{config_file} is not valid JSON ({exc})") from None
    model_type = cfg.get("model_type")
    if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return
    if cfg.get("auto_map") and not trust_remote_code:
        raise B4GError(
            f"architecture '{model_type}' needs the model's own code; it is not run unless you "
            "turn on trust_remote_code (--trust-remote-code)"
        )
    if not cfg.get("auto_map"):
        raise B4GError(
            f"unknown architecture '{model_type}' in {config_file} "
            f"(not a causal language model known to transformers {tf_version})"
        )


def check_gguf(path: Path) -> str:
    """Parse the GGUF header; return its architecture (must be one transformers can load)."""
    if not path.is_file():
        raise B4GError(f"GGUF file not found: {path}")
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise B4GError(f"{path} is not a GGUF file (it does not start with the GGUF magic bytes)")
    from gguf import GGUFReader
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    try:
        reader = GGUFReader(path)
        field = reader.fields["general.architecture"]
        arch = bytes(field.parts[field.data[0]]).decode()
    except KeyError:
        raise B4GError(f"{path} is not a usable GGUF file (no general.architecture)") from None
    except (ValueError, IndexError, OSError, struct.error):
        # With the magic right, a failing reader means the header or tensor table runs past the
        # end of the file; numpy's own message ("cannot reshape array…") would not say so.
        raise B4GError(f"{path} is truncated or corrupt ({path.stat().st_size} bytes): "
                       "its GGUF header or tensor data cannot be read") from None
    if arch not in GGUF_SUPPORTED_ARCHITECTURES:
        raise B4GError(f"unknown GGUF architecture '{arch}' in {path.name} (transformers cannot load it)")
    return arch


def check_adapter(folder: Path, allow_pickle: bool) -> list[Path]:
    if not folder.is_dir():
        raise B4GError(f"adapter folder not found: {folder}")
    if not (folder / "adapter_config.json").exists():
        raise B4GError(f"{folder} has no adapter_config.json: not a PEFT adapter folder")
    return check_weights(folder, allow_pickle, what="adapter")


def check_quantization_available(quantization: str) -> None:
    if quantization == "none":
        return
    if importlib.util.find_spec("bitsandbytes") is None:
        raise B4GError(f"{quantization} quantization needs bitsandbytes, which is not installed (pip install bitsandbytes)")
