"""Verification: each department's verifier looks facts up in its registry and answers."""
