"""Node-level problems under the control plane: full disks and clocks (unsynchronised, or apart)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..facts import ClusterView
from ..facts.host import NodeHost
from ..findings import Category, Evidence, Finding, Remediation, Severity
from ..parsers.host import Disk
from . import REGISTRY, rule
from .shell import quote

FULL_PERCENT = 95
NEARLY_FULL_PERCENT = 85
#: the kubelet evicts pods below 10% free on its filesystem (default evictionHard nodefs.available)
EVICTION_PERCENT = 90
#: etcd warns and its peers' prober reports unhealthy past 1 s of clock difference
SKEW = dt.timedelta(seconds=1)
#: filesystems that are full by design or mirror another one
IGNORED_FS = ("tmpfs", "devtmpfs", "squashfs", "shm", "overlay_", "none", "udev")
IGNORED_MOUNTS = ("/dev", "/sys", "/proc", "/run", "/snap", "/boot/efi", "/var/lib/docker/",
                  "/var/lib/containerd/", "/var/lib/kubelet/pods/", "/run/containerd/")


def _critical_paths(view: ClusterView, host: NodeHost) -> dict[str, str]:
    """Paths whose filesystem filling up takes the control plane down, with why."""
    config = next((n.config for n in view.etcd.nodes if n.node == host.node and n.config), None)
    data_dir = config.data_dir if config and config.data_dir else host.etcd_data_dir
    return {data_dir: "the etcd data dir (etcd stops writing: 'no space left on device', NOSPACE)",
            "/var/lib/kubelet": "the kubelet's root dir (disk pressure: pods are evicted)",
            "/var/lib/containerd": "container images and writable layers",
            "/var/log": "control-plane logs", "/var": "/var", "/": "the root filesystem"}


def _roles(view: ClusterView, host: NodeHost, disk: Disk) -> list[str]:
    return [why for path, why in _critical_paths(view, host).items() if host.mount_of(path) == disk]


def _disks(view: ClusterView) -> Iterator[tuple[NodeHost, Disk, list[str]]]:
    for host in view.host:
        for disk in host.disks or []:
            if disk.filesystem.startswith(IGNORED_FS) or \
                    (disk.mount != "/" and disk.mount.startswith(IGNORED_MOUNTS)) or disk.size_kb == 0:
                continue
            yield host, disk, _roles(view, host, disk)


def _disk_finding(rule_id: str, severity: Severity, host: NodeHost, disk: Disk, roles: list[str],
                  title: str) -> Finding:
    assert host.disk_ref is not None
    holds = f" It holds {'; '.join(roles)}." if roles else ""
    commands = [f"df -h {quote(disk.mount)}",
                f"du -xh --max-depth=2 {quote(disk.mount)} 2>/dev/null | sort -h | tail -n 20",
                "journalctl --vacuum-size=500M", "crictl rmi --prune"]
    text = ("Find what fills the filesystem and free space (old logs, unused images), or grow it. "
            "Do not delete files under the etcd data dir: if etcd's own database is large, compact and "
            "defragment it with etcdctl (see the etcd findings).")
    return REGISTRY[rule_id].finding(severity=severity, category=Category.NODE, title=title,
        detail=(f"{disk.mount} ({disk.filesystem}) on {host.node} is {disk.percent}% used, "
                f"{disk.available_kb // 1024} MiB free of {disk.size_kb // 1024} MiB.{holds}"),
        remediation=Remediation(text, tuple(commands)),
        evidence=[Evidence(host.node, host.disk_ref.path, disk.line, disk.text, host.disk_ref.item_id)],
        nodes=[host.node], objects=[f"{host.node}:{disk.mount}"])


@rule("DISK_FULL", Category.NODE, Severity.CRITICAL, "Filesystem full",
      f"No filesystem (etcd data dir, /var, the kubelet's and the runtime's dirs, /) is {FULL_PERCENT}% "
      "used or more, or without free space (`df -P -k`).", ("host.df",))
def disk_full(view: ClusterView) -> Iterator[Finding]:
    for host, disk, roles in _disks(view):
        if disk.percent >= FULL_PERCENT or disk.available_kb == 0:
            severity = Severity.CRITICAL if roles else Severity.ERROR
            yield _disk_finding("DISK_FULL", severity, host, disk, roles,
                                f"{disk.mount} on {host.node} is full ({disk.percent}%)")


@rule("DISK_NEARLY_FULL", Category.NODE, Severity.ERROR, "Filesystem nearly full",
      f"No filesystem is {NEARLY_FULL_PERCENT}% used or more (error from {EVICTION_PERCENT}% on the "
      "control plane's filesystems, where the kubelet starts evicting).", ("host.df",))
def disk_nearly_full(view: ClusterView) -> Iterator[Finding]:
    for host, disk, roles in _disks(view):
        if NEARLY_FULL_PERCENT <= disk.percent < FULL_PERCENT and disk.available_kb > 0:
            severity = Severity.ERROR if roles and disk.percent >= EVICTION_PERCENT else Severity.WARNING
            yield _disk_finding("DISK_NEARLY_FULL", severity, host, disk, roles,
                                f"{disk.mount} on {host.node} is {disk.percent}% used")


SYNC_COMMANDS = ("timedatectl status", "chronyc tracking", "chronyc sources -v",
                 "systemctl enable --now chronyd || systemctl enable --now chrony",
                 "chronyc makestep", "timedatectl set-ntp true")


@rule("CLOCK_NOT_SYNCHRONIZED", Category.NODE, Severity.ERROR, "Clock not synchronised",
      "Every node's clock is NTP-synchronised (timedatectl, chronyc tracking, the collector's reading in "
      f"manifest.json) and within {SKEW.total_seconds():.0f} s of its NTP source (error beyond that).",
      ("host.timedatectl", "host.chrony"))
def clock_not_synchronized(view: ClusterView) -> Iterator[Finding]:
    for host in view.host:
        evidence: list[Evidence] = []
        worst = Severity.WARNING
        reasons: list[str] = []
        for fact in host.time:
            sync = fact.sync
            if sync.synchronized is False:
                reasons.append(f"{sync.tool} says the clock is not synchronised")
                evidence.append(Evidence(host.node, fact.ref.path, sync.line, sync.text, fact.ref.item_id))
            if sync.offset_s is not None and abs(sync.offset_s) > SKEW.total_seconds():
                worst = Severity.ERROR
                side = "ahead of" if sync.offset_s > 0 else "behind"
                reasons.append(f"chrony measures the clock {abs(sync.offset_s):.3f} s {side} NTP time")
                evidence.append(Evidence(host.node, fact.ref.path, sync.offset_line,
                                         f"System time: {abs(sync.offset_s)} seconds "
                                         f"{'fast' if sync.offset_s > 0 else 'slow'} of NTP time",
                                         fact.ref.item_id))
        if host.ntp_synchronized is False and not evidence:
            reasons.append("the collector read NTPSynchronized=no")
            evidence.append(Evidence(host.node, "manifest.json", None, '"clock": {"ntp_synchronized": false}',
                                     "manifest"))
        if not reasons:
            continue
        yield REGISTRY["CLOCK_NOT_SYNCHRONIZED"].finding(
            severity=worst, title=f"Clock on {host.node} is not synchronised",
            detail=(f"On {host.node}: {'; '.join(reasons)}. A drifting clock breaks certificate validity "
                    f"checks, lease expiry and etcd's peer health checks, and skews every timestamp."),
            remediation=Remediation("Run an NTP client (chrony or systemd-timesyncd) against the same source "
                                    "on every node and step the clock once.", SYNC_COMMANDS),
            evidence=evidence, nodes=[host.node], objects=[f"{host.node}:clock"])


def _offset_pairs(view: ClusterView) -> Iterator[tuple[str, str, float, list[Evidence]]]:
    """chrony offsets: two synchronised-or-not nodes' offsets from NTP differ by their skew."""
    offsets = [(h.node, f) for h in view.host for f in h.time if f.sync.offset_s is not None]
    if len(offsets) < 2:
        return
    (low_node, low), (high_node, high) = (min(offsets, key=lambda o: o[1].sync.offset_s or 0.0),
                                          max(offsets, key=lambda o: o[1].sync.offset_s or 0.0))
    spread = (high.sync.offset_s or 0.0) - (low.sync.offset_s or 0.0)
    if spread > SKEW.total_seconds():
        evidence = [Evidence(n, f.ref.path, f.sync.offset_line,
                             f"System time offset {f.sync.offset_s:+.6f} s", f.ref.item_id)
                    for n, f in ((high_node, high), (low_node, low))]
        yield high_node, low_node, spread, evidence


