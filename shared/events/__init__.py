"""Event envelope and the catalogue of event types the platform's services exchange."""
from shared.events.envelope import Envelope, EventParseError
from shared.events.catalogue import CATALOGUE, TOPICS, parse_data

__all__ = ["Envelope", "EventParseError", "CATALOGUE", "TOPICS", "parse_data"]
