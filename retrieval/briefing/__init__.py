"""Briefings: choosing the points, keeping to a topic, what is new since the last one."""
