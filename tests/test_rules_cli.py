"""`kubetriage rules [ID]`: the rule registry, listed and explained, as ruff's `rule` does."""

from __future__ import annotations

from click.testing import CliRunner

from analyzer.cli import main
from analyzer.rules import all_rules


def test_rules_lists_every_registered_rule() -> None:
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == [r.id for r in all_rules()]


def test_rules_explains_one_case_insensitively() -> None:
    result = CliRunner().invoke(main, ["rules", "cert_expired"])
    assert result.exit_code == 0
    assert result.stdout.startswith("CERT_EXPIRED  (critical, certificates)")
    assert "needs any of: " in result.stdout and "pki.cert" in result.stdout


def test_unknown_rule_suggests_close_ids() -> None:
    result = CliRunner().invoke(main, ["rules", "CERT"])
    assert result.exit_code == 2
    assert "did you mean CERT_" in result.stderr and result.stderr.count("\n") == 1
