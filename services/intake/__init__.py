"""Intake: the partner-facing application API and the status read model."""
