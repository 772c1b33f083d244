"""Where in a chat a message belongs: its forum topic, and the conversation it continues."""

from __future__ import annotations

from telegram import Message


def topic_thread(message: Message) -> int:
    """The forum topic's thread id, or 0 for a chat's main thread (replies in a plain group
    carry a thread id too, but only a topic message belongs to a topic)."""
    return (message.message_thread_id or 0) if message.is_topic_message else 0


def conversation_key(message: Message) -> tuple[int, int]:
    """One conversation per private chat, and per group topic."""
    return (message.chat_id, topic_thread(message))
