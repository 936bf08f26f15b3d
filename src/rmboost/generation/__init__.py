"""A generation run: its options (`config.py`), the engine that runs a method over prompts
(`engine.py`), one run into one output (`run.py`), the settings fingerprint of an output and the
options that do not apply (`settings.py`), its summary, its progress display and its cost."""