@rule("CLOCK_SKEW_BETWEEN_NODES", Category.HA, Severity.ERROR, "Clocks differ between nodes",
      f"Control-plane clocks agree within {SKEW.total_seconds():.0f} s: chrony offsets compared across "
      "nodes, and Leases renewed by one node's components read by another node with a renewTime later "
      "than the read (bundle timestamps come from each node's own clock and cannot show skew).",
      ("host.chrony", "k8s.node_leases", "k8s.leases"))
def clock_skew(view: ClusterView) -> Iterator[Finding]:
    pairs: dict[tuple[str, str], tuple[float, list[Evidence], str]] = {}
    for ahead, behind, seconds, evidence in _offset_pairs(view):
        pairs[(ahead, behind)] = (seconds, evidence, "chrony offsets")
    # only holders that are nodes: other leases are held by pods, whose node is not named
    nodes = {n.name for n in view.nodes} | {n.node.name for n in view.k8s.nodes}
    for host in view.host:
        for bound in host.ahead:
            if bound.holder == bound.observer or bound.holder not in nodes or bound.at_least <= SKEW:
                continue
            seconds = bound.at_least.total_seconds()
            key = (bound.holder, bound.observer)
            if key in pairs and pairs[key][0] >= seconds:
                continue
            excerpt = (f"lease {bound.lease} renewTime {bound.renew_time.isoformat()} (holder "
                       f"{bound.holder}) read by {bound.observer} by {bound.read_until.isoformat()} "
                       f"on its clock")
            pairs[key] = (seconds, [Evidence(bound.observer, bound.ref.path, bound.line, excerpt,
                                             bound.ref.item_id)], "a lease renewal")
    for (ahead, behind), (seconds, evidence, how) in pairs.items():
        at_least = "at least " if how == "a lease renewal" else ""
        yield REGISTRY["CLOCK_SKEW_BETWEEN_NODES"].finding(
            title=f"Clock of {ahead} is {at_least}{seconds:.1f} s ahead of {behind}",
            detail=(f"From {how}: {ahead}'s clock runs {at_least}{seconds:.1f} s ahead of {behind}'s. etcd "
                    f"reports peers more than 1 s apart as unhealthy; leases look expired or fresh depending "
                    f"on who reads them, and certificates may look not yet valid on the node behind."),
            remediation=Remediation("Point every node's NTP client at the same source, step the clocks, "
                                    "then compare `chronyc tracking` on each node.", SYNC_COMMANDS),
            evidence=evidence, nodes=sorted({ahead, behind}), objects=[f"{ahead}>{behind}:clock"])


