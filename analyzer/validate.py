"""Files users write (custom rules, kubetriage.yaml) checked against the JSON Schemas we publish in
analyzer/schema/, with one-line errors naming the file and the path of the bad field.

jsonschema is imported here only, when such a file is read: `kubetriage --version` does not pay for it.

>>> validate({"id": "acme", "title": 3}, "config.schema.json", "x.yaml")
Traceback (most recent call last):
...
analyzer.errors.InputError: x.yaml: $: Additional properties are not allowed ('id', 'title' were unexpected)
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .errors import InputError
from .parsers.yamlsafe import load_yaml
from .safetext import one_line

SCHEMAS = Path(__file__).parent / "schema"
#: a message longer than this (jsonschema quotes the offending value) is cut
MAX_MESSAGE = 240


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def validate(doc: object, schema_name: str, where: str) -> None:
    """InputError `WHERE: $.path.to.field: what is wrong` for the most relevant problem, if any."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema(schema_name)).iter_errors(doc))
    if error is None:
        return
    message = " ".join(error.message.split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("pattern", "minProperties", "maxProperties") and hint:
        message = f"{message}: {hint}"
    raise InputError(one_line(f"{where}: {error.json_path}: {message}"))


def load_yaml_file(data: bytes, where: str) -> object:
    """A user's YAML file, or InputError saying in one line why it is not YAML."""
    try:
        return load_yaml(data.decode("utf-8", "replace"))
    except Exception as exc:  # noqa: BLE001 - any YAML problem is the user's file, said in one line
        raise InputError(f"{where}: not valid YAML ({' '.join(str(exc).split())[:200]})") from exc
