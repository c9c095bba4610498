"""Property fuzzing of every parser entry point (fuzz/targets.py): arbitrary text, mutated real outputs
and arbitrary decoded objects never raise anything but the exceptions a parser documents.

Short in CI (FUZZ_EXAMPLES, default 40 per target); a long run by hand:
`FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_parsers.py`; atheris: fuzz/fuzz_parsers.py.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.targets import TARGETS, Target, seeds

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
SEEDS = seeds()


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    """A real output, cut, spliced with random text, or with lines shuffled."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["cut", "insert", "delete", "dup-line"]))
        if op == "cut":
            text = text[:at]
        elif op == "insert":
            text = text[:at] + draw(st.text(max_size=40)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)):]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                text += draw(st.sampled_from(lines)) * draw(st.integers(1, 3))
    return text


TEXT = st.one_of(st.text(max_size=2000), mutated_seed(),
                 st.binary(max_size=2000).map(lambda b: b.decode("utf-8", "replace")))
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=30)
KEYS = st.sampled_from(["metadata", "spec", "status", "name", "namespace", "containers", "containerStatuses",
                        "conditions", "holderIdentity", "renewTime", "leaseDurationSeconds", "reason",
                        "message", "lastTimestamp", "involvedObject", "count", "type", "restartCount",
                        "lastState", "nodeInfo", "kubeletVersion", "creationTimestamp", "labels", "state",
                        "terminated"])
OBJECTS = st.recursive(st.dictionaries(KEYS | st.text(max_size=8), JSON_VALUES, max_size=6),
                       lambda inner: st.dictionaries(KEYS, inner | JSON_VALUES | st.lists(inner, max_size=3),
                                                     max_size=6), max_leaves=40)


def check(target: Target, value: Any) -> None:
    try:
        target.function(value)
    except target.allowed:
        pass


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_parser_survives_fuzzing(target: Target) -> None:
    strategy = TEXT if target.takes == "text" else OBJECTS

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def run(value: Any) -> None:
        check(target, value)

    run()


def test_every_parser_module_has_a_target() -> None:
    """A new parser module is fuzzed as soon as it exists: discovery must find its entry points."""
    modules = {t.name.split(".")[0] for t in TARGETS}
    assert {"kubeconfig", "x509", "yamlsafe"} <= modules
