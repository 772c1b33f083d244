"""The `briefbot` command line: ingest, ask, chat, sources, eval."""
