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
    #: records read with problems (path -> the first problem): rules needing only these are not checked
    unparsed: dict[str, str] = field(default_factory=dict)

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
            self.unparsed.setdefault(item.path, str(exc))
            return None

    def problem(self, message: str) -> None:
        """Record one problem as one line (parser errors such as YAML's span several)."""
        self.problems.append(f"{self.node}: {' '.join(message.split())}")

    def item_problem(self, item: ItemRecord, message: str) -> None:
        """A problem parsing one record: recorded, and the record no longer counts as evidence read."""
        self.problem(f"{item.path}: {message}")
        if item.path is not None:
            self.unparsed.setdefault(item.path, " ".join(message.split())[:200])
