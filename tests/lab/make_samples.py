"""Regenerate the sample bundles in bundles/samples/ from real etcd failures and the real collector.

    python -m tests.lab.make_samples                 # every scenario (needs root for the netns ones)
    python -m tests.lab.make_samples NAME ...        # some
    python -m tests.lab.make_samples --list

Each scenario builds kubeadm-like node roots (tests/lab/kubeadm_root.py), starts a real etcd 3.4
cluster from their manifests (tests/lab/etcd_cluster.py), injects a real fault (tests/lab/faults.py),
lays each member's real output down as its pod log and journal, runs collector/kubetriage_collect.py
against each root (inside the node's network namespace with --host-commands when it has one), and
replaces the sample's bundles. Evidence only a real API server, kubelet or runtime could print is
added from tests/fixtures/real/ by tests/lab/curate.py. READMEs are written by hand; expected.json
is refreshed by `pytest tests/test_samples.py --regen-goldens` (review the diff).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import faults
from .curate import Evidence, add_evidence, pod_log_path
from .etcd_cluster import EtcdCluster, Member, loopback_addresses, netns_addresses, node_specs
from .kubeadm_root import UTC, ClusterPKI, NodeSpec, build_node_root
from .netns import NetLab, available

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "bundles" / "samples"
COLLECTOR = REPO / "collector" / "kubetriage_collect.py"
#: items that talk to a live etcd or API server; scenarios without one exclude them
LIVE_CLUSTER_ITEMS = ["etcd.version", "etcd.endpoint_*", "etcd.member_list", "etcd.alarm_list", "k8s.healthz"]
#: programs the lab has no binary for (no API server, kubelet or container runtime): not collected
NOT_IN_LAB = ["k8s.healthz", "cri.ps", "cri.pods", "cri.ps_json", "host.runtime_version",
              "host.kubelet_version",
              # the lab host's mount table is not the node's (du of the data dir is collected)
              "host.df",
              # only etcd runs in the lab: the sockets of an API server, kubelet, controller-manager
              # and scheduler the lab cannot run would be missing from ss on every sample
              "net.listening"]
#: static samples (no etcd started): neither a live cluster nor the programs the lab lacks
STATIC_EXCLUDE = list(dict.fromkeys(LIVE_CLUSTER_ITEMS + NOT_IN_LAB))


def collect(root: Path, out_dir: Path, node: str, exclude: list[str], *, wrap: list[str] | None = None,
            host_commands: bool = False, node_ip: str | None = None) -> Path:
    """Run the stand-alone collector as a customer would, with python3 only (-I: no site packages)."""
    argv = [*(wrap or []), sys.executable, "-I", str(COLLECTOR), "--root", str(root), "--output",
            str(out_dir), "--node-name", node, "--quiet", "--deadline", "120", "--cluster-commands"]
    if host_commands:
        argv.append("--host-commands")
    if node_ip:
        argv += ["--node-ip", node_ip]
    if exclude:
        argv += ["--exclude", *exclude]
    result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300)
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class Lab:
    """One scenario's run: a scratch folder, the sample folder, the bundles and phase timings."""

    workdir: Path
    dest: Path
    bundles: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    netlab: NetLab | None = None

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - started

    @contextlib.contextmanager
    def etcd(self, specs: list[NodeSpec], *, netns: bool = False) -> Iterator[EtcdCluster]:
        """A running cluster of `specs` (in namespaces when netns); everything stopped and removed after."""
        with contextlib.ExitStack() as stack:
            with self.phase("start"):
                if netns:
                    self.netlab = stack.enter_context(NetLab(len(specs)))
                cluster = stack.enter_context(EtcdCluster.build(self.workdir, specs, netlab=self.netlab))
            yield cluster

    def collect(self, member: Member, *, exclude: list[str] | None = None) -> Path:
        """Write the member's logs into its root, then collect that node (in its namespace, if any)."""
        with self.phase("collect"):
            member.write_node_logs()
            netns = self.netlab is not None
            bundle = collect(member.root, self.dest, member.name, NOT_IN_LAB + (exclude or []),
                             wrap=self.netlab.wrap(member.index, []) if self.netlab else None,
                             host_commands=netns, node_ip=member.spec.ip)
        self.bundles.append(bundle)
        return bundle

    def collect_all(self, cluster: EtcdCluster) -> None:
        for m in cluster.members:
            self.collect(m)

    def curate(self, bundle: Path, *evidence: Evidence) -> None:
        with self.phase("curate"):
            for e in evidence:
                add_evidence(bundle, e)


