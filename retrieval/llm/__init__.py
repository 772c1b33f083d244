"""The chat model behind LLM answers and briefings, and its prompt files."""
