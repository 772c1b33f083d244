"""Source documents: reading and parsing them, extracting uploads, and the verbatim check."""