@dataclass
class Scenario:
    """One sample: how to produce its bundles."""

    name: str
    summary: str
    run: Callable[[Lab], None]
    netns: bool = False


def static_nodes(nodes: list[NodeSpec], exclude: list[str],
                 curated: Callable[[Path, NodeSpec], list[Evidence]] | None = None) -> Callable[[Lab], None]:
    """No etcd running: build the roots and collect them (configuration and certificate faults);
    `curated` names the real evidence to add to each node's bundle."""

    def run(lab: Lab) -> None:
        pki = ClusterPKI(dt.datetime.now(UTC))
        for spec in nodes:
            root = build_node_root(lab.workdir / spec.name, spec, pki)
            with lab.phase("collect"):
                bundle = collect(root, lab.dest, spec.name, exclude)
            lab.bundles.append(bundle)
            if curated:
                lab.curate(bundle, *curated(root, spec))

    return run


def ha_specs(**fields: object) -> list[NodeSpec]:
    return node_specs(netns_addresses(3), **fields)


def pod_log(member: Member, component: str, fixture: str) -> Evidence:
    return pod_log_at(member.root, member.name, component, fixture)


def pod_log_at(root: Path, node: str, component: str, fixture: str, restart: int = 0) -> Evidence:
    """`fixture` as the kubelet's log of `component`'s static pod on `node` (run `restart`)."""
    path = pod_log_path(root / f"etc/kubernetes/manifests/{component}.yaml", f"{component}-{node}",
                        component, restart)
    return Evidence("logs.pod", fixture, node_path=path)


# -- scenarios ------------------------------------------------------------------------------------
def healthy_1(lab: Lab) -> None:
    with lab.etcd(node_specs(loopback_addresses(1))) as cluster:
        lab.collect_all(cluster)


def healthy_3(lab: Lab) -> None:
    with lab.etcd(ha_specs(), netns=True) as cluster:
        lab.collect_all(cluster)


def one_member_down(lab: Lab) -> None:
    with lab.etcd(ha_specs(), netns=True) as cluster:
        move_leader(cluster, "cp-3")
        faults.kill(cluster, "cp-3")
        cluster.wait("a new leader", lambda: cluster.leader() is not None)
        lab.collect_all(cluster)


def quorum_lost(lab: Lab) -> None:
    with lab.etcd(ha_specs(), netns=True) as cluster:
        move_leader(cluster, "cp-1")
        faults.kill(cluster, "cp-2", "cp-3")
        # Let cp-1 notice: it steps down and campaigns in vain (the term climbs).
        cluster.wait("cp-1 to lose its leader", lambda: cluster.leader() is None)
        time.sleep(5)
        lab.collect_all(cluster)
    lab.curate(lab.bundles[0], pod_log(cluster.members[0], "kube-controller-manager",
                                       "docker-json-kcm-leaderelection-etcd-noleader-k8s-74223.log"))


def nospace(lab: Lab) -> None:
    specs = ha_specs()
    specs[0] = faults.tiny_quota(specs[0])
    with lab.etcd(specs, netns=True) as cluster:
        with lab.phase("fault"):
            puts = faults.fill_until_nospace(cluster.members[0])
            lab.notes.append(f"{puts} puts of 96 KiB before NOSPACE")
            cluster.wait("the NOSPACE alarm", lambda: "NOSPACE" in faults.alarms(cluster.members[1]))
        lab.collect_all(cluster)


def cascade_expired_etcd_cert(lab: Lab) -> None:
    spec = faults.expired_etcd_server_cert(node_specs(netns_addresses(1))[0])
    with lab.etcd([spec], netns=True) as cluster:
        member = cluster.members[0]
        # etcd keeps serving; its gRPC gateway dials itself with the expired certificate.
        time.sleep(3)
        bundle = lab.collect(member)
    lab.curate(bundle,
               pod_log(member, "kube-apiserver", "cri-apiserver-etcd-cert-expired-k8s-122639.log"),
               pod_log(member, "kube-scheduler", "klog-scheduler-lost-master-rancher-22384.log"),
               Evidence("cri.ps", "crictl-ps-a-apiserver-exited-containerd-9545.txt"))


