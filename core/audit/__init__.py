"""The audit in one step: model -> behaviour -> trigger -> removal -> report (``b4g audit``, the Audit page).

An orchestrator above the jobs: it builds the jobs' own requests and runs each through
:func:`core.jobs.execute`, so every stage is its own run in the session, recorded as if the auditor
had typed the command. ``request.py``: the audit's request and settings; ``stage_jobs.py``: the two
small jobs no other command records (the model's fingerprint, the data scan); ``stages.py``: the
stage list and the decisions between stages; ``flow.py``: the stages in order; ``run.py``: running
and resuming each, and the report; ``summary.py``: the audit's result; ``sections.py``: its wording;
``estimate.py``: the time left.
"""
