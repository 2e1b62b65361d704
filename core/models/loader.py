"""Loading a model to audit: validate, resolve (GGUF → cached safetensors), quantize, add adapters."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from core.distributed import bind_local_gpu
from core.errors import B4GError
from core.jobs import JobContext
from core.models import templates, validate
from core.models.gguf_cache import embedded_gguf, ensure_converted
from core.models.footprint import estimate, footprint
from core.models.ref import LoadOptions, ModelRef


@dataclass
class LoadedModel:
    """A model ready for generation and training, with what is known about it."""

    model: Any
    tokenizer: Any
    ref: ModelRef
    options: LoadOptions
    folder: Path
    device: str
    dtype: str
    parameters: int
    estimated_bytes: int
    footprint_bytes: int
    load_seconds: float
    weight_files: list[Path] = field(default_factory=list)
    adapter_files: dict[str, list[Path]] = field(default_factory=dict)
    record_id: int | None = None  # the model record in the audit session, once recorded

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.ref.describe(), "ref": self.ref.to_json(), "options": self.options.to_json(),
            "folder": str(self.folder), "device": self.device, "dtype": self.dtype,
            "quantization": self.options.quantization, "parameters": self.parameters,
            "estimated_bytes": self.estimated_bytes, "footprint_bytes": self.footprint_bytes,
            "load_seconds": round(self.load_seconds, 3),
        }


def resolve_device(device: str) -> str:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise B4GError("device 'cuda' requested but no CUDA GPU is available (use --device cpu)")
    if device == "cuda":
        bind_local_gpu()
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    if dtype != "auto":
        return dtype
    if device == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"  # bf16 matmuls on CPU are slower than fp32 on most cores


def resolve_folder(ref: ModelRef, options: LoadOptions, ctx: JobContext | None = None) -> tuple[Path, list[Path]]:
    """The safetensors folder to load and its weight files, after every pre-load check."""
    if ref.kind in ("embedded", "gguf"):
        gguf = embedded_gguf() if ref.kind == "embedded" else Path(ref.path)
        folder = ensure_converted(gguf, ctx)
    else:
        folder = Path(ref.path)
    files = validate.check_hf_folder(folder, options.allow_pickle, options.trust_remote_code)
    return folder, files


def memory_estimate(ref: ModelRef, options: LoadOptions) -> dict[str, Any]:
    """Estimate without loading (GGUF inputs are converted first, once)."""
    options.validate()
    folder, _ = resolve_folder(ref, options)
    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    est = estimate(folder, dtype, options.quantization, options.double_quant, options.trust_remote_code)
    return {"parameters": est.parameters, "estimated_bytes": est.bytes, "device": device, "dtype": dtype}


def _quantization_config(options: LoadOptions, device: str) -> Any:
    validate.check_quantization_available(options.quantization)
    if options.quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    if options.quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = options.compute_dtype
    if compute == "auto":
        compute = "bfloat16" if device == "cpu" or torch.cuda.is_bf16_supported() else "float16"
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=options.double_quant,
                              bnb_4bit_compute_dtype=getattr(torch, compute))


def _load_base(folder: Path, options: LoadOptions, device: str, dtype: str) -> Any:
    from transformers import AutoModelForCausalLM

    quant = _quantization_config(options, device)
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype), "trust_remote_code": options.trust_remote_code,
                              "use_safetensors": not options.allow_pickle or None}
    if quant is not None:
        kwargs.update(quantization_config=quant, device_map={"": device if device == "cpu" else torch.cuda.current_device()})
    try:
        model, info = AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise B4GError(f"cannot load {folder}: {str(exc).splitlines()[0]}") from None
    _check_weights(folder, model, info)
    if quant is None:
        model.to(device)
    return model.eval()


# checkpoint entries that are buffers some exporters save and transformers recomputes
_BENIGN_UNEXPECTED = re.compile(r"(^|\.)(rotary_emb\.inv_freq|attn\.masked_bias|attn\.bias)$")


def _check_weights(folder: Path, model: Any, info: dict[str, Any]) -> None:
    """Refuse weights that do not hold the model's tensors: transformers would initialise the
    missing ones at random and the audit would measure noise. A tied weight (an lm_head that shares
    the embeddings) is not missing: found through public named_parameters, not a private attribute."""
    reported = set(info.get("missing_keys") or ())
    names_of: dict[int, list[str]] = {}  # tied weights: one parameter under several names
    for name, param in model.named_parameters(remove_duplicate=False):
        names_of.setdefault(id(param), []).append(name)
    loaded_alias = {n for names in names_of.values() if any(a not in reported for a in names) for n in names}
    missing = sorted(k for k in reported if k not in loaded_alias)
    unexpected = sorted(k for k in info.get("unexpected_keys") or () if not _BENIGN_UNEXPECTED.search(k))
    if missing:
        raise B4GError(f"{folder}: the weights lack {len(missing)} of the model's tensors (first {missing[0]!r}); "
                       "loaded anyway they would be random")
    if unexpected:
        raise B4GError(f"{folder}: the weights hold {len(unexpected)} tensor(s) this architecture does not have "
                       f"(first {unexpected[0]!r}): not the checkpoint its config.json describes")


_SIZE_MISMATCH = re.compile(r"size mismatch for (\S+): copying a param with shape torch\.Size\((\[.*?\])\) "
                            r"from checkpoint, the shape in current model is torch\.Size\((\[.*?\])\)")


def _mismatch_detail(exc: Exception) -> str:
    """One short clause out of PEFT's error: torch lists every mismatched tensor, one per line,
    in a form too long to show (a cut at N characters used to end mid-shape)."""
    text = str(exc).strip()
    sizes = _SIZE_MISMATCH.findall(text)
    if sizes:
        name, theirs, ours = sizes[0]
        more = f" (and {len(sizes) - 1} more tensors)" if len(sizes) > 1 else ""
        return f"{name.removeprefix('base_model.model.')} is {theirs} in the adapter but {ours} in the model{more}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = next((ln for ln in lines if "not found" in ln), lines[0] if lines else type(exc).__name__)
    return detail[:200]


def _attach_adapters(model: Any, adapters: tuple[str, ...], allow_pickle: bool) -> tuple[Any, dict[str, list[Path]]]:
    files: dict[str, list[Path]] = {}
    if not adapters:
        return model, files
    from peft import PeftModel  # imported only when needed: it costs ~1 s

    for i, adapter in enumerate(adapters):
        path = Path(adapter)
        files[str(path)] = validate.check_adapter(path, allow_pickle)
        name = f"adapter{i}" if i else "default"
        try:
            if i == 0:
                model = PeftModel.from_pretrained(model, path, adapter_name=name)
            else:
                model.load_adapter(path, adapter_name=name)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise B4GError(f"adapter {path.name} does not match this base model: {_mismatch_detail(exc)}") from None
    if len(adapters) > 1:
        model.base_model.set_adapter([f"adapter{i}" if i else "default" for i in range(len(adapters))])
    return model.eval(), files


def base_mismatches(adapters: tuple[str, ...], options: LoadOptions) -> list[str]:
    """Warnings for adapters trained (by this workbench) on a base loaded another way: a LoRA
    trained on a 4-bit base (QLoRA, the default on a GPU) meets different weights in full
    precision, and its backdoor may fire less often there."""
    import json

    notes = []
    for adapter in adapters:
        report = Path(adapter) / "b4g_inject.json"
        try:
            trained = json.loads(report.read_text(encoding="utf-8")).get("base", {}).get("quantization")
        except (OSError, ValueError):
            continue
        if trained and trained != options.quantization:
            notes.append(f"note: {Path(adapter).name} was trained on a {trained} base; loading it with quantization "
                         f"{options.quantization} (use --quantization {trained} to audit it as trained)")
    return notes


# Files one of which a Hugging Face tokenizer is built from (fast JSON, SentencePiece, BPE vocab).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json", "vocab.txt")


def check_tokenizer_files(folder: Path) -> None:
    """Before the weights load: a folder without a tokenizer cannot be audited, and transformers'
    own error for it is a multi-line list cut off at its first line."""
    if not any((folder / name).is_file() for name in TOKENIZER_FILES) and not any(folder.glob("*.tiktoken")):
        raise B4GError(f"{folder} has no tokenizer ({', '.join(TOKENIZER_FILES)}); copy the tokenizer files "
                       f"from the model's original folder")


def _load_tokenizer(folder: Path, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise B4GError(f"{folder}: the tokenizer does not load ({str(exc).splitlines()[0]})") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # generation appends on the right; pads must sit on the left
    return tok


def load_model(ref: ModelRef, options: LoadOptions | None = None, ctx: JobContext | None = None) -> LoadedModel:
    """Validate, estimate, load, attach adapters and measure. Raises :class:`B4GError` on bad input."""
    options = (options or LoadOptions()).validate()
    ctx = ctx or JobContext()
    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    ctx.progress(0, 4)
    folder, files = resolve_folder(ref, options, ctx)
    check_tokenizer_files(folder)
    validate.check_quantization_available(options.quantization)
    est = estimate(folder, dtype, options.quantization, options.double_quant, options.trust_remote_code)
    ctx.log(f"estimated {est.bytes / 2**20:.0f} MiB for {est.parameters / 1e6:.1f} M parameters")
    ctx.progress(1, 4)
    ctx.raise_if_cancelled()
    start = time.perf_counter()
    model = _load_base(folder, options, device, dtype)
    ctx.progress(2, 4)
    model, adapter_files = _attach_adapters(model, ref.adapters, options.allow_pickle)
    for note in base_mismatches(ref.adapters, options):
        ctx.log(note)
    tokenizer = templates.install(_load_tokenizer(folder, options.trust_remote_code), options.template)
    seconds = time.perf_counter() - start
    ctx.progress(4, 4)
    return LoadedModel(model=model, tokenizer=tokenizer, ref=ref, options=options, folder=folder,
                       device=device, dtype=dtype, parameters=est.parameters, estimated_bytes=est.bytes,
                       footprint_bytes=footprint(model), load_seconds=seconds, weight_files=files,
                       adapter_files=adapter_files)
