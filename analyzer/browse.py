"""Browse bundles as an engineer would a node: list items, print one, grep them all.

`kubetriage show` and `kubetriage grep` read bundles through the same safe reader as `analyze`
(nothing is unpacked) and print bundle text only after control characters are made visible, so a
hostile item cannot rewrite the analyst's terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .bundle import Bundle, ItemRecord
from .safetext import visible

#: longest line printed whole; a longer one is cut with a marker, so one huge line cannot flood
MAX_LINE = 4096


def status(record: ItemRecord) -> str:
    """One word or phrase for what became of an item: collected, timed out, failed, skipped."""
    if record.skipped:
        return f"skipped: {record.skipped}"
    if record.timed_out:
        return "timed out"
    if record.error and not record.collected:
        return f"failed: {record.error}"
    if record.exit_code not in (None, 0):
        return f"exit {record.exit_code}"
    return "truncated" if record.truncated else "collected"


def listing(bundle: Bundle) -> Iterator[str]:
    """The node, its collection time, then one row per manifest record."""
    m = bundle.manifest
    state = "complete" if m.complete else "PARTIAL"
    yield (f"node {visible(m.node.hostname)}  collected {m.collected_at.isoformat()}  {state}  "
           f"{len(m.items)} items  ({visible(str(bundle.source))})")
    width = max((len(i.id) for i in m.items), default=0)
    for record in m.items:
        what = visible(status(record))
        yield f"  {visible(record.id):<{width}}  {record.size:>10}  {what:<24}  {visible(record.path or '-')}"


@dataclass(frozen=True)
class Member:
    """One readable text in a bundle: the item id it belongs to (or '' for manifest.json) and its path."""

    item_id: str
    path: str


def members(bundle: Bundle, wanted: str | None = None) -> list[Member]:
    """The bundle's item files (and stderr files), or those whose id or path is `wanted`."""
    found = [Member("", "manifest.json")]
    for record in bundle.manifest.items:
        for path in (record.path, record.stderr_path):
            if path:
                found.append(Member(record.id, path))
    if wanted is None:
        return found
    return [m for m in found if wanted in (m.item_id, m.path)]


def lines(bundle: Bundle, path: str) -> Iterator[tuple[int, str]]:
    """Numbered, decoded, made-visible lines of one member, streamed (a 500 MB log is fine)."""
    with bundle.open(path) as handle:
        for number, raw in enumerate(handle, 1):
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(text) > MAX_LINE:
                text = text[:MAX_LINE] + f" …[{len(text) - MAX_LINE} more characters]"
            yield number, visible(text)


def grep(bundle: Bundle, pattern: re.Pattern[str], wanted: str | None = None) -> Iterator[str]:
    """`source:path:line: text` for every matching line of every member (or of the `wanted` item)."""
    for member in members(bundle, wanted):
        for number, text in lines(bundle, member.path):
            if pattern.search(text):
                yield f"{visible(str(bundle.source))}:{visible(member.path)}:{number}: {text}"
