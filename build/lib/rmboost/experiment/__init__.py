"""The comparison the paper makes, end to end: its YAML config (`config.py`), the run (`run.py`),
its tables (`tables.py`), the diagnostics of every pair set (`diagnostics.py`) and the figures."""
