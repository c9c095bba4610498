"""The collector against hostile node roots (tests/hostile/collector_roots.py) and unlucky machines:
nothing a mounted disk configures runs on the analyst's machine, no path the disk names leads out of
the root, and nothing hangs, explodes or ends in a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from collector import kubetriage_collect as kc
from tests.conftest import COLLECTOR, read_bundle
from tests.hostile import collector_roots as hostile
from tests.test_collector_runtime import bundle_in, by_id, collect

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="a real kubectl runs exec plugins: none installed")


@pytest.fixture
def disk(node_root, tmp_path):
    """(root, out, bin folder with the real kubectl, du and df, private TMPDIR, exec plugin marker)."""
    root = node_root(name="cp-1")
    out, bin_dir, tmp = tmp_path / "out", tmp_path / "bin", tmp_path / "tmp"
    for folder in (out, bin_dir, tmp):
        folder.mkdir()
    for tool in ("kubectl", "du", "df"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    return root, out, bin_dir, tmp, tmp_path / "PLUGIN-RAN"


def run(disk, *args: str, exclude: tuple[str, ...] = ("journal.*", "logs.*", "cri.*")
        ) -> tuple[dict, dict[str, list[dict]]]:
    root, out, bin_dir, tmp, _ = disk
    result = collect(root, out, bin_dir, "--quiet", "--deadline", "60", "--exclude", *exclude, *args,
                     env={"TMPDIR": str(tmp)})
    assert result.returncode == 0, result.stderr
    manifest, _ = read_bundle(bundle_in(out))
    assert list(tmp.iterdir()) == [], "the staging folder and the kubeconfig copy are removed"
    return manifest, by_id(manifest)


@needs_kubectl
def test_a_mounted_disk_never_runs_its_kubeconfig_plugin(disk):
    root, _, _, _, marker = disk
    hostile.exec_plugin_kubeconfig(root, marker, keep_client_cert=False)
    # the plugin really runs when kubectl is given this kubeconfig: the check below can fail
    probe = subprocess.run([KUBECTL, f"--kubeconfig={root}/etc/kubernetes/admin.conf", "--request-timeout=5s",
                            "get", "--raw=/healthz"], capture_output=True, timeout=30)
    assert probe.returncode != 0 and marker.exists()
    marker.unlink()

    manifest, items = run(disk)
    assert not marker.exists()
    for item_id in ("k8s.healthz", "etcd.member_list", "etcd.endpoint_status"):
        assert items[item_id][0]["skipped"] == kc.CLUSTER_SKIPPED, items[item_id]
    assert manifest["options"]["cluster_commands"] is False
    assert manifest["kubeconfig"]["used"] is None and manifest["kubeconfig"]["left_out"] == ["exec"]


@needs_kubectl
def test_cluster_commands_use_the_client_certificate_only(disk):
    root, out, _, _, marker = disk
    hostile.exec_plugin_kubeconfig(root, marker)
    manifest, items = run(disk, "--cluster-commands", "--exclude", "etcd.*")
    assert not marker.exists()
    (healthz,) = items["k8s.healthz"]
    assert healthz["exit_code"] == 1 and "refused" in healthz["error"], healthz  # kubectl ran, no plugin
    kubeconfig = next(a for a in healthz["source"] if a.startswith("--kubeconfig="))
    assert str(root) not in kubeconfig and kubeconfig.endswith("/.kubeconfig")
    assert manifest["kubeconfig"] == {"source": "/etc/kubernetes/admin.conf",
                                      "used": "client certificate only (sanitised copy)",
                                      "left_out": ["exec"], "why": None}


@needs_kubectl
def test_a_kubeconfig_with_only_a_plugin_is_not_used(disk):
    root, _, _, _, marker = disk
    hostile.exec_plugin_kubeconfig(root, marker, keep_client_cert=False)
    manifest, items = run(disk, "--cluster-commands", "--exclude", "etcd.*")
    assert not marker.exists()
    assert items["k8s.healthz"][0]["skipped"].startswith(
        "not applicable: /etc/kubernetes/admin.conf: no client certificate and key")
    assert manifest["kubeconfig"]["used"] is None


@pytest.mark.parametrize("make", [hostile.escaping_data_dir, hostile.linked_data_dir], ids=["dotdot", "link"])
def test_etcd_data_dir_stays_inside_the_root(disk, tmp_path, make):
    root = disk[0]
    outside = tmp_path / "analyst-etcd"  # a folder of the analyst's own machine
    (outside / "member").mkdir(parents=True)
    make(root, outside)
    _, items = run(disk)
    for item_id in ("etcd.data_dir_usage", "etcd.data_dir_df"):
        (item,) = items[item_id]
        argv = " ".join(item["source"])
        assert str(outside) not in argv.replace(str(root), ""), argv
        assert item["skipped"] and "etcd data dir" in item["skipped"], item


def test_dry_run_says_cluster_commands_are_skipped(disk):
    root, out, bin_dir, _, _ = disk
    listing = collect(root, out, bin_dir, "--dry-run").stdout.decode()
    line = next(x for x in listing.splitlines() if x.startswith("k8s.healthz"))
    assert "skip without --cluster-commands" in line and "<client-certificate copy of" in line


@pytest.mark.skipif(KUBECTL is None or shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="needs root, unshare and kubectl: a private /etc for the live-node run")
def test_a_live_node_never_runs_a_kubeconfig_plugin_either(node_root, tmp_path):
    """--root / (the default): the node's own admin.conf, in a private mount namespace's /etc."""
    root = node_root(name="cp-1")
    marker = tmp_path / "PLUGIN-RAN"
    hostile.exec_plugin_kubeconfig(root, marker)
    etc, out = tmp_path / "etc", tmp_path / "out"
    (etc / "kubernetes").mkdir(parents=True)
    out.mkdir()
    shutil.copy(root / "etc/kubernetes/admin.conf", etc / "kubernetes/admin.conf")
    only = [s.id for s in kc.SPECS if s.id != "k8s.healthz"]
    script = (f"mount --make-rprivate / && mount --bind {etc} /etc && "
              f"exec {sys.executable} -I -S {COLLECTOR} --output {out} --quiet --exclude {' '.join(only)}")
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                            timeout=120, env={"PATH": os.path.dirname(KUBECTL) + ":/usr/bin:/bin"})
    if "mount" in result.stderr and result.returncode:
        pytest.skip("no private mounts here: " + result.stderr.strip())
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    manifest, _ = read_bundle(bundle_in(out))
    (healthz,) = [i for i in manifest["items"] if i["id"] == "k8s.healthz"]
    assert healthz["exit_code"] == 1 and "refused" in healthz["error"], healthz
    assert manifest["kubeconfig"]["used"] == "client certificate only (sanitised copy)"
    assert json.dumps(manifest).count("PLUGIN-RAN") == 0


# -- 3. nothing hangs, explodes or crashes ---------------------------------------------------------
def by_source(manifest: dict) -> dict[str, dict]:
    return {i["source"]: i for i in manifest["items"] if isinstance(i["source"], str)}


def test_fifos_and_devices_are_refused_without_reading(disk):
    root, out, bin_dir, _, _ = disk
    hostile.fifo_at(root, "/etc/kubernetes/manifests/kube-scheduler.yaml")
    hostile.fifo_at(root, "/etc/kubernetes/manifests/etcd.yaml")  # read for --dry-run's etcdctl line
    hostile.fifo_at(root, "/etc/hostname")
    hostile.fifo_at(root, "/var/log/syslog")
    os.mknod(root / "var/log/messages", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # a /dev/zero
    (root / "dev").mkdir()
    os.mknod(root / "dev/zero", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    hostile.link_at(root, "/var/lib/kubelet/config.yaml", "/dev/zero")  # the node's /dev/zero
    began = time.monotonic()
    listing = collect(root, out, bin_dir, "--dry-run", timeout=60)
    assert listing.returncode == 0 and b"kube-scheduler.yaml" in listing.stdout
    manifest, _ = run(disk, "--deadline", "30", exclude=("journal.*", "cri.*"))
    assert time.monotonic() - began < 30
    items = by_source(manifest)
    fifo = "cannot read: not a regular file (FIFO)"
    device = "cannot read: not a regular file (character device)"
    assert items["/etc/kubernetes/manifests/kube-scheduler.yaml"]["error"] == fifo
    assert items["/var/log/syslog"]["error"] == fifo
    assert items["/var/log/messages"]["error"] == device
    config = items["/var/lib/kubelet/config.yaml"]
    assert config["link"] == "/dev/zero" and config["error"] == device


def test_a_link_to_the_host_root_is_never_walked(disk):
    root = disk[0]
    hostile.link_at(root, "/etc/kubernetes/pki/hostroot", "/")  # on the analyst's machine: its own /
    hostile.link_at(root, "/etc/kubernetes/pki/loop", ".")
    began = time.monotonic()
    manifest, _ = run(disk, "--deadline", "60")
    assert time.monotonic() - began < 30
    walked = [s for s in by_source(manifest) if "/hostroot/" in s or "/loop/" in s]
    assert walked == []
    assert any(i["id"] == "pki.cert" and i["path"] for i in manifest["items"])


def test_each_file_search_is_bounded(node_root, tmp_path, monkeypatch, capsys):
    root = node_root(name="cp-1")
    pods = root / "var/log/pods/kube-system_etcd-cp-1_0f0e/etcd"
    pods.mkdir(parents=True)
    for n in range(200):
        (pods / f"{n}.log").write_text("line\n")
    monkeypatch.setattr(kc, "MAX_WALK_ENTRIES", 50)
    saved = {sig: signal.getsignal(sig) for sig in kc.SignalGuard.SIGNALS}
    out = tmp_path / "out"
    out.mkdir()
    try:
        assert kc.main(["--root", str(root), "--output", str(out), "--quiet", "--exclude", "etcd.*", "k8s.*",
                        "journal.*", "cri.*", "host.*", "net.*"]) == 0
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    manifest, _ = read_bundle(Path(capsys.readouterr().out.split()[-1]))
    (stopped,) = [i for i in manifest["items"] if i["id"] == "logs.pod" and i["error"]]
    assert stopped["error"] == "file search stopped after 50 entries" and stopped["truncated"] is True


def test_proc_files_are_read_on_the_real_host(tmp_path):
    """--root / (this machine): /proc files say size 0 and cannot seek from their end."""
    out = tmp_path / "out"
    out.mkdir()
    others = [s.id for s in kc.SPECS if s.id not in ("host.memory", "host.uptime")]
    result = subprocess.run([sys.executable, "-I", "-S", str(COLLECTOR), "--output", str(out), "--quiet",
                             "--exclude", *others], capture_output=True, timeout=60,
                            env={"PATH": "/nonexistent"})
    assert result.returncode == 0, result.stderr
    manifest, files = read_bundle(bundle_in(out))
    items = by_source(manifest)
    assert [items[p]["error"] for p in ("/proc/meminfo", "/proc/uptime", "/proc/loadavg")] == [None] * 3
    assert files["files/proc/meminfo"].startswith(b"MemTotal:")
    assert re.fullmatch(rb"\d+\.\d+ \d+\.\d+\n", files["files/proc/uptime"])


def quick(root: Path, *args: str, cwd: Path | None = None, stdout: int | None = subprocess.PIPE,
          env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--quiet",
                             "--exclude", "etcd.*", "k8s.*", "journal.*", "cri.*", "host.*", "net.*",
                             "logs.*", *args], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                            env={"PATH": "/usr/bin:/bin", **(env or {})})


def one_line_exit_6(proc: subprocess.Popen[bytes]) -> str:
    _, err = proc.communicate(timeout=60)
    lines = err.decode().splitlines()
    assert proc.returncode == kc.OUTPUT_FAILED, err.decode()
    assert len(lines) == 1 and lines[0].startswith("kubetriage-collect: cannot "), lines
    return lines[0]


@pytest.mark.parametrize("where", ["missing folder", "read-only folder", "read-only cwd"])
def test_an_unwritable_output_is_one_line_and_exit_6(node_root, tmp_path, where):
    root = node_root(name="cp-1")
    args = {"missing folder": ["--output", str(tmp_path / "gone/sub/b.tar.gz")],
            "read-only folder": ["--output", "/proc"], "read-only cwd": []}[where]
    line = one_line_exit_6(quick(root, *args, cwd=Path("/proc") if where == "read-only cwd" else tmp_path))
    assert ("No such file or directory" if where == "missing folder" else "/proc") in line


def test_output_to_a_closed_pipe_is_one_line_and_exit_6(node_root):
    proc = quick(node_root(name="cp-1"), "--output", "-")
    assert proc.stdout is not None
    proc.stdout.close()  # the reader went away (`collect -o - | head -c0`)
    assert "cannot write the bundle to stdout: Broken pipe" in one_line_exit_6(proc)


def test_concurrent_runs_in_one_second_get_their_own_names(node_root, tmp_path):
    root = node_root(name="cp-1")
    out = tmp_path / "out"
    out.mkdir()
    procs = [quick(root, "--output", str(out), "--node-name", "cp-1") for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    bundles = sorted(out.glob("*.tar.gz"))
    assert len(bundles) == 3, bundles
    for bundle in bundles:
        with tarfile.open(bundle) as tar:
            assert tar.getmembers()[0].name == bundle.name[:-len(".tar.gz")] + "/manifest.json"


def in_small_tmpfs(folder: Path, argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run argv with a 256 KiB tmpfs mounted on folder, in a private mount namespace."""
    script = f"mount --make-rprivate / && mount -t tmpfs -o size=256k tmpfs {folder} && exec \"$@\""
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *argv], capture_output=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin"})


