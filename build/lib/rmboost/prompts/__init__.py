"""What the LLM is shown: tasks (how a prompt record is rendered, and the task's quality aspects)
and method templates, both YAML data files under `resources/`."""
