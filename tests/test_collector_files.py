"""File items under --root: symlinks resolved inside the root, pod logs stored once, size caps."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from collector import kubetriage_collect as kc
from tests.conftest import read_bundle, run_collector

OFFLINE = ["--exclude", "etcd.*", "k8s.healthz"]
POD_DIR = "var/log/pods/kube-system_kube-apiserver-cp-1_0123456789abcdef0123456789abcdef/kube-apiserver"


def write_log(path: Path, size: int, tag: str) -> None:
    """A klog-style container log of about `size` bytes whose lines are numbered."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = "2026-11-27T02:00:00.000000000Z stderr F I1127 02:00:00.000000       1 %s line %08d\n"
    count = size // len(line % (tag, 0))
    path.write_text("".join(line % (tag, n) for n in range(count)))


def collect(root: Path, out: Path, *args: str) -> tuple[dict, dict[str, bytes]]:
    out.mkdir()
    result = run_collector(root, out, *OFFLINE, *args)
    assert result.returncode == 0, result.stderr
    return read_bundle(Path(result.stdout.split()[-1]))


def test_links_resolve_inside_root_and_never_reach_a_key(node_root, tmp_path):
    root = node_root(name="cp-1")
    outside = tmp_path / "analyst-secret.yaml"  # a file of the machine running the collector
    outside.write_text("CANARY-OUTSIDE-ROOT\n")
    manifests = root / "etc/kubernetes/manifests"
    (manifests / "evil.yaml").symlink_to(outside)  # absolute: means <root><outside> on the node
    (root / "etc/kubernetes/pki/sneaky.crt").symlink_to("apiserver.key")
    write_log(root / POD_DIR / "0.log", 2000, "apiserver")
    containers = root / "var/log/containers"
    containers.mkdir(parents=True)
    link = containers / ("kube-apiserver-cp-1_kube-system_kube-apiserver-" + "a" * 64 + ".log")
    link.symlink_to("/" + POD_DIR + "/0.log")  # kubelet writes absolute links
    manifest, files = collect(root, tmp_path / "out")
    blob = b"".join(files.values())
    assert b"CANARY-OUTSIDE-ROOT" not in blob
    (evil,) = [i for i in manifest["items"] if i["source"] == "/etc/kubernetes/manifests/evil.yaml"]
    assert evil["path"] is None and evil["error"].startswith("cannot read")
    (sneaky,) = [i for i in manifest["items"] if i["source"] == "/etc/kubernetes/pki/sneaky.crt"]
    assert sneaky["skipped"] == "private key: never collected"
    assert sneaky["link"] == "/etc/kubernetes/pki/apiserver.key"
    assert b"PRIVATE KEY" not in blob
    # the container log link leads to the pod log, which is stored once
    (pod_log,) = [i for i in manifest["items"] if i["id"] == "logs.pod"]
    assert files[pod_log["path"]] == (root / POD_DIR / "0.log").read_bytes()
    (container_log,) = [i for i in manifest["items"] if i["id"] == "logs.containers"]
    assert container_log["link"] == "/" + POD_DIR + "/0.log"
    assert container_log["path"] is None
    assert container_log["skipped"] == f"same file as /{POD_DIR}/0.log, stored once (logs.pod)"


def test_a_large_log_is_tail_capped_per_item(node_root, tmp_path):
    root = node_root(name="cp-1")
    write_log(root / POD_DIR / "0.log", kc.LOG_CAP + 512 * 1024, "apiserver")
    last = (root / POD_DIR / "0.log").read_bytes().splitlines(keepends=True)[-1]
    manifest, files = collect(root, tmp_path / "out")
    (item,) = [i for i in manifest["items"] if i["id"] == "logs.pod"]
    data = files[item["path"]]
    assert item["truncated"] is True
    assert item["size"] == len(data) <= kc.LOG_CAP
    assert data.endswith(last), "the newest lines must survive"
    assert data.startswith(b"2026-11-27T"), "the tail starts at a line boundary"


@pytest.fixture
def in_process(monkeypatch, capsys):
    """Run the collector's main() in this process (to shrink its caps); restore signal handlers."""
    saved = {sig: signal.getsignal(sig) for sig in kc.SignalGuard.SIGNALS}

    def run(*args: str) -> Path:
        assert kc.main(list(args)) == 0
        return Path(capsys.readouterr().out.split()[-1])

    yield run
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_logs_share_one_budget_and_the_cut_is_recorded(node_root, tmp_path, in_process, monkeypatch):
    root = node_root(name="cp-1")
    sizes = {"kube-apiserver": 300_000, "etcd": 300_000, "kube-scheduler": 300_000}
    for name, size in sizes.items():
        write_log(root / POD_DIR.replace("kube-apiserver", name) / "0.log", size, name)
    monkeypatch.setattr(kc, "LOGS_TOTAL_CAP", 700_000)
    out = tmp_path / "out"
    out.mkdir()
    manifest, files = read_bundle(in_process("--root", str(root), "--output", str(out), "--quiet", *OFFLINE))
    logs = [i for i in manifest["items"] if i["id"] == "logs.pod"]
    assert [i["truncated"] for i in logs] == [False, False, True]
    assert sum(i["size"] for i in logs) <= 700_000
    cut = files[logs[2]["path"]]
    assert 0 < len(cut) < 300_000 and cut.startswith(b"2026-11-27T")
    # non-log items are outside the logs budget
    assert any(i["id"] == "pki.cert" and i["path"] for i in manifest["items"])


def test_past_the_logs_budget_nothing_more_is_read(node_root, tmp_path, in_process, monkeypatch):
    root = node_root(name="cp-1")
    for n in range(10):
        write_log(root / POD_DIR / f"{n}.log", 300_000, "apiserver")
    monkeypatch.setattr(kc, "LOGS_TOTAL_CAP", 700_000)
    read = []
    real_read_tail = kc.read_tail

    def counting_read_tail(path: str, cap: int) -> tuple[bytes, bool]:
        read.append((path, cap))
        return real_read_tail(path, cap)

    monkeypatch.setattr(kc, "read_tail", counting_read_tail)
    out = tmp_path / "out"
    out.mkdir()
    manifest, _ = read_bundle(in_process("--root", str(root), "--output", str(out), "--quiet", *OFFLINE))
    logs = [i for i in manifest["items"] if i["id"] == "logs.pod"]
    kept = [i for i in logs if i["path"]]
    assert 3 <= len(kept) <= 4 and logs[:len(kept)] == kept and sum(i["size"] for i in kept) <= 700_000
    assert {i["skipped"] for i in logs[len(kept):]} == {kc.BUDGET_USED}
    # the files past the budget were never opened: one read per kept log
    assert len([path for path, _ in read if "/var/log/pods/" in path]) == len(kept)
