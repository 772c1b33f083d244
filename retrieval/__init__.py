"""Ingest, store, search and answer services. No front-end (Telegram, console) code here."""
