"""The collector on k3s, RKE2, MicroK8s and OpenShift nodes: detected, their own rows, same guarantees.

Each lab root (tests/lab/distro_roots.py, which names where every layout comes from) is collected
by the real stand-alone collector, as kubeadm's are: `--dry-run` lists the distribution's items and
a real run with `--root` stores them, never a key, a token or the datastore's content.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from collector import kubetriage_collect as kc
from tests.conftest import COLLECTOR, read_bundle, run_collector
from tests.lab.distro_roots import (
    DATASTORE_CANARY,
    KEY_CANARY,
    TOKEN,
    build_k3s_root,
    build_microk8s_root,
    build_openshift_root,
    build_rke2_root,
)

Builder = Callable[[Path], Path]
K3S = "/var/lib/rancher/k3s"
RKE2 = "/var/lib/rancher/rke2"
MICROK8S = "/var/snap/microk8s/current"
OCP = "/etc/kubernetes/static-pod-resources"

# distribution -> (builder, {item id: node paths that must be stored under it})
EXPECTED: dict[str, tuple[Builder, dict[str, set[str]]]] = {
    "k3s": (build_k3s_root, {
        "distro.config": {"/etc/rancher/k3s/config.yaml"},
        "distro.unit": {"/etc/systemd/system/k3s.service"},
        "pki.cert": {f"{K3S}/server/tls/client-ca.crt", f"{K3S}/server/tls/serving-kube-apiserver.crt",
                     f"{K3S}/server/tls/etcd/server-ca.crt", f"{K3S}/server/tls/etcd/server-client.crt"},
        "k8s.kubeconfig": {"/etc/rancher/k3s/k3s.yaml", f"{K3S}/server/cred/admin.kubeconfig"},
        "distro.manifests": {f"{K3S}/server/manifests/coredns.yaml",
                             f"{K3S}/server/manifests/metrics-server/metrics-server-deployment.yaml"},
        "distro.datastore_config": {f"{K3S}/server/db/etcd/config"},
    }),
    "rke2": (build_rke2_root, {
        "distro.config": {"/etc/rancher/rke2/config.yaml"},
        "distro.unit": {"/usr/local/lib/systemd/system/rke2-server.service"},
        "k8s.static_pod_manifest": {f"{RKE2}/agent/pod-manifests/etcd.yaml",
                                    f"{RKE2}/agent/pod-manifests/kube-apiserver.yaml"},
        "pki.cert": {f"{RKE2}/server/tls/client-ca.crt", f"{RKE2}/server/tls/etcd/server-client.crt"},
        "k8s.kubeconfig": {"/etc/rancher/rke2/rke2.yaml"},
        "distro.datastore_config": {f"{RKE2}/server/db/etcd/config"},
    }),
    "microk8s": (build_microk8s_root, {
        "distro.config": {f"{MICROK8S}/args/kube-apiserver", f"{MICROK8S}/args/kubelite",
                          f"{MICROK8S}/args/k8s-dqlite"},
        "distro.unit": {"/etc/systemd/system/snap.microk8s.daemon-kubelite.service",
                        "/etc/systemd/system/snap.microk8s.daemon-k8s-dqlite.service"},
        "pki.cert": {f"{MICROK8S}/certs/ca.crt", f"{MICROK8S}/certs/server.crt",
                     f"{MICROK8S}/var/kubernetes/backend/cluster.crt"},
        "k8s.kubeconfig": {f"{MICROK8S}/credentials/client.config"},
        "distro.datastore_config": {f"{MICROK8S}/var/kubernetes/backend/cluster.yaml",
                                    f"{MICROK8S}/var/kubernetes/backend/info.yaml"},
    }),
    "openshift": (build_openshift_root, {
        "k8s.static_pod_manifest": {"/etc/kubernetes/manifests/etcd-pod.yaml",
                                    "/etc/kubernetes/manifests/kube-apiserver-pod.yaml"},
        "pki.cert": {f"{OCP}/etcd-certs/secrets/etcd-all-certs/etcd-serving-master-0.crt",
                     f"{OCP}/etcd-certs/configmaps/etcd-serving-ca/ca-bundle.crt",
                     f"{OCP}/kube-apiserver-certs/secrets/etcd-client/tls.crt"},
        "k8s.kubeconfig": {f"{OCP}/kube-apiserver-certs/secrets/node-kubeconfigs/localhost.kubeconfig"},
        "distro.config": {"/etc/crio/crio.conf.d/00-default"},
    }),
}
JOURNAL = {"k3s": "journal.k3s", "rke2": "journal.rke2", "microk8s": "journal.microk8s"}
OTHER_SECTIONS = {"k3s": K3S, "rke2": RKE2, "microk8s": MICROK8S, "openshift": OCP}


def dry_run(root: Path, *args: str) -> str:
    argv = [sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--dry-run", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("distro", sorted(EXPECTED))
def test_dry_run_lists_the_distribution_and_its_own_items(distro, tmp_path):
    builder, expected = EXPECTED[distro]
    root = builder(tmp_path / "root")
    out = dry_run(root)
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert lines["distribution"].split()[1] == distro
    for item, paths in expected.items():
        listed = "\n".join(line for line in out.splitlines() if line.startswith(item + " "))
        for path in paths:
            assert path in listed, (item, path)
    if distro in JOURNAL:
        assert JOURNAL[distro] in lines
    # another distribution's section is not this node's
    for other, folder in OTHER_SECTIONS.items():
        if other != distro:
            assert folder not in out, other
    assert ".key" not in "\n".join(line for line in out.splitlines() if line.startswith(("pki.", "distro.")))


@pytest.mark.parametrize("distro", sorted(EXPECTED))
def test_a_run_with_root_stores_the_items_and_never_a_key_token_or_datastore(distro, tmp_path):
    builder, expected = EXPECTED[distro]
    root = builder(tmp_path / "root")
    out = tmp_path / "out"
    out.mkdir()
    result = run_collector(root, out, "--verify")
    assert result.returncode == 0, result.stderr
    assert "verify: clean" in result.stderr
    manifest, files = read_bundle(Path(result.stdout.split()[-1]))
    assert manifest["distribution"]["name"] == distro and manifest["distribution"]["kubernetes_found"]
    stored: dict[str, set[str]] = {}
    for item in manifest["items"]:
        if item["path"] and item["kind"] == "file":
            stored.setdefault(item["id"], set()).add(item["source"])
    for item_id, paths in expected.items():
        assert paths <= stored.get(item_id, set()), (item_id, paths - stored.get(item_id, set()))
    blob = b"".join(files.values())
    assert KEY_CANARY.strip() not in blob and b"PRIVATE KEY" not in blob
    assert DATASTORE_CANARY not in blob
    assert TOKEN.encode() not in blob
    # nothing the disk configures ran: every etcd/kubectl row says why
    for item in manifest["items"]:
        if item["id"].startswith(("etcd.endpoint", "k8s.")) and item["id"] != "k8s.static_pod_manifest" \
                and item["id"] != "k8s.kubeconfig":
            assert item["path"] is None and item["skipped"], item


def test_k3s_datastore_is_listed_by_size_and_etcdctl_uses_the_embedded_etcd_config(tmp_path):
    root = build_k3s_root(tmp_path / "root", etcd_client_port=23790)
    out = dry_run(root, "--cluster-commands")
    (health,) = [line for line in out.splitlines() if line.startswith("etcd.endpoint_health ")]
    tls = f"{root}{K3S}/server/tls/etcd"
    assert (f"--endpoints=https://127.0.0.1:23790 --cacert={tls}/server-ca.crt "
            f"--cert={tls}/server-client.crt --key={tls}/server-client.key") in health
    (healthz,) = [line for line in out.splitlines() if line.startswith("k8s.healthz ")]
    assert "<client-certificate copy of /etc/rancher/k3s/k3s.yaml>" in healthz
    # with --root the bundled `k3s kubectl` is never the tool: the host's kubectl is
    assert "run  kubectl --kubeconfig=" in healthz
    outdir = tmp_path / "out"
    outdir.mkdir()
    result = run_collector(root, outdir)
    manifest, files = read_bundle(Path(result.stdout.split()[-1]))
    (listing,) = [i for i in manifest["items"] if i["id"] == "distro.datastore_files"]
    text = files[listing["path"]].decode()
    assert f"{K3S}/server/db/etcd/member/snap/db" in text and text.splitlines()[0].split("\t")[0].isdigit()


def test_k3s_on_kine_says_there_is_no_embedded_etcd(tmp_path):
    root = build_k3s_root(tmp_path / "root", embedded_etcd=False)
    out = dry_run(root, "--cluster-commands")
    (health,) = [line for line in out.splitlines() if line.startswith("etcd.endpoint_health ")]
    assert "no embedded etcd" in health and "kine" in health


def test_microk8s_token_kubeconfig_is_never_used_by_kubectl(tmp_path):
    root = build_microk8s_root(tmp_path / "root")
    out = dry_run(root, "--cluster-commands")
    (healthz,) = [line for line in out.splitlines() if line.startswith("k8s.healthz ")]
    assert "skip (" in healthz and "no client certificate" in healthz
    (health,) = [line for line in out.splitlines() if line.startswith("etcd.endpoint_health ")]
    assert "dqlite" in health


@pytest.mark.parametrize(("files", "name"), [
    (["var/lib/k0s/pki/ca.crt", "etc/systemd/system/k0scontroller.service"], "k0s"),
    (["etc/systemd/system/snap.kube-apiserver.daemon.service"], "charmed"),
    (["etc/kubernetes/manifests/kube-apiserver.yaml"], "kubeadm"),
])
def test_k0s_charmed_and_kubeadm_are_detected_from_their_files(tmp_path, files, name):
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert dry_run(tmp_path).splitlines()[0].split()[1] == name


def test_no_kubernetes_is_said_on_stderr_and_in_the_manifest(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("plain-host\n")
    out = tmp_path / "out"
    out.mkdir()
    result = run_collector(root, out)  # --quiet: the line is still said
    assert result.returncode == 0, result.stderr
    assert "kubetriage-collect: no Kubernetes found on this node" in result.stderr
    assert f"under {root}: the bundle holds host facts only" in result.stderr
    manifest, _ = read_bundle(Path(result.stdout.split()[-1]))
    assert manifest["distribution"] == {"name": None, "detected": [], "evidence": {},
                                        "kubernetes_found": False, "note": manifest["distribution"]["note"]}
    assert manifest["distribution"]["note"].startswith("no Kubernetes found")


@pytest.mark.parametrize(("live", "kubectl", "crictl"), [
    (True, ["k3s", "kubectl"], ["k3s", "crictl"]),  # the node's own k3s, on a live node
    (False, ["kubectl"], ["crictl"]),  # with --root: the host's tools, never one from the disk
])
def test_bundled_tools_only_on_a_live_node(tmp_path, monkeypatch, live, kubectl, crictl):
    monkeypatch.setattr(kc.shutil, "which", lambda name: "/usr/local/bin/" + name)
    distribution = kc.Distribution(["k3s"], {"k3s": ["/var/lib/rancher/k3s/server"]})
    ctx = kc.Context("/" if live else str(build_k3s_root(tmp_path / "root")), "-60s", distribution)
    ctx.values["admin_conf"] = "/staging/.kubeconfig"
    assert ctx.expand(kc.KUBECTL + ["get", "nodes"]) == [*kubectl, "--kubeconfig=/staging/.kubeconfig",
                                                         "--request-timeout=5s", "get", "nodes"]
    assert ctx.expand(kc.CRICTL + ["ps"]) == [*crictl, "--timeout=10s", "ps"]


def test_rke2_etcdctl_runs_in_its_etcd_container_with_the_rke2_certificates(tmp_path, monkeypatch):
    """Without etcdctl on the host (RKE2 ships none), `crictl exec` into the etcd container, with the
    certificates RKE2 mounts at the same paths (rancherlabs/support-tools#207)."""
    monkeypatch.setattr(kc.shutil, "which", lambda name: None)
    ctx = kc.Context(str(build_rke2_root(tmp_path / "root")), "-60s")
    assert ctx.distribution.names == ["rke2"]
    etcd = kc.Container("e" * 64, "etcd", "etcd-rke2-server-1", "kube-system", 0, True, 0)
    ctx.use_containers([etcd])
    tls = f"{RKE2}/server/tls/etcd"
    assert ctx.expand(kc.ETCDCTL + ["member", "list"]) == [
        "crictl", "--timeout=10s", "exec", "e" * 64, "etcdctl", "--endpoints=https://127.0.0.1:2379",
        f"--cacert={tls}/server-ca.crt", f"--cert={tls}/server-client.crt", f"--key={tls}/server-client.key",
        "--dial-timeout=3s", "--command-timeout=5s", "member", "list"]


def test_openshift_etcdctl_runs_in_the_etcdctl_container_with_its_own_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(kc.shutil, "which", lambda name: None)
    ctx = kc.Context(str(build_openshift_root(tmp_path / "root")), "-60s")
    with pytest.raises(KeyError, match="etcdctl container"):
        ctx.expand(kc.ETCDCTL)
    etcd = kc.Container("a" * 64, "etcd", "etcd-master-0", "openshift-etcd", 0, True, 0)
    etcdctl = etcd._replace(id="b" * 64, name="etcdctl")
    ctx.use_containers([etcd, etcdctl])
    assert ctx.expand(kc.ETCDCTL + ["endpoint", "health"]) == [
        "crictl", "--timeout=10s", "exec", "b" * 64, "etcdctl", "--dial-timeout=3s", "--command-timeout=5s",
        "endpoint", "health"]


def test_a_k3s_etcd_config_naming_paths_outside_the_root_stays_inside(tmp_path):
    root = build_k3s_root(tmp_path / "root")
    outside = tmp_path / "analyst.crt"
    outside.write_text("CANARY-OUTSIDE")
    config = root / "var/lib/rancher/k3s/server/db/etcd/config"
    config.write_text(config.read_text().replace(f"{K3S}/server/tls/etcd/server-ca.crt",
                                                 f"/../../../../..{outside}"))
    out = dry_run(root, "--cluster-commands")
    (health,) = [line for line in out.splitlines() if line.startswith("etcd.endpoint_health ")]
    assert f"--cacert={root}{outside}" in health  # the node's path, under the root
    assert f"--cacert={outside} " not in health
