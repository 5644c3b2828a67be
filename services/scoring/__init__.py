"""Scoring: rule sets as data, one vectorised engine, immutable explained score versions."""
