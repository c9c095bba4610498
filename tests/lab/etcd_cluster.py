"""A real etcd 3.4 cluster (/usr/bin/etcd) run from kubeadm-like node roots.

Each member runs with exactly the flags of its node's generated static pod manifest
(/etc/kubernetes/manifests/etcd.yaml), file paths mapped under the node root (so the data dir is
<root>/var/lib/etcd), plus `--logger=zap` (etcd 3.4 defaults to capnslog text; the etcd 3.5
kubeadm runs logs zap JSON). Members listen on 127.0.0.1 with per-member ports (`loopback_addresses`)
or, with a `NetLab`, each in its own network namespace on the standard ports (`netns_addresses`).

    specs = node_specs(loopback_addresses(3))
    with EtcdCluster.build(tmp, specs) as cluster:
        cluster.members[2].stop()            # one member down
        cluster.members[0].etcdctl("endpoint", "status", "-w", "json")

Only the PIDs started here are ever signalled.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .journal import LogCapture, LogLine, write_journal, write_pod_logs
from .kubeadm_root import UTC, ClusterPKI, NodeSpec, build_node_root
from .netns import NetLab, node_ip

ETCD = "/usr/bin/etcd"
ETCDCTL = "/usr/bin/etcdctl"
LAB_FLAGS = ["--logger=zap", "--log-outputs=stderr"]
#: manifest flags holding node paths, mapped under the node root
PATH_FLAGS = {"cert-file", "key-file", "trusted-ca-file", "peer-cert-file", "peer-key-file",
              "peer-trusted-ca-file", "data-dir"}
#: zap message once a member has joined through raft (needs quorum)
READY_LINE = b"published local member to cluster through raft"
FLAG_LINE = re.compile(r"^\s*-\s+--([a-z0-9-]+)=(.*?)\s*$")


@dataclass(frozen=True)
class Address:
    """Where one member listens."""

    ip: str
    client: int
    peer: int
    metrics: int


def loopback_addresses(count: int, base: int = 12300) -> list[Address]:
    """127.0.0.1 with ports base+100*i+79/80/81 (12379, 12479 ... by default)."""
    return [Address("127.0.0.1", base + 100 * i + 79, base + 100 * i + 80, base + 100 * i + 81)
            for i in range(count)]


def netns_addresses(count: int) -> list[Address]:
    """One namespace per node: its own IP, kubeadm's standard ports (no one else's ports exist there)."""
    return [Address(node_ip(i + 1), 2379, 2380, 2381) for i in range(count)]


def node_specs(addresses: list[Address], **fields: object) -> list[NodeSpec]:
    """NodeSpecs cp-1..cp-N forming one etcd cluster; `fields` go to every spec."""
    names = [f"cp-{i + 1}" for i in range(len(addresses))]
    cluster = ",".join(f"{n}=https://{a.ip}:{a.peer}" for n, a in zip(names, addresses, strict=True))
    return [NodeSpec(name=n, ip=a.ip, etcd_client_port=a.client, etcd_peer_port=a.peer,
                     etcd_metrics_port=a.metrics, initial_cluster=cluster, **fields)  # type: ignore[arg-type]
            for n, a in zip(names, addresses, strict=True)]


def manifest_flags(root: Path, component: str = "etcd") -> dict[str, str]:
    """{flag: value} of a static pod manifest's command."""
    text = (root / "etc/kubernetes/manifests" / f"{component}.yaml").read_text()
    return {m.group(1): m.group(2) for m in map(FLAG_LINE.match, text.splitlines()) if m}


