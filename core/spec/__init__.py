"""Shared by every job: a backdoor's (T, A, U) spec, the data rows, and how rows are poisoned."""
