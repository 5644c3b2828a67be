"""Objections (异议) and reviews (复核), a sub-domain: lodged, sent to the departments for
re-verification, answered. Its use cases are in objections/use_cases.py; its SQL in the service's store."""
