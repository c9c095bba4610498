"""Records: the parsed form of an evidence type, as flat named fields, for custom rules' conditions.

A custom rule may judge an evidence type's parsed records (`kubectl-pods`: each pod; `etcdctl-status`:
each endpoint) by their fields, whatever form the text had (a table, YAML, JSON). The type's own
parser reads the item; its result is walked into records: a dataclass holding only lists (a
listing) gives its elements, any other dataclass is one record. A record's fields are its
attributes by name; nested objects add a dotted name (`containers.waiting_reason`,
`conditions.Ready`), and a field with several values (one per container) matches when any does.

>>> from analyzer.parsers.kubectl import parse_kubectl_text
>>> pods = parse_kubectl_text(  # kubernetes/kubernetes#117293
...     "NAMESPACE     NAME                            READY   STATUS    RESTARTS        AGE\\n"
...     "kube-system   kube-apiserver-mango            0/1     Running   14 (12s ago)    13m\\n")
>>> (record,) = flatten(pods)
>>> record.fields["name"], record.fields["containers.restart_count"], record.line
(('kube-apiserver-mango',), ('14',), 2)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..evidence.types import TYPES
from .source import Source

#: how deep nested objects are named, and how many records one item gives at most
MAX_DEPTH = 3
MAX_RECORDS = 10_000


@dataclass(frozen=True)
class Record:
    """One parsed record of one evidence type on one node: its fields as text, and where it was read."""

    node: str
    type: str
    item_id: str
    path: str
    line: int | None
    fields: dict[str, tuple[str, ...]]

    def excerpt(self, names: Iterable[str]) -> str:
        """The record as `name=value` for the named fields (what a finding quotes)."""
        return ", ".join(f"{n}={'|'.join(self.fields.get(n, ('(none)',)))}" for n in dict.fromkeys(names))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.timedelta):
        return str(int(value.total_seconds()))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _fields(value: object, name: str, out: dict[str, list[str]], depth: int) -> None:
    if value is None or isinstance(value, bytes) or depth > MAX_DEPTH:  # bytes: a certificate's DER
        return
    prefix = f"{name}." if name else ""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name != "line":  # where the record is, not what it says
                _fields(getattr(value, f.name), prefix + f.name, out, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fields(item, prefix + str(key), out, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        if name and not value:  # an empty list is a field with no value, not a missing field
            out.setdefault(name, [])
        for item in value:
            _fields(item, name, out, depth)
    elif name:
        out.setdefault(name, []).append(_text(value))


def _is_listing(value: object) -> bool:
    """A dataclass of lists only (KubectlText, etcdctl's Parsed rows, crictl's Listing)."""
    return dataclasses.is_dataclass(value) and all(
        isinstance(getattr(value, f.name), list | tuple | dict) for f in dataclasses.fields(value))


def _objects(parsed: object) -> Iterable[object]:
    if isinstance(parsed, list | tuple):
        for item in parsed:
            yield from _objects(item)
    elif _is_listing(parsed):
        for f in dataclasses.fields(parsed):  # type: ignore[arg-type]
            if f.name != "problems":
                yield from _objects(getattr(parsed, f.name))
    elif dataclasses.is_dataclass(parsed):
        yield parsed


@dataclass(frozen=True)
class _At:
    node: str = ""
    type: str = ""
    item_id: str = ""
    path: str = ""


def flatten(parsed: object, at: _At = _At()) -> list[Record]:
    """The records of one parser's result."""
    records: list[Record] = []
    for obj in _objects(parsed):
        if len(records) >= MAX_RECORDS:
            break
        values: dict[str, list[str]] = {}
        _fields(obj, "", values, 0)
        line = getattr(obj, "line", None)
        records.append(Record(at.node, at.type, at.item_id, at.path, line if isinstance(line, int) else None,
                              {k: tuple(v) for k, v in values.items()}))
    return records


def records(src: Source, types: Iterable[str]) -> list[Record]:
    """The records of every item of the named evidence types on one node; an item its parser cannot
    read is a problem, as for the built-in facts."""
    found: list[Record] = []
    for name in sorted(set(types)):
        evidence = TYPES[name]
        if evidence.parser is None:
            continue
        for item, text in src.texts(evidence.item_id):
            try:
                parsed = evidence.parser(text)
            except Exception as exc:  # noqa: BLE001 - a parser failing on hostile text: that item only
                src.item_problem(item, f"{name}: {type(exc).__name__}: {exc}")
                continue
            found.extend(flatten(parsed, _At(src.node, name, item.id, item.path or "")))
    return found
