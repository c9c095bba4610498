"""The real collector against a real etcd 3.4 cluster (tests/lab/): real etcdctl JSON, real logs,
real iptables. Ports 12679-12981 on 127.0.0.1 (make_samples uses 12379-12581); namespaces are
named after this process's PID and removed afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import read_bundle
from tests.lab import faults, netns
from tests.lab.etcd_cluster import EtcdCluster, loopback_addresses, netns_addresses, node_specs
from tests.lab.make_samples import NOT_IN_LAB, collect

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("etcd") is None or shutil.which("etcdctl") is None,
                                 reason="etcd/etcdctl not installed")]
CRI_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z stderr [FP] \{\"level\":")


def items(manifest: dict, item_id: str) -> list[dict]:
    return [i for i in manifest["items"] if i["id"] == item_id]


def output(manifest: dict, files: dict[str, bytes], item_id: str) -> str:
    (item,) = items(manifest, item_id)
    return files[item["path"]].decode()


def test_collector_captures_a_real_three_member_cluster(tmp_path: Path):
    specs = node_specs(loopback_addresses(3, base=12600))
    out = tmp_path / "bundles"
    out.mkdir()
    with EtcdCluster.build(tmp_path / "lab", specs) as cluster:
        leader = cluster.leader()
        leader_status = leader.status() if leader else None
        assert leader_status is not None
        member = cluster.members[0]
        member.write_node_logs()
        bundle = collect(member.root, out, "cp-1", NOT_IN_LAB, node_ip="127.0.0.1")
        pids = [m.proc.pid for m in cluster.members if m.proc]
    assert all(m.proc is None for m in cluster.members) and len(pids) == 3
    manifest, files = read_bundle(bundle)

    members = json.loads(output(manifest, files, "etcd.member_list"))["members"]
    assert sorted(m["name"] for m in members) == ["cp-1", "cp-2", "cp-3"]
    statuses = json.loads(output(manifest, files, "etcd.endpoint_status"))
    assert sorted(s["Endpoint"] for s in statuses) == [m.endpoint for m in cluster.members]
    # Every member names the leader the lab saw, by the decimal ID member list uses.
    assert {s["Status"]["leader"] for s in statuses} == {leader_status["Status"]["header"]["member_id"]}
    assert leader_status["Status"]["header"]["member_id"] in {m["ID"] for m in members}
    assert all(h["health"] for h in json.loads(output(manifest, files, "etcd.endpoint_health")))

    journal_out = output(manifest, files, "journal.etcd").splitlines()
    assert any(f"cp-1 etcd[{pids[0]}]: " in line and '"msg":"serving client traffic securely"' in line
               for line in journal_out)
    (pod_log,) = [i for i in items(manifest, "logs.pod") if "/kube-system_etcd-cp-1_" in i["source"]]
    lines = files[pod_log["path"]].decode().splitlines()
    assert lines and all(CRI_LINE.match(line) for line in lines)
    usage = output(manifest, files, "etcd.data_dir_usage")
    assert usage.split("\t")[1].strip().endswith("/cp-1/var/lib/etcd")


def test_nospace_alarm_fires_but_endpoint_health_stays_healthy(tmp_path: Path):
    spec = faults.tiny_quota(node_specs(loopback_addresses(1, base=12900))[0])
    with EtcdCluster.build(tmp_path, [spec]) as cluster:
        member = cluster.members[0]
        puts = faults.fill_until_nospace(member)
        assert 0 < puts < 50
        assert faults.alarms(member) == ["NOSPACE"]
        # Field note 3 of shared/reference: etcd 3.4's endpoint health ignores NOSPACE.
        assert member.etcdctl("endpoint", "health").returncode == 0
        assert member.logged(b'"msg":"alarm raised","alarm":"NOSPACE"')


@pytest.mark.skipif(not netns.available(), reason="needs root, ip and iptables for network namespaces")
def test_firewall_drop_in_a_namespace_shows_in_iptables_save(tmp_path: Path):
    specs = node_specs(netns_addresses(3))
    out = tmp_path / "bundles"
    out.mkdir()
    with netns.NetLab(3) as lab, EtcdCluster.build(tmp_path / "lab", specs, netlab=lab) as cluster:
        rules = faults.firewall(lab, 3, (2379, 2380), "DROP")
        cp1, cp3 = cluster.members[0], cluster.members[2]
        blocked = cp1.etcdctl("endpoint", "health", endpoints=cp3.endpoint)
        assert blocked.returncode != 0 and "context deadline exceeded" in blocked.stderr
        assert "refused" not in blocked.stderr, "DROP times out; only REJECT refuses"
        cp3.write_node_logs()
        bundle = collect(cp3.root, out, "cp-3", NOT_IN_LAB + ["etcd.endpoint_health", "etcd.endpoint_status"],
                         wrap=lab.wrap(3, []), host_commands=True, node_ip=cp3.spec.ip)
        namespaces = list(lab.created)
    manifest, files = read_bundle(bundle)
    saved = output(manifest, files, "net.iptables_save")
    assert rules == ["-A INPUT -i lo -j ACCEPT", "-A INPUT -p tcp -m multiport --dports 2379,2380 -j DROP"]
    assert all(rule in saved.splitlines() for rule in rules)
    assert "10.250.3.2/30" in output(manifest, files, "net.addresses")
    local = json.loads(output(manifest, files, "etcd.endpoint_status_local"))
    assert local[0]["Endpoint"] == "https://10.250.3.2:2379"
    assert not set(namespaces) & set(netns_list()), "namespaces removed"


def netns_list() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]
