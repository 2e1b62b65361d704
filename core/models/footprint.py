"""Memory before loading (estimated from the config on the meta device) and after (measured)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
_BLOCK_4BIT = 64  # bitsandbytes NF4 block size: one absmax per 64 weights


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int
    bytes: int


def _meta_model(folder: Path, trust_remote_code: bool) -> torch.nn.Module:
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)


def _linear_bytes(weight: torch.nn.Parameter, quantization: str, double_quant: bool, dtype_bytes: int) -> float:
    n = weight.numel()
    if quantization == "4bit":
        absmax = (n / _BLOCK_4BIT) * (1 if double_quant else 4)
        return n * 0.5 + absmax
    if quantization == "8bit":
        return n * 1 + weight.shape[0] * 4  # int8 weights + one fp32 scale per row
    return n * dtype_bytes


def estimate(folder: Path, dtype: str, quantization: str = "none", double_quant: bool = True,
             trust_remote_code: bool = False) -> MemoryEstimate:
    """Bytes the weights will take once loaded; quantization applies to the decoder's Linear
    layers, not to embeddings, norms or a (tied) output head, as transformers does."""
    model = _meta_model(folder, trust_remote_code)
    dtype_bytes = _BYTES[dtype]
    head = model.get_output_embeddings()
    head_weight = head.weight if head is not None else None
    total, params, seen = 0.0, 0, set()
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if id(p) in seen:
                continue  # tied weights count once
            seen.add(id(p))
            params += p.numel()
            quantizable = isinstance(module, torch.nn.Linear) and p.ndim == 2 and p is not head_weight
            total += _linear_bytes(p, quantization if quantizable else "none", double_quant, dtype_bytes)
    for b in model.buffers():
        total += b.numel() * b.element_size()
    return MemoryEstimate(parameters=params, bytes=int(total))


def footprint(model: torch.nn.Module) -> int:
    """Bytes actually held by the loaded model's parameters and buffers."""
    return int(model.get_memory_footprint())
