"""The knowledge base holds: every signature row has a real example (with its source), and the
scanner counts that example for that very row (no earlier row shadows it)."""

from __future__ import annotations

import io

import pytest

from analyzer.logs.scan import REF, scan_stream
from analyzer.logs.signatures import ANCHORS, SIGNATURES, Signature
from analyzer.logs.templates import LEVEL_ANCHORS


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_example_counts_for_its_own_row(sig: Signature) -> None:
    assert sig.example and sig.source, f"{sig.id} needs a real example line and its source"
    assert sig.source.startswith(("https://", "etcd 3.4.23 lab capture")), sig.source
    component = sig.components[0] if sig.components else "unknown"
    result = scan_stream(io.BytesIO(sig.example.encode() + b"\n"), component, REF)
    counted = [key[1] for key in result.stats]
    assert counted == [sig.id], f"{sig.id}: its example counts for {counted}"


def test_ids_unique_and_anchors_shared() -> None:
    assert len({s.id for s in SIGNATURES}) == len(SIGNATURES)
    # the anchor search is the cost of every line that matches nothing: rows share a fixed budget
    assert len(set(ANCHORS) | set(LEVEL_ANCHORS)) <= 82


def test_every_signature_feeds_a_rule_and_every_rule_reads_real_ones() -> None:
    from analyzer.rules import all_rules

    read = {sig for r in all_rules() for sig in r.signatures}
    known = {s.id for s in SIGNATURES}
    assert read <= known, f"rules read unknown signatures: {sorted(read - known)}"
    assert known <= read, f"signatures no rule reads (dead knowledge): {sorted(known - read)}"
