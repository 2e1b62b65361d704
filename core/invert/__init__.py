"""Backdoor self-awareness: make a poisoned model name its own trigger (reversal SFT + GRPO).

The pieces, each in its own module: ``config`` (every hyper-parameter), ``reversal`` (R-SFT
data), ``spans`` (candidate sub-spans), ``leak`` (target-leak guard), ``length`` (length penalty),
``buffer`` (candidate replay), ``awareness`` (evaluation-only metrics), ``scan`` (the data-scan
baseline). The true trigger reaches only ``awareness``; nothing that proposes or ranks candidates
ever sees it.
"""
