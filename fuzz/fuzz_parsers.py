"""atheris harness over every parser target (fuzz/targets.py): coverage-guided, by hand.

    python fuzz/fuzz_parsers.py fuzz/corpus -max_total_time=3600 -rss_limit_mb=2048

The first input byte picks the target, the rest is its text (or a JSON object for object targets).
A crash is any exception the target does not document; libFuzzer writes the input as crash-*.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports():
    from fuzz.targets import TARGETS


def one_input(data: bytes) -> None:
    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    text = data[1:].decode("utf-8", "replace")
    if target.takes == "object":
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return
        if not isinstance(value, dict):
            return
    else:
        value = text
    try:
        target.function(value)
    except target.allowed:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
