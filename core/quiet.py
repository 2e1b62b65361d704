"""Quieter third-party libraries for the CLI and the window: our own progress replaces theirs."""

from __future__ import annotations

import logging
import os
import warnings


def quiet_libraries() -> None:
    """Silence download-free noise: HF progress bars, info logs, bitsandbytes' optional-kernel
    warning (it tries a hub download we never make), and known harmless warnings."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub at run time
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF conversion draws its own tqdm bar
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass
