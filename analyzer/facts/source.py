"""One node's bundle while facts are built: read items by id, record what could not be read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..bundle import Bundle, ItemRecord
from ..errors import InputError


@dataclass
class Source:
    """What a fact builder gets: the node's name and its bundle, and a place for problems."""

    node: str
    bundle: Bundle
    problems: list[str] = field(default_factory=list)

    def items(self, item_id: str) -> list[ItemRecord]:
        """The collected records with this id (a glob item has one per file)."""
        return self.bundle.collected(item_id)

    def texts(self, item_id: str) -> Iterator[tuple[ItemRecord, str]]:
        """(record, text) for every collected record with this id; unreadable ones become problems."""
        for item in self.items(item_id):
            text = self.text(item)
            if text is not None:
                yield item, text

    def text(self, item: ItemRecord) -> str | None:
        if item.path is None:
            return None
        try:
            return self.bundle.read_text(item.path)
        except InputError as exc:
            self.problem(f"{exc}")
            return None

    def problem(self, message: str) -> None:
        """Record one problem as one line (parser errors such as YAML's span several)."""
        self.problems.append(f"{self.node}: {' '.join(message.split())}")
