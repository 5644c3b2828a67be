"""Pseudonymous holder keys: one person's records are linked across services without the ID number.

The key is a salted SHA-256 of the normalised ID number under CANDIDATE_KEY_SALT, a platform
secret: without the salt nobody can go from a key back to a number (the numbers are few enough
to try them all, so the salt is what protects them). It is the same formula publicity has always
used to group a child's parents, so keys already stored there keep matching.
"""

from __future__ import annotations

import hashlib
import hmac


def holder_key(id_number: str, salt: str) -> str:
    """The same person (whatever the spacing or case of the X) always gets the same key."""
    return hashlib.sha256(f"{salt}:{id_number.strip().upper()}".encode()).hexdigest()


def same_holder(key: str | None, id_number: str, salt: str) -> bool:
    """Whether a presented ID number is the one behind `key`, in constant time."""
    return key is not None and hmac.compare_digest(key.encode(), holder_key(id_number, salt).encode())
