"""YAML and JSON loading for untrusted input: safe constructors only, bounded size, depth, nodes
and aliases. A document past a bound raises a ValueError or yaml.YAMLError like a malformed one, so
the item is skipped with a problem line, never a RecursionError that ends the run.

>>> load_yaml("a: [1, 2]")
{'a': [1, 2]}
>>> rows = [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)]
>>> bomb = "a: &a [x, x]\\n" + "\\n".join(rows)
>>> load_yaml(bomb, max_aliases=10)
Traceback (most recent call last):
...
analyzer.parsers.yamlsafe.YAMLLimitError: YAML has more than 10 aliases
>>> wide = "a: &a [" + ", ".join(["x"] * 99) + "]\\n" + "\\n".join(
...     f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8))
>>> load_yaml(wide)
Traceback (most recent call last):
...
analyzer.parsers.yamlsafe.YAMLLimitError: YAML expands to more than 2000000 nodes
>>> load_json('{"a": [1, {"b": null}]}')
{'a': [1, {'b': None}]}
>>> load_json("[" * 201 + "]" * 201)
Traceback (most recent call last):
...
analyzer.parsers.yamlsafe.JSONLimitError: JSON nests deeper than 200
>>> load_json("[" * 100_000 + "]" * 100_000)
Traceback (most recent call last):
...
analyzer.parsers.yamlsafe.JSONLimitError: JSON nests deeper than 200
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_YAML_BYTES = 32 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_ALIASES = 1_000
MAX_DEPTH = 200


class YAMLLimitError(yaml.YAMLError):
    """The document is larger, deeper or more aliased than we accept."""


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


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_limits(text: str, max_aliases: int) -> None:
    """One cheap pass over the parse events (libyaml when present) before anything is built.

    Counts nodes as code walking the loaded result would meet them: an alias counts as the whole
    subtree its anchor names, so a few aliases nesting each other cannot hide a billion nodes.
    """
    expanded = aliases = 0
    sizes: dict[str, int] = {}
    open_collections: list[tuple[str | None, list[int]]] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_collections) >= MAX_DEPTH:
                raise YAMLLimitError(f"YAML nests deeper than {MAX_DEPTH}")
            open_collections.append((event.anchor, [1]))
            count = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_collections.pop()
            if anchor:
                sizes[anchor] = size[0]
            if open_collections:
                open_collections[-1][1][0] += size[0]
            continue
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                raise YAMLLimitError(f"YAML has more than {max_aliases} aliases")
            count = sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            count = 1
            if event.anchor:
                sizes[event.anchor] = 1
        else:
            continue
        expanded += count
        if expanded > MAX_NODES:
            raise YAMLLimitError(f"YAML expands to more than {MAX_NODES} nodes")
        if open_collections and not isinstance(event, yaml.CollectionStartEvent):
            open_collections[-1][1][0] += count


def load_yaml(text: str, max_aliases: int = MAX_ALIASES) -> Any:
    """Load one YAML document; raise yaml.YAMLError (incl. YAMLLimitError) when it is bad or too big."""
    if len(text) > MAX_YAML_BYTES:
        raise YAMLLimitError(f"YAML larger than {MAX_YAML_BYTES} bytes")
    if text.lstrip()[:1] in ("{", "["):
        try:  # JSON is YAML too, and json parses it about ten times faster
            return load_json(text)
        except ValueError:  # not JSON after all, or too deep: the YAML checks below say which
            pass
    _check_limits(text, max_aliases)
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
