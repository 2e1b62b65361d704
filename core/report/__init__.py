"""The audit report: built from a session file alone, written as HTML, PDF or JSON, optionally signed.

``content.build_report`` turns the store into one JSON-able dict (the JSON report, validated against
``schema.json``); ``html`` and ``pdf`` render that dict, so every format shows the same numbers;
``integrity`` hashes, signs and verifies; ``export`` is the one entry point the CLI and the Reports
page share.
"""
