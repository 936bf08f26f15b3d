"""A generation run: its options (`config.py`), the engine that runs a method over prompts
(`engine.py`), one run into one output (`run.py`), its summary and its progress display."""