def apiserver_etcd_refused(lab: Lab) -> None:
    with lab.etcd(node_specs(netns_addresses(1)), netns=True) as cluster:
        member = cluster.members[0]
        faults.kill(cluster, "cp-1")
        bundle = lab.collect(member)
    lab.curate(bundle,
               pod_log(member, "kube-apiserver", "cri-apiserver-etcd-refused-k8s-107491.log"),
               Evidence("cri.ps", "crictl-ps-a-etcd-exited-crio-2016.txt"))


def foreign_client_cert(lab: Lab) -> None:
    specs = ha_specs()
    specs[1] = faults.foreign_etcd_client_cert(specs[1])
    with lab.etcd(specs, netns=True) as cluster:
        # What the API server on cp-2 would do all along: connect with its client certificate, so
        # etcd logs its rejection before the logs are laid down.
        assert cluster.members[1].etcdctl("endpoint", "status").returncode != 0
        lab.collect_all(cluster)


def firewall(target: str) -> Callable[[Lab], None]:
    def run(lab: Lab) -> None:
        with lab.etcd(ha_specs(), netns=True) as cluster:
            assert lab.netlab
            with lab.phase("fault"):
                faults.firewall(lab.netlab, 3, (2379, 2380), target)
                cluster.wait("cp-1 to lose cp-3",
                             lambda: cluster.members[0].etcdctl("endpoint", "health",
                                                                endpoints=cluster.members[2].endpoint
                                                                ).returncode != 0)
                time.sleep(3)
            lab.collect_all(cluster)

    return run


def partition_rejoin(lab: Lab) -> None:
    with lab.etcd(ha_specs(), netns=True) as cluster:
        assert lab.netlab
        move_leader(cluster, "cp-1")
        with lab.phase("fault"):
            lab.netlab.partition(3)
            time.sleep(10)  # cp-3 campaigns alone: its term climbs
            lab.netlab.partition(3, cut=False)
            cluster.wait("cp-3 to follow a leader again", lambda: following(cluster.members[2]))
            time.sleep(2)
        lab.collect_all(cluster)


def kcm_removed_flag_evidence(root: Path, spec: NodeSpec) -> list[Evidence]:
    # run 6, as the runtime's listing counts it: the kubelet names the log after the restart
    return [pod_log_at(root, spec.name, "kube-controller-manager", "cri-kcm-unknown-flag-nectar.log", 6),
            Evidence("cri.ps", "crictl-ps-a-kcm-exited-grep-nectar.txt")]


def scheduler_config_evidence(root: Path, spec: NodeSpec) -> list[Evidence]:
    return [Evidence("journal.control_plane", "journald-scheduler-config-nokind-opsnull-453.log")]


def following(member: Member) -> bool:
    status = member.status()
    return bool(status and status["Status"].get("leader"))


def move_leader(cluster: EtcdCluster, name: str) -> None:
    """Make `name` the leader (deterministic samples: the same node plays the same part every run)."""
    target = cluster.member(name)
    status = target.status()
    leader = cluster.leader()
    assert status and leader
    if leader is not target:
        out = leader.etcdctl("move-leader", format(status["Status"]["header"]["member_id"], "x"))
        if out.returncode != 0:
            raise RuntimeError(f"move-leader failed: {out.stderr.strip()[-300:]}")
        cluster.wait(f"{name} to lead", lambda: cluster.leader() is target)


