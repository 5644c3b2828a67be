"""YAML from outside (rule-set drafts, modules, simulation drafts), read within bounds.

Aliases make a small document stand for a huge one (a "billion laughs": ten aliases of ten
aliases of …): the parser keeps one node per anchor, but whatever walks the result (validation,
hashing, a merged draft's dump) walks every expansion. The loader therefore counts, while it
composes, the nodes the document would have with every alias expanded, and stops at the limit:
before any Python object is built, and before it has even read the rest of a long document.
"""
from __future__ import annotations

import yaml

MAX_NODES = 20_000  # the largest shipped rule set has about 730; parsing 20,000 takes about half a second


class DocumentTooLarge(yaml.YAMLError):
    """The document expands to more nodes than a rule set ever needs."""


class BoundedLoader(yaml.SafeLoader):
    """A safe loader that refuses a document of more than `max_nodes` nodes, aliases expanded."""

    max_nodes = MAX_NODES

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._expanded = 0
        self._sizes: dict[int, int] = {}  # an anchored node's expanded size, by node

    def _add(self, nodes: int) -> None:
        self._expanded += nodes
        if self._expanded > self.max_nodes:
            raise DocumentTooLarge(f"the document expands to more than {self.max_nodes:,} nodes (counting its aliases)")

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:  # an alias inside its own anchor: an endless document
                raise DocumentTooLarge("an alias refers to the node that contains it")
            self._add(self._sizes[id(node)])
            return node
        before = self._expanded
        self._add(1)
        node = super().compose_node(parent, index)
        self._sizes[id(node)] = self._expanded - before
        return node


def load(text: str):
    """One YAML document as Python data, safely and within MAX_NODES; yaml.YAMLError otherwise."""
    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
