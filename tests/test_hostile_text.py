"""Bundle text never reaches the analyst's shell, page or terminal as anything but text.

Hostile values (tests/hostile/spoof.py) go where bundle values go: node names, member names, pod
and member names, image repositories, certificate paths, /readyz check names. Reports come from
`kubetriage analyze` and `kubetriage verify`, as users run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from tests.hostile import spoof

BASH = shutil.which("bash") or "/bin/bash"


def analyze_json(paths: list[Path]) -> dict[str, object]:
    result = CliRunner().invoke(main, ["analyze", *map(str, paths), "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def commands_of(report: dict[str, object]) -> list[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return [c for f in findings for c in f["remediation"]["commands"]]


def run_pasted(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as an analyst pastes it into bash, where no program exists: only the shell's own
    builtins (echo, redirections, command substitution) can act, and they act only in `cwd`."""
    empty = cwd / "no-programs"
    empty.mkdir(exist_ok=True)
    return subprocess.run([BASH, "--noprofile", "--norc", "-c", command], cwd=cwd, text=True,
                          capture_output=True, timeout=10, env={"PATH": str(empty), "HOME": str(cwd)})


@pytest.fixture(scope="module")
def shell_reports(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    folder = tmp_path_factory.mktemp("poisoned")
    return [analyze_json(nodes) for nodes in spoof.poisoned_samples(folder, spoof.SHELL)]


def test_the_sandbox_would_see_an_injection(tmp_path: Path) -> None:
    """The check below can fail: the hostile value, pasted unquoted, creates its marker files."""
    run_pasted(f"crictl ps -a --name {spoof.SHELL}", tmp_path)
    assert {"pwn1", "pwn2", "pwn3"} <= {p.name for p in tmp_path.glob("pwn*")}


def test_remediation_commands_quote_bundle_values(shell_reports: list[dict[str, object]],
                                                  tmp_path: Path) -> None:
    commands = sorted({c for report in shell_reports for c in commands_of(report)})
    carrying = [c for c in commands if "pwn" in c]
    # node names (comments), member names, images, certificate paths and readyz checks got there
    assert len(carrying) >= 15, carrying
    for needle in ("# on ", "--raw=", "snapshot restore", "--initial-cluster", "crictl pull", "openssl x509"):
        assert any(needle in c for c in carrying), (needle, carrying)
    for command in commands:
        syntax = subprocess.run([BASH, "-n", "-c", command], capture_output=True, text=True)
        assert syntax.returncode == 0, (command, syntax.stderr)
        run_pasted(command, tmp_path)
        assert not list(tmp_path.glob("pwn*")), command


def test_hostile_values_stay_whole_in_commands(shell_reports: list[dict[str, object]]) -> None:
    """Quoting keeps the value: the shell gives the program exactly the bundle's text as one word."""
    readyz = [c for r in shell_reports for c in commands_of(r) if c.startswith("kubectl get --raw=/readyz/")
              or c.startswith("kubectl get --raw='/readyz/")]
    assert readyz, "the hostile readyz check produced no command"
    echoed = subprocess.run([BASH, "-c", readyz[0].replace("kubectl get", "printf %s", 1)],
                            capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert echoed.stdout == f"--raw=/readyz/etcd{spoof.SHELL}"
