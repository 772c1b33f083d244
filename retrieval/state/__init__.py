"""What the bot remembers between messages: answers and votes, the audit log, conversations,
briefing subscriptions."""
