"""The collector's run-time behaviour against stand-in tools on PATH: commands that hang, fail or
are absent, the deadline, signals, stdout output, progress, --exclude and --dry-run."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from collector import kubetriage_collect as kc
from tests.conftest import COLLECTOR, read_bundle
from tests.test_collector_slice import PY36

ETCD_ID = "a" * 64
APISERVER_ID = "b" * 64
APISERVER_OLD_ID = "c" * 64
FLANNEL_ID = "d" * 64
COREDNS_ID = "e" * 64


def standin(bin_dir: Path, name: str, body: str) -> Path:
    """An executable `name` on the stand-in PATH (plain sh: PATH holds nothing else)."""
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def hang(pids: Path) -> str:
    # the shell and its child both record their pid: a kill of the shell alone would leave the
    # child running, so the test sees whether the whole process group was killed
    return f'echo $$ >> "{pids}"\n/bin/sleep 1000 &\necho $! >> "{pids}"\nwait\n'


def fail(name: str) -> str:
    return f'echo "{name}: stand-in failure" >&2\nexit 1\n'


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child not yet reaped by init is gone for our purpose
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def collect(root: Path, out: Path, bin_dir: Path, *args: str, python: str = sys.executable,
            env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run the stand-alone collector with PATH = the stand-ins only."""
    return subprocess.run([python, "-I", "-S", str(COLLECTOR), "--root", str(root), "--output", str(out),
                           *args], env={"PATH": str(bin_dir), **(env or {})}, capture_output=True,
                          timeout=timeout)


def bundle_in(out: Path) -> Path:
    bundles = list(out.glob("*.tar.gz"))
    assert len(bundles) == 1, bundles
    return bundles[0]


def by_id(manifest: dict) -> dict[str, list[dict]]:
    items: dict[str, list[dict]] = {}
    for item in manifest["items"]:
        items.setdefault(item["id"], []).append(item)
    return items


@pytest.fixture
def env(node_root, tmp_path):
    """(root with a journal folder, empty output folder, empty stand-in bin folder)."""
    root = node_root(name="cp-1")
    (root / "var/log/journal").mkdir(parents=True)
    out, bin_dir = tmp_path / "out", tmp_path / "bin"
    out.mkdir()
    bin_dir.mkdir()
    return root, out, bin_dir


@pytest.mark.parametrize("python", [sys.executable, pytest.param(
    str(PY36), marks=pytest.mark.skipif(PY36 is None, reason="no python3.6"))], ids=["py3", "py36"])
def test_hang_fail_absent_recorded_within_deadline(env, tmp_path, python):
    root, out, bin_dir = env
    pids = tmp_path / "pids"
    for name in ("iptables-save", "crictl", "kubectl"):
        standin(bin_dir, name, fail(name))
    standin(bin_dir, "journalctl", hang(pids))  # etcdctl: absent
    deadline = 5
    began = time.monotonic()
    result = collect(root, out, bin_dir, "--deadline", str(deadline), "--host-commands", "--cluster-commands",
                     "--quiet", python=python)
    wall = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert wall < deadline + 4, f"run took {wall:.1f}s with --deadline {deadline}"
    manifest, _ = read_bundle(bundle_in(out))
    items = by_id(manifest)
    for item_id in ("net.iptables_save", "cri.ps", "cri.ps_json", "k8s.healthz"):
        (item,) = items[item_id]
        assert item["exit_code"] == 1 and item["timed_out"] is False
        assert item["error"].startswith("exit code 1:") and "stand-in failure" in item["error"]
    assert items["cri.inspect"][0]["skipped"].startswith("not applicable: cri.ps_json")
    for item_id in ("etcd.member_list", "etcd.endpoint_status"):
        assert "etcdctl is not installed" in items[item_id][0]["skipped"]
    assert "did not answer /healthz" in items["k8s.leases"][0]["skipped"]
    (hung,) = items["journal.kubelet"]
    assert hung["timed_out"] is True and hung["exit_code"] is None
    assert "process group killed" in hung["error"]
    after = manifest["items"][manifest["items"].index(hung) + 1:]
    assert [i["id"] for i in after] == ["journal.runtime", "journal.etcd", "journal.control_plane",
                                        "cri.logs", "cri.logs_previous"]
    assert [i["skipped"] for i in after[:3]] == ["skipped: collection deadline reached"] * 3
    assert items["pki.openssl"][0]["skipped"] == "not installed: openssl not found on PATH"
    # the stand-in's shell and its sleeping child are both gone
    recorded = [int(p) for p in pids.read_text().split()]
    assert len(recorded) == 2
    assert not [p for p in recorded if alive(p)]


