"""YAML from outside (rule-set drafts, modules, simulation drafts), read within bounds.

Aliases make a small document stand for a huge one (a "billion laughs": ten aliases of ten
aliases of …): the parser keeps one node per anchor, but whatever walks the result (validation,
hashing, a merged draft's dump) walks every expansion. So the parser's events are counted first,
each alias as the size of what it stands for, and the count stops at the limit: before any
Python object is built, and before the rest of a long document is even read. Only a document
under the limit is then loaded. Both passes use libyaml when it is there (tens of milliseconds
for a document at the limit; the pure-Python parser takes about half a second).
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 20_000  # the largest shipped rule set has about 730
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentTooLarge(yaml.YAMLError):
    """The document expands to more nodes than a rule set ever needs."""


def check_size(text: str, limit: int = MAX_NODES) -> None:
    """Raise DocumentTooLarge if `text` has more than `limit` nodes with every alias expanded."""
    total = 0
    sizes: dict[str, int] = {}  # an anchor's expanded size, once its node is complete
    open_: list[tuple[str | None, int]] = []  # collections being read: (anchor, count before them)
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in sizes:
                total += sizes[event.anchor]
            elif any(anchor == event.anchor for anchor, _ in open_):  # inside its own anchor: endless
                raise DocumentTooLarge("an alias refers to the node that contains it")
            # else an undefined alias: the loader names it
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_.append((event.anchor, total))
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_.pop()
            if anchor:
                sizes[anchor] = total - before
        if total > limit:
            raise DocumentTooLarge(f"the document expands to more than {limit:,} nodes (counting its aliases)")


def load(text: str) -> Any:
    """One YAML document as Python data, safely and within MAX_NODES; yaml.YAMLError otherwise."""
    check_size(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)
