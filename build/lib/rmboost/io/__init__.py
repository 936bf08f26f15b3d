"""File IO: the one reader and writer of rows (`rows.py`), prompt records read from them
(`prompts.py`), and a run's output files, lock and resume state (`output.py`)."""