def write_ps_json(path: Path) -> None:
    """A `crictl ps -a -o json` document (CRI ListContainers) for a kubeadm node."""

    def container(cid: str, name: str, pod: str, namespace: str, attempt: int, state: str,
                  created: int) -> dict:
        return {"id": cid, "podSandboxId": "f" * 64, "metadata": {"name": name, "attempt": attempt},
                "image": {"image": "sha256:" + "0" * 64}, "imageRef": "sha256:" + "0" * 64,
                "state": state, "createdAt": str(created),
                "labels": {"io.kubernetes.container.name": name, "io.kubernetes.pod.name": pod,
                           "io.kubernetes.pod.namespace": namespace,
                           "io.kubernetes.pod.uid": "0" * 32},
                "annotations": {"io.kubernetes.container.restartCount": str(attempt)}}

    path.write_text(json.dumps({"containers": [
        container(ETCD_ID, "etcd", "etcd-cp-1", "kube-system", 0, "CONTAINER_RUNNING", 1700000000000000000),
        container(APISERVER_OLD_ID, "kube-apiserver", "kube-apiserver-cp-1", "kube-system", 2,
                  "CONTAINER_EXITED", 1700000100000000000),
        container(APISERVER_ID, "kube-apiserver", "kube-apiserver-cp-1", "kube-system", 3,
                  "CONTAINER_RUNNING", 1700000200000000000),
        container(FLANNEL_ID, "kube-flannel", "kube-flannel-ds-x7k2p", "kube-flannel", 0,
                  "CONTAINER_RUNNING", 1700000000000000000),
        container(COREDNS_ID, "coredns", "coredns-76f75df574-8xq2v", "kube-system", 0,
                  "CONTAINER_RUNNING", 1700000000000000000),
    ]}, indent=2))


