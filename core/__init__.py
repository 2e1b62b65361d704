"""B4G Workbench engine: models, backdoors, inversion, defenses, audit store.

The engine never imports Qt; the desktop front end lives in ``app/``.
"""

__version__ = "0.1.0"
