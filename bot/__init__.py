"""The Telegram front end. It speaks only Telegram and calls the services in `retrieval`."""
