"""Host parsers and node rules (disk, clock) on real df / timedatectl / chrony / lease outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.findings import Finding
from analyzer.parsers.host import parse_chrony, parse_df, parse_timedatectl
from analyzer.report import analyze
from tests.bundle_builder import BundleBuilder

NET = Path(__file__).parent / "fixtures" / "network"
REAL = Path(__file__).parent / "fixtures" / "real"
IDS = ("DISK_FULL", "DISK_NEARLY_FULL", "CLOCK_NOT_SYNCHRONIZED", "CLOCK_SKEW_BETWEEN_NODES")
ARGV = {"host.df": ["df", "-P", "-k"], "host.timedatectl": ["timedatectl", "status"],
        "host.chrony": ["chronyc", "tracking"],
        "k8s.node_leases": ["kubectl", "get", "leases", "-n", "kube-node-lease", "-o", "yaml"]}


def node(name: str, collected_at: str = "2026-11-27T02:00:00Z", **captures: Path) -> BundleBuilder:
    builder = BundleBuilder(name, collected_at=collected_at)
    for key, path in captures.items():
        item_id = key.replace("_", ".", 1)
        builder.command(item_id, ARGV[item_id], path.read_text())
    return builder


def findings(tmp_path: Path, *nodes: BundleBuilder) -> list[Finding]:
    return [f for f in analyze([n.write(tmp_path) for n in nodes]).findings if f.id in IDS]


def summary(found: list[Finding]) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((f.id, f.severity.value, tuple(f.objects)) for f in found)


# -- parsers --------------------------------------------------------------------------------------------
def test_df_forms_agree_on_the_full_etcd_dir():
    exact = parse_df((NET / "df-P-k-etcd-full.txt").read_text()).disks
    human = parse_df((NET / "df-h-etcd-full.txt").read_text()).disks
    assert [(d.mount, d.percent, d.available_kb) for d in exact] == [("/var/lib/etcd", 100, 0),
                                                                     ("/mnt", 88, 496)]
    assert [(d.mount, d.percent, d.size_kb) for d in human] == [("/var/lib/etcd", 100, 1024),
                                                                ("/mnt", 88, 4096)]


@pytest.mark.parametrize("name, synced, service", [
    ("timedatectl-synced-systemd-18854.txt", True, "active"),
    ("timedatectl-v235-timesyncd-dietpi-1661.txt", True, "active")])
def test_timedatectl_generations(name, synced, service):
    t = parse_timedatectl((NET / name).read_text())
    assert (t.synchronized, t.ntp_service) == (synced, service)


def test_chrony_offsets_signed():
    normal = parse_chrony((REAL / "timesync-chronyc-tracking-normal-tidb-insight-57.txt").read_text())
    assert (normal.offset_s, normal.synchronized, normal.stratum) == (-0.000671486, True, 2)


def test_broken_host_outputs_do_not_raise():
    assert parse_df("Filesystem 1K-blocks\nbroken row\n/dev/x - - - - /\n").problems
    assert parse_timedatectl("garbage").synchronized is None
    assert parse_chrony("System time : lots seconds").offset_s is None
    assert parse_df((NET / "df-P-k-etcd-full.txt").read_text()[:70]).disks == []


# -- rules ----------------------------------------------------------------------------------------------
def test_full_etcd_dir_is_critical_and_88_percent_is_a_warning(tmp_path):
    found = findings(tmp_path, node("cp-1", host_df=NET / "df-P-k-etcd-full.txt"))
    assert summary(found) == [("DISK_FULL", "critical", ("cp-1:/var/lib/etcd",)),
                              ("DISK_NEARLY_FULL", "warning", ("cp-1:/mnt",))]
    full = next(f for f in found if f.id == "DISK_FULL")
    assert "etcd data dir" in full.detail and full.evidence[0].line == 2
    assert full.evidence[0].excerpt.startswith("kt-etcd")


def test_minikube_full_root_from_df_h(tmp_path):
    found = findings(tmp_path, node("minikube", host_df=REAL / "df-h-full-root-minikube-9024.txt"))
    assert summary(found) == [("DISK_FULL", "critical", ("minikube:/",))]


def test_clock_findings_from_real_time_outputs(tmp_path):
    nodes = [node("cp-1", host_chrony=REAL / "timesync-chronyc-tracking-normal-tidb-insight-57.txt",
                  host_timedatectl=NET / "timedatectl-synced-systemd-18854.txt"),
             node("cp-2", host_chrony=REAL / "timesync-chronyc-tracking-skew-telegraf-2988.txt"),
             node("cp-3", host_timedatectl=REAL / "timesync-timedatectl-not-synced-cb1-188.txt")]
    found = findings(tmp_path, *nodes)
    assert summary(found) == [("CLOCK_NOT_SYNCHRONIZED", "error", ("cp-2:clock",)),
                              ("CLOCK_NOT_SYNCHRONIZED", "warning", ("cp-3:clock",)),
                              ("CLOCK_SKEW_BETWEEN_NODES", "error", ("cp-1>cp-2:clock",))]
    skew = next(f for f in found if f.id == "CLOCK_SKEW_BETWEEN_NODES")
    assert "7495.4 s ahead of cp-2" in skew.title
    assert [e.line for e in skew.evidence] == [4, 4]


def test_healthy_clocks_give_nothing(tmp_path):
    nodes = [node("cp-1", host_chrony=REAL / "timesync-chronyc-tracking-normal-tidb-insight-57.txt"),
             node("cp-2", host_timedatectl=NET / "timedatectl-v235-timesyncd-dietpi-1661.txt")]
    assert findings(tmp_path, *nodes) == []


NODE = "ip-10-29-79-205.ap-northeast-2.compute.internal"  # the lease holder (renewTime 04:19:33.28Z)


def test_lease_renewed_after_the_read_proves_the_holder_ahead(tmp_path):
    """The observer's kubectl read the lease at 04:19:20 by its clock; the holder's clock had already
    written 04:19:33: the holder runs at least ~13 s ahead. Older renewals prove nothing."""
    lease = NET / "kubectl-node-lease-yaml-skarltjr-study.yaml"
    observer = node("cp-1", "2024-04-05T04:19:20Z", k8s_node_leases=lease)
    holder = node(NODE, "2024-04-05T04:19:40Z", k8s_node_leases=lease)
    found = findings(tmp_path, observer, holder)
    assert summary(found) == [("CLOCK_SKEW_BETWEEN_NODES", "error", (f"{NODE}>cp-1:clock",))]
    assert "at least 13.3 s ahead of cp-1" in found[0].title and found[0].evidence[0].line == 1
    later = node("cp-1", "2024-04-05T04:19:40Z", k8s_node_leases=lease)
    assert findings(tmp_path / "later", later, holder) == []
