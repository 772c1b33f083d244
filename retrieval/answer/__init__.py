"""From a question to a cited answer: citation numbering, the checks on an LLM's answer, and
the answer service that runs retrieval, the offline evidence step (`retrieval.evidence`) and
the LLM."""
