"""From a question to a cited answer: the extractive steps, citation numbering, the checks on
an LLM's answer, and the answer service that runs them."""
