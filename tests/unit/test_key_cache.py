"""The API-key lookup cache: short-lived (revocations reach every replica) and bounded."""

from __future__ import annotations

import secrets

from shared.auth import CACHE_TTL, KeyCache, Principal

KNOWN = ("digest", Principal("known", "partner", frozenset({"window"})))


def test_revocation_visible_within_a_second():
    assert CACHE_TTL < 1.0


def test_entries_expire_after_the_ttl():
    cache = KeyCache(ttl=0.5, size=10)
    cache.put("known", KNOWN, now=100.0)
    assert cache.get("known", now=100.4) == KNOWN
    assert cache.get("known", now=100.5) is not KNOWN  # read again from the database


def test_many_unknown_key_ids_stay_within_the_bound():
    cache = KeyCache(ttl=60, size=1000)
    for i in range(50_000):
        cache.put(secrets.token_hex(8), None, now=float(i))
    assert len(cache) == 1000


def test_a_key_in_use_survives_a_flood_of_unknown_ids():
    cache = KeyCache(ttl=60, size=100)
    cache.put("known", KNOWN, now=0.0)
    for i in range(10_000):
        cache.put(f"unknown{i}", None, now=1.0)
        if i % 50 == 0:  # the partner keeps calling: its entry stays the most recently used
            assert cache.get("known", now=1.0) == KNOWN
    assert cache.get("known", now=1.0) == KNOWN and len(cache) == 100


def test_unknown_ids_are_remembered_as_unknown():
    cache = KeyCache(ttl=60, size=10)
    cache.put("nosuchkey", None, now=0.0)
    assert cache.get("nosuchkey", now=1.0) is None