#: units whose failure stops (part of) the control plane on the node, with the category and severity
#: of that: the node agent and runtime stop the node; k3s, rke2, k0s and microk8s's kubelite run the
#: whole control plane in one unit
CONTROL_PLANE_UNITS = {
    **{u: (Category.NODE, Severity.ERROR) for u in ("kubelet", "containerd", "crio", "docker")},
    **{u: (Category.APISERVER, Severity.CRITICAL)
       for u in ("kube-apiserver", "k3s", "rke2-server", "k0scontroller", "snap.microk8s.daemon-kubelite")},
    "etcd": (Category.ETCD, Severity.CRITICAL),
    "kube-controller-manager": (Category.CONTROLLER_MANAGER, Severity.ERROR),
    "kube-scheduler": (Category.SCHEDULER, Severity.ERROR)}


@rule("SERVICE_NOT_RUNNING", Category.NODE, Severity.CRITICAL, "Control-plane service not running",
      "No control-plane systemd unit (kubelet, the container runtime, etcd, k3s/rke2/k0s/microk8s) is "
      "failed, inactive or restarting after an exit (`systemctl status`). Findings carry the unit's "
      "category (etcd, the API server of k3s/rke2/k0s/microk8s, the node for the kubelet and runtime).",
      ("host.systemctl_status",), also=(Category.ETCD, Category.APISERVER))
def service_not_running(view: ClusterView) -> Iterator[Finding]:
    for host in view.host:
        for unit, evidence in host.units:
            name = unit.unit.removesuffix(".service")
            if name not in CONTROL_PLANE_UNITS or not unit.failing:
                continue
            category, severity = CONTROL_PLANE_UNITS[name]
            exit_status = f", exit status {unit.exit_status}" if unit.exit_status is not None else ""
            yield REGISTRY["SERVICE_NOT_RUNNING"].finding(severity=severity, category=category,
                title=f"{name} is not running on {host.node}",
                detail=(f"systemd reports {unit.unit} {unit.active} ({unit.sub})"
                        f"{f', result {unit.result}' if unit.result else ''}{exit_status}: it keeps exiting, "
                        "and what it runs is down with it. Its journal says why it exits."),
                remediation=Remediation(
                    f"Read why {name} exits, fix that, then let systemd start it again.",
                    (f"journalctl -u {quote(unit.unit)} -n 100 --no-pager",
                     f"systemctl status {quote(unit.unit)}")),
                evidence=[evidence], nodes=[host.node], objects=[unit.unit])


#: restarts per pod, and how many kube-system pods of one node, that point at the node, not the pods
NODE_RESTARTS = 20
NODE_RESTARTED_PODS = 3


@rule("NODE_PODS_RESTARTED_TOGETHER", Category.NODE, Severity.WARNING,
      "Node's system pods all restarted often",
      f"No node has {NODE_RESTARTED_PODS} or more unrelated kube-system pods with {NODE_RESTARTS}+ restarts "
      "each (the node, its kubelet or its runtime restarting, not the pods failing).", ("k8s.pods",))
