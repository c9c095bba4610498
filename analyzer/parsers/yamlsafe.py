"""YAML loading for untrusted input: safe constructors only, bounded size, nodes and aliases.

>>> load_yaml("a: [1, 2]")
{'a': [1, 2]}
>>> rows = [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)]
>>> bomb = "a: &a [x, x]\\n" + "\\n".join(rows)
>>> load_yaml(bomb, max_aliases=10)
Traceback (most recent call last):
...
analyzer.parsers.yamlsafe.YAMLLimitError: YAML has more than 10 aliases
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_BYTES = 32 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_ALIASES = 1_000
MAX_DEPTH = 200


class YAMLLimitError(yaml.YAMLError):
    """The document is larger, deeper or more aliased than we accept."""


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_limits(text: str, max_aliases: int) -> None:
    """One cheap pass over the parse events (libyaml when present) before anything is built."""
    nodes = aliases = depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise YAMLLimitError(f"YAML has more than {MAX_NODES} nodes")
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                raise YAMLLimitError(f"YAML has more than {max_aliases} aliases")
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLLimitError(f"YAML nests deeper than {MAX_DEPTH}")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_yaml(text: str, max_aliases: int = MAX_ALIASES) -> Any:
    """Load one YAML document; raise yaml.YAMLError (incl. YAMLLimitError) when it is bad or too big."""
    if len(text) > MAX_YAML_BYTES:
        raise YAMLLimitError(f"YAML larger than {MAX_YAML_BYTES} bytes")
    _check_limits(text, max_aliases)
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
