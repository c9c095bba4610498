"""Hostile bundles: each gives one clear error line (exit 2) or a partial analysis with a warning,
never a traceback, never a write outside the report and a private temp dir, in bounded time and memory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.trust import keygen
from tests.hostile.generate import (
    CASES,
    Case,
    Item,
    Member,
    bundle_members,
    certificate_pem,
    good_items,
    private_key_pem,
    shared_member,
    tar_bytes,
    write,
)

#: the analyzer's own footprint is ~90 MB; a bundle may add what one item holds, never the archive
MAX_RSS_MB = 400
MAX_SECONDS = 60
#: runs the analyzer as a child and records that child's peak RSS (KiB on Linux) in a file
MEASURE = ("import resource, subprocess, sys\n"
           "rc = subprocess.call(sys.argv[2:])\n"
           "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
           "sys.exit(rc)\n")
#: tampered members and unsafe members make `verify` exit 1, not just warn
INTEGRITY = {"traversal-dotdot", "traversal-absolute", "symlink-outside", "hardlink-outside",
             "device-and-fifo", "hash-mismatch", "shared-member", "duplicate-member"}


@pytest.fixture(scope="module")
def support_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key, _ = keygen(tmp_path_factory.mktemp("support"))
    return key


def tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_size for p in root.rglob("*")}


def run_analyzer(bundle: Path, work: Path, tmp: Path, key: Path) -> tuple[subprocess.CompletedProcess[str],
                                                                        float, float]:
    """(process, seconds, peak RSS in MB) of `kubetriage analyze` in its own cwd and TMPDIR."""
    rss_file = work.parent / "rss"
    argv = [sys.executable, "-c", MEASURE, str(rss_file), sys.executable, "-c",
            "from analyzer.cli import main; main()", "analyze", str(bundle), "-f", "json", "-o",
            "report.json", "--key", str(key)]
    env = {**os.environ, "TMPDIR": str(tmp)}
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=MAX_SECONDS * 2)
    seconds = time.monotonic() - started
    rss_mb = int(rss_file.read_text()) / 1024
    rss_file.unlink()
    return proc, seconds, rss_mb


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else [])
                                  for c in CASES])
def test_hostile_bundle_is_harmless(case: Case, tmp_path: Path, support_key: Path) -> None:
    inputs, work, tmp = tmp_path / "in", tmp_path / "work", tmp_path / "tmp"
    for folder in (inputs, work, tmp):
        folder.mkdir()
    bundle = case.build(inputs)
    before = tree(tmp_path)
    proc, seconds, rss_mb = run_analyzer(bundle, work, tmp, support_key)
    print(f"{case.name}: exit {proc.returncode}, {seconds:.1f}s, peak RSS {rss_mb:.0f} MB")

    assert "Traceback" not in proc.stderr, proc.stderr
    assert seconds < MAX_SECONDS and rss_mb < MAX_RSS_MB
    if case.outcome == "error":
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kubetriage: error: "), proc.stderr
        assert re.search(case.message, lines[0]), lines[0]
        assert not (work / "report.json").exists()
    elif case.outcome == "not-understood":
        assert proc.returncode == 2, proc.stderr
        verdict = json.loads((work / "report.json").read_text())["verdict"]
        assert verdict["kind"] == "not-understood" and re.search(case.message, verdict["summary"])
        (work / "report.json").unlink()
    else:
        assert proc.returncode == 0, proc.stderr
        problems = json.loads((work / "report.json").read_text())["problems"]
        assert not case.message or any(re.search(case.message, p) for p in problems), problems
        (work / "report.json").unlink()
    # nothing written anywhere else: inputs untouched, temp dir empty again, nothing escaped upwards
    assert tree(tmp_path) == before
    assert not list(tmp.iterdir())
    assert not [p for p in tmp_path.parent.iterdir() if "escaped" in p.name]
    assert not Path("/tmp/kubetriage-escaped-absolute").exists()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if not c.slow])
def test_verify_reports_hostile_bundle(case: Case, tmp_path: Path, support_key: Path) -> None:
    bundle = case.build(tmp_path)
    result = CliRunner().invoke(main, ["verify", str(bundle), "--key", str(support_key)])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        result.exception
    if case.outcome == "error":
        assert result.exit_code == 2 and re.search(case.message, result.output), result.output
    elif case.outcome == "not-understood":  # not a bundle at all: verify says so in one line
        assert result.exit_code == 2 and "not a kubetriage bundle" in result.output, result.output
    else:
        assert result.exit_code == (1 if case.name in INTEGRITY else 0), result.output
        assert "sha256 " in result.output


def test_records_sharing_a_member_are_read_once(tmp_path: Path) -> None:
    """60,000 records naming one 400 KB log took minutes (one parse per record); now one read."""
    bundle = shared_member(tmp_path, records=60_000)
    started = time.monotonic()
    argv = [sys.executable, "-c", "from analyzer.cli import run; run()", "analyze", str(bundle), "-f", "json"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=MAX_SECONDS)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert seconds < 20, seconds
    assert any("60000 more record(s)" in p for p in json.loads(proc.stdout)["problems"])


@pytest.mark.parametrize("key_first", [True, False], ids=["key-first", "key-second"])
def test_verify_scans_every_copy_of_a_duplicate_member(tmp_path: Path, key_first: bool) -> None:
    """Whichever copy holds the private key, verify finds it; analysis and verify read the first copy."""
    members = bundle_members(good_items())
    cert = next(m for m in members if m.name.endswith("ca.crt"))
    members.insert(members.index(cert) + (0 if key_first else 1), Member(cert.name, private_key_pem()))
    bundle = write(tmp_path, "dup.tar.gz", tar_bytes(members))
    result = CliRunner().invoke(main, ["verify", str(bundle)])
    assert result.exit_code == 1, result.output
    assert "appears 2 times: only the first copy is analyzed and verified" in result.output
    key_at = "files/etc/kubernetes/pki/ca.crt" + ("" if key_first else " (copy 2)")
    assert re.search(rf"{re.escape(key_at)}:1: private", result.output), result.output
    # the copy verify hashed is the copy analyzed: a key first is a content mismatch, a key second is not
    assert ("SHA-256 differs" in result.output) == key_first
    report = CliRunner().invoke(main, ["analyze", str(bundle), "--format", "json"])
    problems = json.loads(report.stdout)["problems"]
    assert any("content does not match" in p for p in problems) == key_first, problems


def test_verify_prints_the_digest_that_tells_a_consistent_edit(tmp_path: Path) -> None:
    """docs/trust.md: a member edited together with the manifest passes verify; only the archive
    digest differs, printed as the collector prints it (`sha256 <hex>  <name>`) to compare."""
    original = write(tmp_path, "cp-1.tar.gz", tar_bytes(bundle_members(good_items())))
    forged_items = [Item(i.id, i.path, certificate_pem()) if i.id == "pki.cert" else i for i in good_items()]
    (tmp_path / "forged").mkdir()
    forged = write(tmp_path / "forged", "cp-1.tar.gz", tar_bytes(bundle_members(forged_items)))
    lines: dict[Path, list[str]] = {}
    for bundle in (original, forged):
        result = CliRunner().invoke(main, ["verify", str(bundle)])
        assert result.exit_code == 0 and f"{bundle}: ok" in result.output, result.output
        lines[bundle] = [line for line in result.output.splitlines() if line.startswith("sha256 ")]
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        assert lines[bundle] == [f"sha256 {digest}  cp-1.tar.gz"], result.output
    assert lines[original] != lines[forged]
