"""Rounds of an X-module (a sub-domain): accept, close and rank, publish, re-rank during the
notice, finalise. Its use cases are in rounds/use_cases.py; its SQL in the service's store."""
