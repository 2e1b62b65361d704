"""Human-readable quantities shared by the CLI and the window."""

from __future__ import annotations


def human_bytes(n: float | None) -> str:
    """``538060288`` → ``513.1 MiB``."""
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
