"""The client address behind proxies: X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.client_address import client_address, trusted_networks
from shared.settings import Settings

PROXIES = trusted_networks("10.0.0.0/8, 192.0.2.7")


def test_no_trusted_proxies_by_default_the_peer_is_the_client():
    assert Settings().trusted_proxies == ""
    assert client_address("198.51.100.4", ["203.0.113.9"], trusted_networks("")) == "198.51.100.4"


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    for forged in (["203.0.113.1"], ["203.0.113.2, 10.0.0.5"], ["1.1.1.1", "2.2.2.2"]):
        assert client_address("198.51.100.4", forged, PROXIES) == "198.51.100.4"


def test_from_a_trusted_proxy_the_forwarded_client_counts():
    assert client_address("10.1.2.3", ["203.0.113.9"], PROXIES) == "203.0.113.9"


def test_the_right_most_untrusted_hop_not_what_the_client_wrote():
    # The client wrote 1.2.3.4 itself; our proxies saw it connect from 203.0.113.9.
    assert client_address("10.1.2.3", ["1.2.3.4, 203.0.113.9, 192.0.2.7"], PROXIES) == "203.0.113.9"
    # Two headers are one list, in order.
    assert client_address("10.1.2.3", ["1.2.3.4", "203.0.113.9, 10.9.9.9"], PROXIES) == "203.0.113.9"


def test_garbage_behind_our_proxies_counts_at_the_last_hop_we_can_vouch_for():
    assert client_address("10.1.2.3", ["not-an-address, 10.0.0.8"], PROXIES) == "10.0.0.8"
    assert client_address("10.1.2.3", ["<script>"], PROXIES) == "10.1.2.3"


def test_a_trusted_proxy_without_the_header_is_the_client():
    assert client_address("10.1.2.3", [], PROXIES) == "10.1.2.3"


def test_ipv6_peers_and_networks():
    trusted = trusted_networks("2001:db8::/32")
    assert client_address("2001:db8::1", ["2001:db8:ffff::2, 2400:cb00::7"], trusted) == "2400:cb00::7"
    assert client_address("2400:cb00::7", ["2001:db8::5"], trusted) == "2400:cb00::7"


def test_a_bad_proxy_entry_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES: 'proxy.example.org' is not an IP address or CIDR"):
        Settings(trusted_proxies="10.0.0.1, proxy.example.org")
