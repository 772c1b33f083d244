"""Ingest, index, answer and brief: the services behind every front end. No Telegram here.

See docs/architecture.md for the stage packages and what each may import."""
