"""JSON loading for untrusted input: a document nested past MAX_DEPTH raises a ValueError like a
malformed one, so the item is skipped with a problem line, never a RecursionError that ends the run
(json's own decoder recurses, and so does code walking what it returns).

>>> load_json('{"a": [1, {"b": null}]}')
{'a': [1, {'b': None}]}
>>> load_json("[" * 201 + "]" * 201)
Traceback (most recent call last):
...
analyzer.parsers.jsonsafe.JSONLimitError: JSON nests deeper than 200
>>> load_json("[" * 100_000 + "]" * 100_000)
Traceback (most recent call last):
...
analyzer.parsers.jsonsafe.JSONLimitError: JSON nests deeper than 200
"""

from __future__ import annotations

import json
from typing import Any

#: deeper than any Kubernetes object, etcdctl or crictl output; far below the interpreter's limit
MAX_DEPTH = 200


class JSONLimitError(ValueError):
    """The JSON document nests deeper than we accept (code walking it could exhaust the stack)."""


def _depth_exceeds(doc: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` deep, walked without recursion."""
    level: list[Any] = [doc]
    for _ in range(limit):
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]
        if not level:
            return False
    return bool(level)


def load_json(text: str | bytes) -> Any:
    """json.loads for untrusted text; ValueError when it is malformed or nests deeper than MAX_DEPTH."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise JSONLimitError(f"JSON nests deeper than {MAX_DEPTH}") from None
    opening = text.count("[") + text.count("{") if isinstance(text, str) else \
        text.count(b"[") + text.count(b"{")
    if opening > MAX_DEPTH and _depth_exceeds(doc, MAX_DEPTH):
        raise JSONLimitError(f"JSON nests deeper than {MAX_DEPTH}")
    return doc
