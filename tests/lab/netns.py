"""Network namespaces for the lab: one per control-plane node, joined by a router namespace.

Each node i (1-based) gets namespace `<prefix>-<i>` holding a veth end 10.250.i.2/30; the router
namespace `<prefix>-r` holds the other end 10.250.i.1/30 and forwards between nodes. Every node
thus has its own IP and its own firewall (real `iptables` inside its namespace), and a partition
is a real DROP in the router's FORWARD chain. Only namespaces this object created are removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

SUBNET = "10.250"


def available() -> bool:
    """True when this process may create network namespaces (root with `ip` and `iptables`)."""
    return os.geteuid() == 0 and all(shutil.which(p) for p in ("ip", "iptables", "iptables-save"))


def node_ip(index: int) -> str:
    """The address of node `index` (1-based) inside its namespace."""
    return f"{SUBNET}.{index}.2"


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=10).stdout


class NetLab:
    """Context manager: the router and `count` node namespaces."""

    def __init__(self, count: int, prefix: str | None = None) -> None:
        self.count = count
        # The PID keeps concurrent labs (make_samples while pytest runs) apart.
        self.prefix = prefix or f"kt{os.getpid()}"
        self.router = f"{self.prefix}-r"
        self.created: list[str] = []

    def ns(self, index: int) -> str:
        return f"{self.prefix}-{index}"

    def __enter__(self) -> NetLab:
        try:
            self._add(self.router)
            _run("ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            for i in range(1, self.count + 1):
                ns = self.ns(i)
                self._add(ns)
                _run("ip", "link", "add", f"v{i}r", "netns", self.router, "type", "veth",
                     "peer", "name", f"v{i}n", "netns", ns)
                _run("ip", "-n", self.router, "addr", "add", f"{SUBNET}.{i}.1/30", "dev", f"v{i}r")
                _run("ip", "-n", ns, "addr", "add", f"{node_ip(i)}/30", "dev", f"v{i}n")
                _run("ip", "-n", self.router, "link", "set", f"v{i}r", "up")
                _run("ip", "-n", ns, "link", "set", f"v{i}n", "up")
                _run("ip", "-n", ns, "route", "add", "default", "via", f"{SUBNET}.{i}.1")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _add(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self.created.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")

    def close(self) -> None:
        # Deleting a namespace removes its veth ends and iptables rules with it.
        while self.created:
            subprocess.run(["ip", "netns", "del", self.created.pop()], capture_output=True, timeout=10)

    def wrap(self, index: int, argv: Sequence[str]) -> list[str]:
        """argv run inside node `index`'s namespace (`ip netns exec` execs: the PID stays argv's)."""
        return ["ip", "netns", "exec", self.ns(index), *argv]

    def iptables(self, index: int, *rule: str) -> None:
        """Run `iptables <rule>` inside node `index`'s namespace."""
        _run(*self.wrap(index, ["iptables", "-w", "2", *rule]))

    def partition(self, index: int, cut: bool = True) -> None:
        """Silently drop (cut=True) or restore (cut=False) all traffic between node `index` and the rest."""
        action = "-I" if cut else "-D"
        for direction in ("-s", "-d"):
            _run("ip", "netns", "exec", self.router, "iptables", "-w", "2", action, "FORWARD",
                 direction, node_ip(index), "-j", "DROP")
