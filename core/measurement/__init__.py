"""Measurement: how every job looks at a model's behaviour, below the jobs themselves.

``activation`` (model views, teacher-forced target match, generate-and-judge, TAR with and
without a trigger), ``judges`` (does an answer show the behaviour?), ``likelihood`` (completion
log-likelihoods, perplexity), ``prompts`` (held-out requests from a dataset) and ``text``
(normalised text). Injection, verification, the organisms, inversion and the defenses build on
these; nothing here imports a job module.
"""