needs_mounts = pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                                  reason="needs root and unshare for a small private tmpfs")


@needs_mounts
def test_a_full_output_disk_is_one_line_and_leaves_nothing(node_root, tmp_path):
    root = node_root(name="cp-1")
    big = root / "var/log/pods/kube-system_etcd-cp-1_0f0e/etcd/0.log"
    big.parent.mkdir(parents=True)
    big.write_bytes(os.urandom(600 * 1024).hex().encode()[:1024 * 1024])  # does not compress to 256 KiB
    out = tmp_path / "out"
    out.mkdir()
    result = in_small_tmpfs(out, [sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--quiet",
                                  "--output", str(out), "--exclude", "etcd.*", "k8s.*", "journal.*", "cri.*"])
    if result.returncode and b"mount" in result.stderr:
        pytest.skip(result.stderr.decode())
    lines = result.stderr.decode().splitlines()
    assert result.returncode == kc.OUTPUT_FAILED and len(lines) == 1, result.stderr.decode()
    assert "No space left on device" in lines[0]
    assert list(out.iterdir()) == []  # the tmpfs is gone; nothing was left beneath it either


@needs_mounts
def test_a_full_tmpdir_fails_the_items_it_cannot_hold_and_the_bundle_says_so(node_root, tmp_path):
    root = node_root(name="cp-1")
    big = root / "var/log/pods/kube-system_etcd-cp-1_0f0e/etcd/0.log"
    big.parent.mkdir(parents=True)
    big.write_bytes(b"2024-01-01T00:00:00.000000000Z stderr F filler line\n" * 20000)  # 1 MB
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    result = in_small_tmpfs(tmp, ["env", f"TMPDIR={tmp}", sys.executable, "-I", "-S", str(COLLECTOR),
                                  "--root", str(root), "--quiet", "--output", str(out), "--exclude", "etcd.*",
                                  "k8s.*", "journal.*", "cri.*"])
    if result.returncode and b"mount" in result.stderr:
        pytest.skip(result.stderr.decode())
    assert result.returncode == 0, result.stderr.decode()
    manifest, _ = read_bundle(bundle_in(out))
    (log,) = [i for i in manifest["items"] if i["id"] == "logs.pod"]
    assert log["path"] is None and log["error"].startswith("cannot stage in ")
    assert log["error"].endswith("No space left on device")
    assert any(i["id"] == "pki.cert" and i["path"] for i in manifest["items"])
