"""Defenses: unlearning, the inference-time guardrail, and their measurements."""