def test_each_rows_follow_crictl_and_etcdctl_runs_inside_the_etcd_container(env, tmp_path):
    root, out, bin_dir = env
    calls = tmp_path / "crictl.calls"
    write_ps_json(tmp_path / "ps.json")
    standin(bin_dir, "crictl", f"""echo "$*" >> "{calls}"
case "$*" in
  *"ps -a -o json"*) /bin/cat "{tmp_path / 'ps.json'}" ;;
  *" logs "*) echo "stdout line of $*"; echo "stderr line of $*" >&2 ;;
  *" exec "*) echo '{{"stand-in": "etcdctl in the container"}}' ;;
  *) echo "crictl $*" ;;
esac
""")
    result = collect(root, out, bin_dir, "--deadline", "60", "--host-commands", "--cluster-commands",
                     "--quiet", "--exclude", "journal.*", "k8s.*", "net.*", "host.*")
    assert result.returncode == 0, result.stderr
    manifest, files = read_bundle(bundle_in(out))
    items = by_id(manifest)
    inspected = {i["key"]: i["source"][-1] for i in items["cri.inspect"]}
    # control-plane containers only, newest attempt of each
    assert inspected == {"kube-system_etcd-cp-1_etcd": ETCD_ID,
                         "kube-system_kube-apiserver-cp-1_kube-apiserver": APISERVER_ID}
    logged = {i["key"]: i for i in items["cri.logs"]}
    assert set(logged) == {"kube-system_etcd-cp-1_etcd", "kube-system_kube-apiserver-cp-1_kube-apiserver",
                           "kube-flannel_kube-flannel-ds-x7k2p_kube-flannel"}
    apiserver_log = files[logged["kube-system_kube-apiserver-cp-1_kube-apiserver"]["path"]].decode()
    # the container's stderr stream (where klog writes) is in the same output, in order
    assert apiserver_log.splitlines() == [f"stdout line of --timeout=10s logs --tail={kc.LOG_LINES} "
                                          f"--since=86400s {APISERVER_ID}",
                                          f"stderr line of --timeout=10s logs --tail={kc.LOG_LINES} "
                                          f"--since=86400s {APISERVER_ID}"]
    (previous,) = items["cri.logs_previous"]  # only the restarted container
    assert previous["source"][-3:] == ["--previous", f"--tail={kc.LOG_LINES}", APISERVER_ID]
    assert previous["path"] == "commands/cri.logs_previous/kube-system_kube-apiserver-cp-1_kube-apiserver.out"
    # etcdctl is absent on the host: it runs in the etcd container, with etcd's own certificate
    for item_id in ("etcd.member_list", "etcd.endpoint_status", "etcd.alarm_list", "etcd.endpoint_health"):
        (item,) = items[item_id]
        assert item["exit_code"] == 0, item
        argv = item["source"]
        assert argv[:5] == ["crictl", "--timeout=10s", "exec", ETCD_ID, "etcdctl"]
        assert "--cert=/etc/kubernetes/pki/etcd/server.crt" in argv
        assert "--key=/etc/kubernetes/pki/etcd/server.key" in argv
    assert b"etcdctl in the container" in files["commands/etcd.member_list.out"]
    assert "exec " + ETCD_ID + " etcdctl" in calls.read_text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_leaves_a_partial_bundle_and_no_processes(env, tmp_path, sig):
    root, out, bin_dir = env
    pids = tmp_path / "pids"
    standin(bin_dir, "crictl", hang(pids))
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--output",
                             str(out), "--host-commands", "--exclude", "journal.*"],
                            env={"PATH": str(bin_dir)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(600):  # wait until the stand-in runs (slow when the machine is loaded)
            if pids.exists() and len(pids.read_text().split()) == 2:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the crictl stand-in never started")
        began = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert time.monotonic() - began < 8, "the collector must stop promptly, not wait for the command"
    assert proc.returncode == 3, err.decode()
    bundle = bundle_in(out)
    assert bundle.name.endswith(".PARTIAL.tar.gz")
    manifest, _ = read_bundle(bundle)
    assert manifest["complete"] is False
    assert manifest["items"][-1]["id"] == "cri.ps"
    assert manifest["items"][-1]["skipped"].startswith("interrupted")
    for _ in range(50):  # SIGKILL of the group is sent; on a loaded machine the kernel takes a moment
        if not [p for p in map(int, pids.read_text().split()) if alive(p)]:
            break
        time.sleep(0.1)
    assert not [p for p in map(int, pids.read_text().split()) if alive(p)]
    assert not list(out.glob("*.tmp"))


def test_output_dash_streams_the_tarball_to_stdout(env):
    root, _, bin_dir = env
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--output", "-",
                             "--exclude", "etcd.*", "k8s.*"],
                            env={"PATH": str(bin_dir)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    names = []
    with tarfile.open(fileobj=proc.stdout, mode="r|gz") as tar:  # a pipe: stream mode, no seeking
        for member in tar:
            names.append(member.name)
            if member.name.endswith("/manifest.json"):
                manifest = json.load(tar.extractfile(member))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert names[0].endswith("/manifest.json")
    assert manifest["complete"] is True
    stored = {i["path"] for i in manifest["items"] if i["path"]}
    assert {n.split("/", 1)[1] for n in names[1:]} == stored
    assert "files/etc/kubernetes/pki/ca.crt" in stored
    # progress goes to stderr and never into the tarball stream
    assert b"[1/" in err


def test_progress_exclude_and_quiet(env):
    root, out, bin_dir = env
    result = collect(root, out, bin_dir, "--exclude", "etcd.*", "k8s.*", "net.iptables_save")
    assert result.returncode == 0, result.stderr
    progress = re.findall(r"^\[(\d+)/(\d+)\] (\S+)$", result.stderr.decode(), re.M)
    expected = [s.id for s in kc.SPECS
                if not s.id.startswith(("etcd.", "k8s.")) and s.id != "net.iptables_save"]
    assert [p[2] for p in progress] == expected
    assert [int(p[0]) for p in progress] == list(range(1, len(expected) + 1))
    assert {int(p[1]) for p in progress} == {len(expected)}
    manifest, _ = read_bundle(bundle_in(out))
    assert {i["id"] for i in manifest["items"]} <= set(expected)
    assert manifest["options"]["exclude"] == ["etcd.*", "k8s.*", "net.iptables_save"]
    quiet_out = out.parent / "quiet"
    quiet_out.mkdir()
    result = collect(root, quiet_out, bin_dir, "--quiet", "--exclude", "etcd.*", "k8s.*")
    assert result.returncode == 0
    assert b"[1/" not in result.stderr


def test_dry_run_runs_nothing_it_lists(env, tmp_path):
    root, out, bin_dir = env
    markers = tmp_path / "ran"
    markers.mkdir()
    tools = {s.source[0] for s in kc.SPECS if s.kind == "command" and not s.source[0].startswith("{")}
    tools |= {"etcdctl", "ssh", "sudo", "ip", "timedatectl", "openssl"}
    for tool in tools:
        standin(bin_dir, tool, f'/bin/touch "{markers}/{tool}"\n')
    result = collect(root, out, bin_dir, "--dry-run", "--host-commands")
    assert result.returncode == 0, result.stderr
    listing = result.stdout.decode()
    assert [line.split()[0] for line in listing.splitlines()[:len(kc.SPECS)]] == [s.id for s in kc.SPECS]
    assert "crictl --timeout=10s inspect <container id>" in listing
    assert "iptables-save" in listing and "etcdctl --endpoints=https://127.0.0.1:2379" in listing
    assert list(markers.iterdir()) == []
    assert list(out.iterdir()) == []
    # the stand-ins do write markers when run: the check above can fail
    subprocess.run([str(bin_dir / "crictl")], check=True)
    assert [p.name for p in markers.iterdir()] == ["crictl"]


def test_dry_run_shows_etcdctl_through_crictl_when_etcdctl_is_missing(env):
    root, out, bin_dir = env
    standin(bin_dir, "crictl", "exit 0\n")
    listing = collect(root, out, bin_dir, "--dry-run", "--host-commands").stdout.decode()
    line = next(x for x in listing.splitlines() if x.startswith("etcd.member_list"))
    assert "crictl --timeout=10s exec <etcd container id> etcdctl --endpoints=" in line
    assert "--cacert=/etc/kubernetes/pki/etcd/ca.crt" in line


def test_stdout_bundle_is_read_by_tarfile_from_bytes(env):
    root, _, bin_dir = env
    result = subprocess.run([sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--output", "-",
                             "--quiet", "--exclude", "etcd.*", "k8s.*"], env={"PATH": str(bin_dir)},
                            capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stderr == b""  # --quiet: nothing but the tarball leaves the collector
    with tarfile.open(fileobj=io.BytesIO(result.stdout), mode="r:gz") as tar:
        assert tar.getmembers()[0].name.endswith("/manifest.json")


def test_unreachable_etcd_costs_one_probe_not_five(env, tmp_path):
    root, out, bin_dir = env
    calls = tmp_path / "etcdctl.calls"
    # etcdctl's own words when nothing answers (dial-timeout passed): nothing on stdout
    standin(bin_dir, "etcdctl", f'echo "$*" >> "{calls}"\ncase "$*" in\n'
            '  *" version"*) echo "etcdctl version: 3.5.9" ;;\n'
            '  *) /bin/sleep 2; echo "Error: context deadline exceeded" >&2; exit 1 ;;\nesac\n')
    began = time.monotonic()
    result = collect(root, out, bin_dir, "--cluster-commands", "--quiet", "--exclude", "k8s.*", "journal.*",
                     "logs.*")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began < 10
    items = by_id(read_bundle(bundle_in(out))[0])
    assert items["etcd.endpoint_health"][0]["error"] == "exit code 1: Error: context deadline exceeded"
    for item_id in ("etcd.endpoint_status", "etcd.endpoint_status_local", "etcd.member_list",
                    "etcd.alarm_list"):
        assert items[item_id][0]["skipped"] == "skipped: " + kc.GATES["etcd"][2]
    assert len(calls.read_text().splitlines()) == 2  # version, endpoint health
