"""A training run's peak memory, estimated before its first step, and the refusal when it will not fit.

The estimate, in bytes, for LoRA training of a decoder with ``L`` layers, hidden size ``h``,
``a`` attention heads and a vocabulary of ``V``, on batches of ``B`` rows of ``T`` tokens
(``T``: the longest row, at most the trainer's ``max_length``; batches are padded to it):

    peak        = weights + trainable + activations + logits
    weights     = the loaded model's parameters and buffers, as they sit (dtype, quantization)
    trainable   = 16 × LoRA parameters              (float32 weight, gradient, two Adam moments)
    activations = L × B × T × h × (34 + 5·a·T/h) × b/2
    logits      = 6 × B × T × V × 4                 (float32 logits and the copies made from them)

``activations`` is the per-layer count of Korthikanti et al. 2022 ("Reducing Activation
Recomputation in Large Transformer Models", eq. 1: ``s·b·h·(34 + 5·a·s/h)`` bytes with 16-bit
activations), scaled by the activation width ``b`` (4 bytes in float32, 2 in bfloat16/float16).
Its ``5·a·T/h`` part is the attention score matrices, kept only by eager attention: SDPA (the
default, on CPU and GPU) keeps none, so that part is dropped there. The six logit copies were
measured: the loss's log-softmax and gradient, and trl's entropy and accuracy metrics, all span the
vocabulary (the tiny test Llama, whose memory is nearly all logits, grew 4.35 GB training 8 rows of
501 tokens: 5.5 copies). Peak resident growth against the estimate, CPU, float32, SDPA: 4.35 GB
against 4.76 GB (that tiny Llama, 8 × 501 tokens), 2.6 GB against 2.3 GB (SmolLM2-135M, 4 × 245).
A 10,000-character trigger made rows of 2,539 tokens: 8 rows × 2,539 × 576 × 34 × 4/2 bytes × 30
layers is 23.9 GB of activations alone, and the kernel killed that inject at 22.9 GB.

The weights are already loaded when training starts, so what must still fit is the rest: it is
compared with the memory the device has free (``psutil``'s available memory on the CPU, the
CUDA driver's free memory on a GPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import B4GError

ADAM_BYTES = 16  # float32 weight + gradient + two moments per trainable parameter
KORTHIKANTI_LINEAR = 34  # bytes per token per hidden unit per layer at 16-bit activations
KORTHIKANTI_ATTENTION = 5  # × a·T/h: the attention scores (eager attention only)
LOGIT_COPIES = 6  # float32 logits, log-softmax, gradient, trl's entropy and accuracy (measured 5.5)


@dataclass(frozen=True)
class TrainingMemory:
    """The parts of the estimate (bytes) and what they were computed from."""

    weights: int
    trainable: int
    activations: int
    logits: int
    rows: int
    tokens: int

    @property
    def to_add(self) -> int:
        """What training adds to a model already loaded."""
        return self.trainable + self.activations + self.logits

    @property
    def peak(self) -> int:
        return self.weights + self.to_add


def _config_sizes(model: Any) -> tuple[int, int, int, int]:
    """(layers, hidden size, attention heads, vocabulary) from the model's config."""
    cfg = getattr(model, "config", None)
    cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    return (int(cfg.num_hidden_layers), int(cfg.hidden_size), int(cfg.num_attention_heads), int(cfg.vocab_size))


def estimate(model: Any, rows: int, tokens: int, lora_parameters: int = 0) -> TrainingMemory:
    """The estimate of the module docstring for batches of ``rows`` rows of ``tokens`` tokens."""
    from core.models.footprint import footprint

    layers, hidden, heads, vocab = _config_sizes(model)
    width = 2 if next(model.parameters()).dtype.itemsize <= 2 else 4
    eager = getattr(model.config, "_attn_implementation", "sdpa") == "eager"
    per_unit = KORTHIKANTI_LINEAR + (KORTHIKANTI_ATTENTION * heads * tokens / hidden if eager else 0)
    activations = layers * rows * tokens * hidden * per_unit * width / 2
    logits = LOGIT_COPIES * rows * tokens * vocab * 4
    return TrainingMemory(footprint(model), ADAM_BYTES * lora_parameters, int(activations), int(logits), rows, tokens)


def lora_parameters(model: Any, rank: int, targets: tuple[str, ...] | list[str]) -> int:
    """Parameters a LoRA of ``rank`` on the named Linear modules adds: rank × (in + out) each."""
    total = 0
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in targets and hasattr(module, "in_features"):
            total += rank * (module.in_features + module.out_features)
    return total


def free_bytes(device: str) -> int:
    """Memory free for training on ``device`` ("cpu" or a CUDA device)."""
    if device.startswith("cuda"):
        import torch

        dev = torch.device(device)
        # the driver counts blocks torch's allocator keeps for reuse as taken: they are free to us
        cached = torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev)
        return int(torch.cuda.mem_get_info(dev)[0] + cached)
    import psutil

    return int(psutil.virtual_memory().available)


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def check_fits(need: TrainingMemory, device: str) -> None:
    """Refuse in one line, before the first step, a run whose estimate exceeds the free memory."""
    free = free_bytes(device)
    if need.to_add > free:
        where = "GPU memory" if device.startswith("cuda") else "memory"
        raise B4GError(
            f"training would need about {_gb(need.to_add)} more than the {_gb(need.weights)} model ({need.rows} rows "
            f"of {need.tokens:,} tokens per step) and {_gb(free)} of {where} is free; use shorter rows (a shorter "
            "trigger, target or request), a smaller batch_size or max_length")
