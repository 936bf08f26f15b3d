"""What the LLM is shown: tasks (how a prompt record is rendered, and the task's quality aspects)
and method templates, both YAML data files under `resources/`; how a prompt row becomes model
input (`model_input.py`); how a prompt reads as text and what its question is (`prompt_text.py`)."""
