"""Every parser entry point that takes untrusted text or decoded YAML/JSON, with the exceptions it documents.

A target is a public `parse_*`/`load_*` function of an `analyzer.parsers` module with one required
argument, annotated `str` (raw text) or `dict[str, Any]` (a decoded object). The exceptions a
target may raise are those its docstring names after "raise"; anything else is a crash.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import analyzer.parsers

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
RAISES = re.compile(r"\brais(?:e|es|ing)\s+`?([A-Za-z_][\w.]*)")


@dataclass(frozen=True)
class Target:
    name: str
    function: Callable[[Any], Any]
    takes: str  # "text" | "object"
    allowed: tuple[type[BaseException], ...]


def _resolve(module: Any, dotted: str) -> type[BaseException] | None:
    value: Any = module
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value if isinstance(value, type) and issubclass(value, BaseException) else None


def discover() -> list[Target]:
    targets: list[Target] = []
    for info in sorted(pkgutil.iter_modules(analyzer.parsers.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"analyzer.parsers.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or not name.startswith(("parse_", "load_")):
                continue
            required = [p for p in inspect.signature(function).parameters.values()
                        if p.default is p.empty and p.kind is not p.VAR_POSITIONAL]
            if len(required) != 1:
                continue
            annotation = str(required[0].annotation)
            takes = {"str": "text", "dict[str, Any]": "object"}.get(annotation)
            if takes is None:
                continue
            allowed = tuple(e for e in (_resolve(module, d) for d in RAISES.findall(function.__doc__ or ""))
                            if e is not None)
            targets.append(Target(f"{info.name}.{name}", function, takes, allowed))
    return targets


def seeds() -> list[str]:
    """Real outputs (tests/fixtures): mutating them reaches deeper than random text."""
    out = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.name not in ("index.json", "SOURCES.md") \
                and path.stat().st_size <= 256 * 1024:
            out.append(path.read_text(encoding="utf-8", errors="replace"))
    return out


TARGETS = discover()
