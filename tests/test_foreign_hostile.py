"""Hostile foreign bundles: links out of the bundle, path escapes, compression bombs and broken archives
give a partial analysis with a warning or one error line (exit 2), never a traceback, and nothing from
outside the bundle is read."""

from __future__ import annotations

import io
import json
import lzma
import os
import tarfile
from pathlib import Path

from click.testing import CliRunner, Result

from analyzer.cli import main

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"
TROUBLESHOOT = FOREIGN / "troubleshoot-k3s" / "support-bundle"
SOS = FOREIGN / "sosreport-charmed-kubernetes"
#: a file outside every bundle whose content must never reach a report
SECRET = "kubetriage-outside-canary-7f3a"


def run(path: Path) -> Result:
    return CliRunner().invoke(main, ["analyze", str(path), "--format", "json"])


def outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "secret.log"
    target.parent.mkdir()
    target.write_text(f"E0101 00:00:00.000000       1 x.go:1] x509: {SECRET}\n" * 50)
    return target


def add(tar: tarfile.TarFile, name: str, data: bytes = b"", *, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    if link:
        info.type, info.linkname = tarfile.SYMTYPE, link
    else:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if not link else None)


def test_troubleshoot_links_out_of_the_bundle_are_refused(tmp_path: Path) -> None:
    secret = outside(tmp_path)
    bundle = tmp_path / "support-bundle.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        tar.add(TROUBLESHOOT, arcname="support-bundle")
        add(tar, "support-bundle/all-logs/evil-pod/abs.log", link=str(secret))
        add(tar, "support-bundle/all-logs/evil-pod/up.log", link="../../../../../" + str(secret).lstrip("/"))
        add(tar, "support-bundle/all-logs/evil-pod/loop.log", link="loop.log")
        add(tar, "support-bundle/../escape.log", b"x509: " + SECRET.encode())
    result = run(bundle)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    problems = "\n".join(json.loads(result.stdout)["problems"])
    for name in ("abs.log", "up.log", "loop.log"):
        assert f"ignored link 'all-logs/evil-pod/{name}'" in problems
    assert "ignored unsafe archive member 'support-bundle/../escape.log'" in problems


def test_links_in_an_unpacked_folder_are_not_followed_out(tmp_path: Path) -> None:
    secret = outside(tmp_path)
    folder = tmp_path / "sosreport-evil"
    (folder / "sos_commands" / "kubernetes").mkdir(parents=True)
    for name in ("sos_commands/date/date_--utc", "sos_commands/host/hostname",
                 "sos_commands/kubernetes/journalctl_--no-pager_--unit_snap.kube-controller-manager.daemon"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes((SOS / name).read_bytes())
    unit = folder / "sos_commands/kubernetes/journalctl_--no-pager_--unit_snap.kube-apiserver.daemon"
    os.symlink(secret, unit)
    result = run(folder)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "ignored link 'sos_commands/kubernetes/journalctl_--no-pager_--unit_snap.kube-apiserver.daemon'" \
        in "\n".join(json.loads(result.stdout)["problems"])


def test_xz_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "sosreport-bomb.tar.xz"
    size = 48 * 1024 * 1024
    header = tarfile.TarInfo("sosreport-bomb/sos_commands/date/date")
    header.size = size
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        tar.addfile(header, io.BytesIO(bytes(size)))
    bomb.write_bytes(lzma.compress(raw.getvalue(), preset=0))
    result = run(bomb)
    assert result.exit_code == 2
    assert "expands more than" in result.stderr and "Traceback" not in result.output


def test_truncated_xz_is_one_line_error(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        tar.add(SOS, arcname="sosreport-x")
    data = lzma.compress(raw.getvalue())
    cut = tmp_path / "sosreport-x.tar.xz"
    cut.write_bytes(data[: len(data) // 2])
    result = run(cut)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "truncated xz" in result.stderr


def test_foreign_bundle_without_its_own_time_is_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "must-gather.local.1" / "image"
    (folder / "namespaces" / "x").mkdir(parents=True)
    (folder / "namespaces" / "x" / "x.yaml").write_text("kind: List\nitems: []\n")
    (folder / "timestamp").write_text("not a time\n")
    result = run(tmp_path / "must-gather.local.1")
    assert result.exit_code == 2
    assert "no collection time" in result.stderr and "Traceback" not in result.output


def test_truncated_single_stream_dump(tmp_path: Path) -> None:
    dump_dir = FOREIGN / "cluster-info-dump-1.8" / "cluster-info"
    pods = (dump_dir / "kube-system" / "pods.json").read_bytes()
    dump = tmp_path / "dump.txt"
    dump.write_bytes((dump_dir / "nodes.json").read_bytes() + pods[: len(pods) // 2])
    result = run(dump)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert any("the dump ends inside a part" in p for p in report["problems"])
    assert [f["id"] for f in report["findings"]] == ["CONTROL_PLANE_NODE_NOT_READY"]
    half = tmp_path / "half.txt"
    half.write_bytes((dump_dir / "nodes.json").read_bytes()[:5000])
    result = run(half)
    # too little of the dump to be a dump: read as pasted text, no traceback; the one line a log
    # signature knows (a node whose kubelet stopped posting its status) is still reported
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert [f["id"] for f in json.loads(result.stdout)["findings"]] == ["NODE_NOT_REPORTING"]


def test_vendor_text_reaches_the_terminal_with_its_controls_visible(tmp_path: Path) -> None:
    bundle = tmp_path / "support-bundle"
    for source in TROUBLESHOOT.rglob("*"):
        if source.is_file() and not source.is_symlink():
            target = bundle / source.relative_to(TROUBLESHOOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    analysis = json.loads((bundle / "analysis.json").read_text())
    analysis[0]["insight"].update(severity="warn", detail="\x1b]0;pwned\x07 \x1b[2J\u202e")
    (bundle / "analysis.json").write_text(json.dumps(analysis))
    result = CliRunner().invoke(main, ["analyze", str(bundle)], color=True)
    assert result.exit_code == 0, result.output
    assert "\x1b]0;" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b]0;pwned\\x07 \\x1b[2J\\u202e" in result.stdout