class Member:
    """One etcd member of the lab: its node root, process and captured log."""

    def __init__(self, spec: NodeSpec, root: Path, log_dir: Path, netlab: NetLab | None, index: int,
                 extra_args: list[str]) -> None:
        self.spec, self.root, self.log_dir = spec, root, log_dir
        self.netlab, self.index, self.extra_args = netlab, index, extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs: list[LogCapture] = []

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def endpoint(self) -> str:
        return f"https://{self.spec.ip}:{self.spec.etcd_client_port}"

    def wrap(self, argv: list[str]) -> list[str]:
        return self.netlab.wrap(self.index, argv) if self.netlab else argv

    def argv(self) -> list[str]:
        flags = manifest_flags(self.root)
        args = [f"--{k}={self.root / v.lstrip('/') if k in PATH_FLAGS else v}" for k, v in flags.items()]
        return [ETCD, *args, *LAB_FLAGS, *self.extra_args]

    def start(self) -> None:
        assert self.proc is None, f"{self.name} already running"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        raw = (self.log_dir / f"{self.name}.{len(self.runs)}.log").open("wb")
        self.proc = subprocess.Popen(self.wrap(self.argv()), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        capture = LogCapture(self.proc.pid, raw=raw)
        assert self.proc.stderr is not None
        capture.follow(self.proc.stderr)
        self.runs.append(capture)

    def stop(self, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
        """Signal exactly this member's PID (SIGKILL: a crash) and reap it."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.runs[-1].join()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def etcdctl(self, *args: str, endpoints: str | None = None, timeout: float = 15,
                cert: str = "apiserver-etcd-client") -> subprocess.CompletedProcess[str]:
        """etcdctl against this member (or `endpoints`) with the node's certificates, short timeouts."""
        pki = self.root / "etc/kubernetes/pki"
        argv = [ETCDCTL, f"--endpoints={endpoints or self.endpoint}", f"--cacert={pki}/etcd/ca.crt",
                f"--cert={pki}/{cert}.crt", f"--key={pki}/{cert}.key", "--dial-timeout=2s",
                "--command-timeout=3s", *args]
        return subprocess.run(self.wrap(argv), capture_output=True, text=True, timeout=timeout,
                              env={"ETCDCTL_API": "3", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})

    def status(self) -> dict | None:
        """This member's `endpoint status` JSON record, or None when it does not answer."""
        out = self.etcdctl("endpoint", "status", "-w", "json")
        try:
            return json.loads(out.stdout)[0]  # type: ignore[no-any-return]
        except (ValueError, IndexError):
            return None

    def logged(self, text: bytes) -> bool:
        """True when the current run's output holds `text`."""
        return bool(self.runs) and any(text in line.text for line in self.runs[-1].snapshot())

    def lines(self) -> list[list[LogLine]]:
        return [run.snapshot() for run in self.runs]

    def write_node_logs(self) -> None:
        """Lay this member's real output down as the kubelet's pod log and as journald's etcd unit."""
        runs = self.lines()
        write_pod_logs(self.root, f"etcd-{self.name}", "etcd", runs)
        write_journal(self.root, self.name, "etcd", ETCD, runs)


class EtcdCluster:
    """Context manager over members built from node roots; stops what it started on exit."""

    def __init__(self, members: list[Member]) -> None:
        self.members = members

    @classmethod
    def build(cls, workdir: Path, specs: list[NodeSpec], *, netlab: NetLab | None = None,
              pki: ClusterPKI | None = None, extra_args: dict[str, list[str]] | None = None,
              now: dt.datetime | None = None) -> EtcdCluster:
        """Write one kubeadm-like root per spec under workdir (one shared ClusterPKI) and wrap them."""
        pki = pki or ClusterPKI(now or dt.datetime.now(UTC))
        members = []
        for index, spec in enumerate(specs, start=1):
            root = build_node_root(workdir / spec.name, spec, pki)
            members.append(Member(spec, root, workdir / "etcd-logs", netlab, index,
                                  (extra_args or {}).get(spec.name, [])))
        return cls(members)

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def __enter__(self) -> EtcdCluster:
        try:
            for m in self.members:
                m.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        for m in self.members:
            m.stop(signal.SIGTERM)

    def wait_ready(self, timeout: float = 30) -> float:
        """Wait until every running member logged that it joined the cluster; return seconds taken.

        A log line, not `endpoint health`: scenarios with broken client TLS must still start.
        """
        started = time.monotonic()

        def joined(m: Member) -> bool:
            if not m.running:
                raise RuntimeError(f"etcd {m.name} exited; its log: {m.log_dir}")
            return m.logged(READY_LINE)

        for m in [m for m in self.members if m.running]:
            self.wait(f"{m.name} to join", lambda m=m: joined(m), timeout)
        return time.monotonic() - started

    def leader(self) -> Member | None:
        """The member that says it is the leader (by `endpoint status`), if any."""
        for m in self.members:
            status = m.status() if m.running else None
            # Without a leader etcd 3.4 omits the field altogether.
            if status and status["Status"].get("leader") == status["Status"]["header"]["member_id"]:
                return m
        return None

    @staticmethod
    def wait(what: str, check: Callable[[], bool], timeout: float = 20) -> float:
        """Poll `check()` until true (bounded); return seconds taken."""
        started = time.monotonic()
        while not check():
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.2)
        return time.monotonic() - started

