"""The collector against hostile node roots (tests/hostile/collector_roots.py): nothing a mounted disk
configures runs on the analyst's machine, and no path the disk names leads out of the root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

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


def run(disk, *args: str) -> tuple[dict, dict[str, list[dict]]]:
    root, out, bin_dir, tmp, _ = disk
    result = collect(root, out, bin_dir, "--quiet", "--deadline", "60", "--exclude", "journal.*", "logs.*",
                     "cri.*", *args, env={"TMPDIR": str(tmp)})
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
