"""Model layer: what to load (``ref``), checks (``validate``), loading (``loader``), memory,
GGUF conversion cache, chat generation and session records."""
