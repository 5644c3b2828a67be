"""The departments' append-only, hash-chained audit log of registry queries (a sub-domain).

chain.py appends to a chain and checks one; anchors.py records the chains' heads where a tail
cut off would show; `python -m services.verification.audit verify` is the operators' check.
"""