SCENARIOS = {s.name: s for s in [
    Scenario(
        "certificates-expired-apiserver",
        "1 node: the API server's serving certificate expired 3 days before collection; the "
        "front-proxy client certificate expires in 20 days.",
        static_nodes([NodeSpec(name="cp-1", ip="10.0.0.11",
                               validity={"apiserver": (-368, -3), "front-proxy-client": (-345, 20)})],
                     LIVE_CLUSTER_ITEMS)),
    Scenario("healthy-1-node", "1 node, etcd healthy (loopback ports 12379/12380/12381).", healthy_1),
    Scenario(
        "controller-manager-removed-flag",
        "1 node (v1.29.4): the controller-manager manifest still passes --pod-eviction-timeout (removed in "
        "1.27); its container exits at flag parsing (curated log and crictl row).",
        static_nodes([NodeSpec(name="cp-1", ip="10.0.0.11",
                               extra_flags={"kube-controller-manager": {"pod-eviction-timeout": "5m0s"}})],
                     STATIC_EXCLUDE, kcm_removed_flag_evidence)),
    Scenario(
        "scheduler-config-invalid",
        "1 node (v1.29.4): kube-scheduler runs with --config=/etc/kubernetes/scheduler-config.yaml whose "
        "apiVersion this release does not register; it exits at start (curated log).",
        static_nodes([NodeSpec(name="cp-1", ip="10.0.0.11", extra_flags={
                         "kube-scheduler": {"config": "/etc/kubernetes/scheduler-config.yaml"}})],
                     STATIC_EXCLUDE, scheduler_config_evidence)),
    Scenario("healthy-3-node-ha", "3 nodes in their own network namespaces, etcd healthy.", healthy_3,
             netns=True),
    Scenario("etcd-one-member-down", "3 nodes: the etcd leader cp-3 was killed; cp-1/cp-2 quorate.",
             one_member_down, netns=True),
    Scenario("ha-etcd-quorum-lost", "3 nodes: cp-2 and cp-3 etcd killed; cp-1 has no leader; "
             "controller-manager cannot read its lock (curated).", quorum_lost, netns=True),
    Scenario("etcd-nospace", "3 nodes: cp-1 runs with --quota-backend-bytes=1048576, filled until "
             "the NOSPACE alarm.", nospace, netns=True),
    Scenario("cascade-etcd-server-cert-expired", "1 node: etcd's server certificate expired; the API "
             "server cannot reach etcd and exits, the scheduler loses its lease (curated).",
             cascade_expired_etcd_cert, netns=True),
    Scenario("apiserver-etcd-refused", "1 node: etcd crashed (killed); the API server's etcd "
             "connections are refused (curated).", apiserver_etcd_refused, netns=True),
    Scenario("certificates-etcd-client-foreign-ca", "3 nodes: cp-2's apiserver-etcd-client certificate "
             "is signed by a foreign CA; etcd rejects it.", foreign_client_cert, netns=True),
    Scenario("connectivity-firewall-drop-etcd", "3 nodes: iptables on cp-3 DROPs 2379,2380 (loopback "
             "accepted).", firewall("DROP"), netns=True),
    Scenario("connectivity-firewall-reject-etcd", "3 nodes: iptables on cp-3 REJECTs 2379,2380 with "
             "tcp-reset.", firewall("REJECT"), netns=True),
    Scenario("ha-partition-rejoin", "3 nodes: cp-3 cut off for 10 s by the router, then rejoined "
             "(higher raft term).", partition_rejoin, netns=True),
]}


def build(scenario: Scenario, dest: Path) -> Lab:
    """Produce the scenario's bundles into dest (old bundles removed first)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("kubetriage-*.tar.gz"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix=f"kubetriage-lab-{scenario.name}-") as tmp:
        lab = Lab(Path(tmp), dest)
        scenario.run(lab)
    return lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("names", nargs="*", help="scenarios to rebuild (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    args = parser.parse_args(argv)
    if args.list:
        for s in SCENARIOS.values():
            print(f"{s.name:40} {s.summary}")
        return 0
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    names = args.names or list(SCENARIOS)
    if not available() and any(SCENARIOS[n].netns for n in names):
        parser.error("network-namespace scenarios need root with ip and iptables")
    for name in names:
        started = time.monotonic()
        lab = build(SCENARIOS[name], SAMPLES / name)
        size = sum(b.stat().st_size for b in lab.bundles)
        phases = " ".join(f"{k}={v:.1f}" for k, v in lab.timings.items())
        print(f"{name}: {len(lab.bundles)} bundle(s), {size // 1024} KiB, "
              f"{time.monotonic() - started:.1f}s ({phases}) {'; '.join(lab.notes)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
