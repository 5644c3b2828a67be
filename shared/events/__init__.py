"""Event envelope and the catalogue of event types the platform's services exchange."""

from shared.events.catalogue import CATALOGUE, TOPICS, parse_data
from shared.events.envelope import Envelope, EventParseError

__all__ = ["Envelope", "EventParseError", "CATALOGUE", "TOPICS", "parse_data"]
