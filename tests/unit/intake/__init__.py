"""Intake in memory: its handlers and use cases over a fake store (no database, no broker)."""
