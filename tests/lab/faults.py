"""Real faults injected into a running lab cluster (tests/lab/etcd_cluster.py).

Build-time faults are NodeSpec settings (see `expired_etcd_server_cert`, `foreign_etcd_client_cert`);
run-time faults act on real processes, real iptables rules and real etcd requests.
"""

from __future__ import annotations

import re
import signal
from dataclasses import replace

from .etcd_cluster import EtcdCluster, Member
from .kubeadm_root import NodeSpec
from .netns import NetLab

#: what `put` prints when etcd refuses a write past its quota
NOSPACE_ERROR = "database space exceeded"


def expired_etcd_server_cert(spec: NodeSpec, days_ago: int = 2) -> NodeSpec:
    """etcd's serving certificate (etc/kubernetes/pki/etcd/server.crt) expired `days_ago` days ago."""
    return replace(spec, validity={**spec.validity, "etcd/server": (-365 - days_ago, -days_ago)})


def foreign_etcd_client_cert(spec: NodeSpec) -> NodeSpec:
    """The API server's etcd client certificate signed by a CA etcd does not trust."""
    return replace(spec, foreign_ca={*spec.foreign_ca, "apiserver-etcd-client"})


def tiny_quota(spec: NodeSpec, quota: int = 1024 * 1024) -> NodeSpec:
    """A member started with --quota-backend-bytes far below the 2 GiB default."""
    flags = {**spec.extra_flags.get("etcd", {}), "quota-backend-bytes": str(quota)}
    return replace(spec, extra_flags={**spec.extra_flags, "etcd": flags})


def kill(cluster: EtcdCluster, *names: str) -> None:
    """SIGKILL members (a crash: no graceful shutdown lines in their log)."""
    for name in names:
        cluster.member(name).stop(signal.SIGKILL)


def fill_until_nospace(member: Member, value_size: int = 96 * 1024, max_puts: int = 200) -> int:
    """Put `value_size` values until etcd refuses with NOSPACE; return the number of puts that succeeded."""
    value = "x" * value_size
    for n in range(max_puts):
        out = member.etcdctl("put", f"/registry/lab/fill-{n:04d}", value)
        if out.returncode != 0:
            if NOSPACE_ERROR not in out.stderr:
                raise RuntimeError(f"put failed before NOSPACE: {out.stderr.strip()[-300:]}")
            return n
    raise RuntimeError(f"no NOSPACE after {max_puts} puts of {value_size} bytes")


def alarms(member: Member) -> list[str]:
    """Alarm names the member reports (e.g. ['NOSPACE']).

    The simple output, not -w json: JSON gives the alarm as its enum number (NOSPACE is 1).
    """
    out = member.etcdctl("alarm", "list")
    return re.findall(r"alarm:(\S+)", out.stdout)


def firewall(netlab: NetLab, index: int, ports: tuple[int, ...], target: str = "DROP") -> list[str]:
    """A host firewall on node `index`: loopback accepted, then DROP or REJECT (tcp-reset) the ports.

    Return the rules as added (the collector's iptables-save must show them).
    """
    jump = ["-j", "DROP"] if target == "DROP" else ["-j", "REJECT", "--reject-with", "tcp-reset"]
    rules = [["-A", "INPUT", "-i", "lo", "-j", "ACCEPT"],
             ["-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", ",".join(map(str, ports)), *jump]]
    for rule in rules:
        netlab.iptables(index, *rule)
    return [" ".join(r) for r in rules]
