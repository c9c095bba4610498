"""The collector as a new user meets it: its usage line, --verify's verdict, running as non-root."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main as kubetriage
from collector import kubetriage_collect as kc
from tests.conftest import read_bundle, run_collector

OFFLINE = ["--exclude", "etcd.*", "k8s.*"]


def test_kubetriage_collect_help_names_the_command_as_typed():
    result = CliRunner().invoke(kubetriage, ["collect", "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("usage: kubetriage collect ")
    bad = CliRunner().invoke(kubetriage, ["collect", "--no-such-option"])
    assert bad.exit_code == 2 and "kubetriage collect: error:" in bad.output


def test_verify_says_clean_when_it_found_nothing(node_root, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run_collector(node_root(name="cp-1"), out, "--verify", *OFFLINE)
    assert result.returncode == 0, result.stderr
    bundle = Path(result.stdout.split()[-1])
    (line,) = [x for x in result.stderr.splitlines() if "verify:" in x]
    assert line.startswith(f"kubetriage-collect: verify: clean: no secret-shaped strings in {bundle.name} (")
    assert int(line.split("(")[1].split()[0]) == len(read_bundle(bundle)[1])


def test_not_root_warns_what_will_be_missing_and_the_manifest_says_so(node_root, tmp_path, monkeypatch,
                                                                     capsys):
    saved = {sig: signal.getsignal(sig) for sig in kc.SignalGuard.SIGNALS}
    monkeypatch.setattr(kc.os, "geteuid", lambda: 1000)
    out = tmp_path / "out"
    out.mkdir()
    try:
        root = node_root(name="cp-1")
        assert kc.main(["--root", str(root), "--output", str(out), "--quiet", *OFFLINE]) == 0
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    captured = capsys.readouterr()
    (warning,) = [x for x in captured.err.splitlines() if "not running as root" in x]
    assert warning.startswith("kubetriage-collect: warning: not running as root: ")
    assert "unreadable" in warning and "sudo" in warning
    manifest, _ = read_bundle(Path(captured.out.split()[-1]))
    assert manifest["run_as_root"] is False


def test_the_warning_follows_the_user_the_collector_runs_as(node_root, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run_collector(node_root(name="cp-1"), out, *OFFLINE)
    assert result.returncode == 0
    as_root = os.geteuid() == 0
    assert ("not running as root" in result.stderr) is not as_root
    assert read_bundle(Path(result.stdout.split()[-1]))[0]["run_as_root"] is as_root
