"""Who is calling: the address counted by the abuse limits.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the direct
peer is one of our own proxies (TRUSTED_PROXIES: addresses or CIDRs, none by default), and then
only as far as our proxies reach: the client is the right-most hop that is not a trusted proxy.
Anything left of it was written by the client and proves nothing.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import Request

Network = IPv4Network | IPv6Network


@lru_cache
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """'10.0.0.0/8, 192.0.2.7' -> networks; a ValueError names an entry that is neither."""
    networks = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {part!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address, given the direct peer and the X-Forwarded-For header values in order."""
    client = peer or "unknown"
    if not trusted or not _trusted(client, trusted):
        return client
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            # Not an address: a trusted proxy would not write that, so it came from the far side of
            # our last trusted hop; count that hop, the last address we can vouch for.
            return client
        client = hop
        if not _trusted(hop, trusted):
            return hop
    return client  # all trusted (a request from inside): the left-most hop


def request_client(request: Request) -> str:
    """The client address of a request, under the process's TRUSTED_PROXIES."""
    peer = request.client.host if request.client else None
    trusted = trusted_networks(request.app.state.settings.trusted_proxies)
    return client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
