"""What to load (``ModelRef``) and how (``LoadOptions``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.errors import B4GError

ModelKind = Literal["embedded", "hf", "gguf"]
QUANTIZATIONS = ("none", "8bit", "4bit")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")

EMBEDDED = "embedded"


@dataclass(frozen=True)
class ModelRef:
    """A model to audit: the embedded default, a Hugging Face folder or a GGUF file, plus adapters."""

    kind: ModelKind
    path: str | None = None
    adapters: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, adapters: tuple[str, ...] | list[str] = ()) -> "ModelRef":
        """``embedded``, a folder path, or a ``*.gguf`` file path (existence is checked at load)."""
        text = (text or "").strip()
        if not text:
            raise B4GError("no model given: use 'embedded', a model folder or a .gguf file")
        adapters = tuple(str(Path(a).expanduser()) for a in adapters)
        if text == EMBEDDED:
            return cls("embedded", None, adapters)
        path = Path(text).expanduser()
        if path.suffix.lower() == ".gguf":
            return cls("gguf", str(path), adapters)
        return cls("hf", str(path), adapters)

    def with_adapters(self, adapters: tuple[str, ...] | list[str]) -> "ModelRef":
        return ModelRef(self.kind, self.path, tuple(adapters))

    def describe(self) -> str:
        base = "embedded SmolLM2-135M-Instruct" if self.kind == "embedded" else str(self.path)
        return base + "".join(f" + {Path(a).name}" for a in self.adapters)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "adapters": list(self.adapters)}


@dataclass
class LoadOptions:
    """How to load: device, dtype, bitsandbytes quantization, and the two safety switches."""

    device: str = "auto"
    dtype: str = "auto"
    quantization: str = "none"
    double_quant: bool = True  # 4-bit only: quantize the quantization constants too
    compute_dtype: str = "auto"  # 4-bit only: dtype the matmuls run in
    trust_remote_code: bool = False  # never on unless the user turns it on
    allow_pickle: bool = False  # *.bin / *.pt weights can run code when unpickled
    template: str = "auto"  # prompt template: the model's own chat template, or a pinned one (alpaca)
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> "LoadOptions":
        for name, value, allowed in (("quantization", self.quantization, QUANTIZATIONS),
                                     ("device", self.device, DEVICES), ("dtype", self.dtype, DTYPES),
                                     ("compute dtype", self.compute_dtype, DTYPES)):
            if value not in allowed:
                raise B4GError(f"unknown {name} '{value}' (choose one of {', '.join(allowed)})")
        from core.models.templates import check

        check(self.template)
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
