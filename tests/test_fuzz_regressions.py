"""Inputs the fuzzers crashed a parser with once; each must now parse without raising."""

from __future__ import annotations

from analyzer.parsers.ufw import parse_ufw


def test_ufw_row_whose_source_is_only_v6_marker():
    # found by atheris (fuzz/fuzz_parsers.py): IndexError on an empty source column
    status = parse_ufw("Status: active\n\n"
                       "To                         Action      From\n"
                       "--                         ------      ----\n"
                       "Anywhere                   ALLOW IN   (v6)\n")
    assert status.active
    assert [(r.action, r.source) for r in status.rules] == [("ALLOW", "")]