def pods_restarted_together(view: ClusterView) -> Iterator[Finding]:
    by_node: dict[str, list[tuple[str, int, Evidence]]] = {}
    for fact in view.k8s.pods:
        pod = fact.pod
        restarts = max((c.restart_count for c in pod.containers), default=0)
        if pod.namespace == "kube-system" and pod.node_name and restarts >= NODE_RESTARTS:
            excerpt = f"{pod.namespace}/{pod.name}: {restarts} restarts"
            by_node.setdefault(pod.node_name, []).append((pod.name, restarts, fact.origin.evidence(excerpt)))
    for node, pods in sorted(by_node.items()):
        if len(pods) < NODE_RESTARTED_PODS:
            continue
        listing = ", ".join(f"{name} ({n})" for name, n, _ in sorted(pods, key=lambda p: -p[1]))
        yield pods_restarted_together.finding(
            f"{len(pods)} kube-system pods on {node} restarted {NODE_RESTARTS}+ times each",
            (f"{listing}. Unrelated pods restarting about as often point at the node: it rebooted or "
                    "was suspended, or its kubelet or container runtime (on k3s/RKE2: the k3s/rke2 "
                    "process) restarted repeatedly."),
            Remediation("Look at the node's boot history and its kubelet/runtime restarts.",
                                    (f"# on {node}", "last -x reboot | head", "uptime",
                                     "journalctl -u kubelet -u containerd -u k3s -u rke2-server "
                                     "--since -7d | grep -iE 'Started|Stopped' | tail -n 40")),
            evidence=[e for _, _, e in pods][:8], nodes=[node], objects=[f"node/{node}:pod restarts"])


#: what each kubeadm failure says: category, severity, title, what to do
KUBEADM_FAILURES: dict[str, tuple[Category, Severity, str, str]] = {
    "api-not-healthy": (Category.APISERVER, Severity.CRITICAL, "the API server never became healthy",
                        "kubeadm started the control plane but the API server did not pass /livez in time: "
                        "its container's log says why (etcd unreachable, a bad flag, certificates)."),
    "kubelet-not-healthy": (Category.NODE, Severity.CRITICAL,
                            "the kubelet is not running or not healthy",
                            "kubeadm could not reach the kubelet's health port 10248: the kubelet's journal "
                            "says why it exits (cgroup driver, swap, its config)."),
    "control-plane-not-up": (Category.APISERVER, Severity.CRITICAL, "the control plane never came up",
                             "The static pods did not start within kubeadm's timeout: the kubelet's journal "
                             "and the runtime's containers say which failed and why."),
    "static-pod-not-restarted": (Category.APISERVER, Severity.ERROR,
                                 "a static pod was not restarted with its new manifest",
                                 "kubeadm wrote the new manifest but the kubelet did not restart the pod "
                                 "(its hash did not change): look at the kubelet's journal and the pod's "
                                 "events."),
    "upgrade-failed": (Category.APISERVER, Severity.ERROR, "the upgrade was rolled back",
                       "kubeadm restored the earlier manifests: the error lines name the component that did "
                       "not come back."),
    "phase-failed": (Category.NODE, Severity.ERROR, "a kubeadm phase failed",
                     "The phase's error line names what failed."),
}


@rule("KUBEADM_FAILED", Category.APISERVER, Severity.CRITICAL, "kubeadm init/join/upgrade failed",
      "No `kubeadm init`, `join` or `upgrade` output shows a check giving up ([kubelet-check], "
      "[api-check], a static pod hash that did not change) or a failed phase. Findings carry the cause's "
      "category.",
      ("logs.kubeadm",), also=tuple(c for c in Category if c is not Category.APISERVER))
def kubeadm_failed(view: ClusterView) -> Iterator[Finding]:
    for host in view.host:
        for failure, evidence in host.kubeadm:
            category, severity, what, advice = KUBEADM_FAILURES[failure.kind]
            phase = f" (phase {failure.phase})" if failure.phase else ""
            yield REGISTRY["KUBEADM_FAILED"].finding(severity=severity, category=category,
                title=f"kubeadm on {host.node}: {what}",
                detail=f"kubeadm said: {failure.text[:300]}{phase}. {advice}",
                remediation=Remediation(advice, (
                    "journalctl -u kubelet -n 100 --no-pager", "crictl ps -a | grep kube | grep -v pause",
                    "crictl logs $(crictl ps -a --name kube-apiserver -q | head -n 1)")),
                evidence=[evidence], nodes=[host.node], objects=[f"kubeadm:{failure.kind}"])
