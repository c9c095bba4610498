"""Listening TCP sockets from `ss -ltnp` and addresses from `ip -o addr`.

A real `ss -ltnp` (reference netns-iptables/fw-drop, etcd 3.4.23):

>>> socks = parse_ss('''State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
... LISTEN 0      4096       127.0.0.1:2381      0.0.0.0:*    users:(("etcd",pid=22714,fd=12))
... LISTEN 0      4096       127.0.0.1:2379      0.0.0.0:*    users:(("etcd",pid=22714,fd=8)) ''')
>>> [(s.address, s.port, s.process, s.pid, s.line) for s in socks.sockets]
[('127.0.0.1', 2381, 'etcd', 22714, 2), ('127.0.0.1', 2379, 'etcd', 22714, 3)]
>>> parse_ss('LISTEN 0 128 *:6443 *:*').sockets[0].wildcard
True

`ip -o addr` from a network namespace made by tests/fixtures/network/make_captures.sh:

>>> addrs = parse_ip_addr('''1: lo    inet 127.0.0.1/8 scope host lo\\\\       valid_lft forever
... 3: eth0    inet 10.0.0.11/24 scope global eth0\\\\       valid_lft forever preferred_lft forever''')
>>> [(a.interface, str(a.address), a.prefix) for a in addrs.addresses]
[('lo', '127.0.0.1', 8), ('eth0', '10.0.0.11', 24)]
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SS_ROW = re.compile(r"^(?:LISTEN|UNCONN)?\s*\d+\s+\d+\s+(?P<local>\S+)\s+(?P<peer>\S+)(?:\s+(?P<proc>.*))?$")
_PROCESS = re.compile(r'\("(?P<name>[^"]*)",pid=(?P<pid>\d+)')
_IP_ROW = re.compile(r"^\d+:\s+(?P<iface>\S+)\s+(?P<family>inet6?)\s+"
                     r"(?P<addr>[0-9a-fA-F.:]+)/(?P<prefix>\d+)")


@dataclass(frozen=True)
class Socket:
    """One listening socket."""

    address: str  # '*', '0.0.0.0', '::' or an address (brackets and %iface removed)
    port: int
    process: str  # '' when ss ran without privileges or -p
    pid: int | None
    line: int
    text: str

    @property
    def wildcard(self) -> bool:
        return self.address in ("*", "0.0.0.0", "::")

    @property
    def loopback_only(self) -> bool:
        try:
            return ipaddress.ip_address(self.address).is_loopback
        except ValueError:
            return False


@dataclass
class Listening:
    sockets: list[Socket] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_ss(text: str) -> Listening:
    """Rows of `ss -ltn[p]`; the header may be missing (output passed through grep)."""
    out = Listening()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("State", "Netid", "Recv-Q")):
            continue
        row = _SS_ROW.match(line)
        if not row or ":" not in row["local"]:
            if len(out.problems) < 20:
                out.problems.append(f"line {lineno}: not an ss row: {line[:80]!r}")
            continue
        address, _, port = row["local"].rpartition(":")
        address = address.strip("[]").split("%")[0]
        if address.startswith("::ffff:") and "." in address:
            address = address[7:]
        if not port.isdigit():
            continue
        proc = _PROCESS.search(row["proc"] or "")
        out.sockets.append(Socket(address, int(port), proc["name"] if proc else "",
                                  int(proc["pid"]) if proc else None, lineno, line))
    return out


@dataclass(frozen=True)
class Address:
    interface: str
    address: IPAddress
    prefix: int
    line: int

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(f"{self.address}/{self.prefix}", strict=False)


@dataclass
class Addresses:
    addresses: list[Address] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_ip_addr(text: str) -> Addresses:
    """`ip -o addr` (one line per address); `ip addr` without -o is read line by line too."""
    out = Addresses()
    iface = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        head = re.match(r"^\d+:\s+(\S+?):?\s", line)
        if head:
            iface = head.group(1).split("@")[0]
        row = _IP_ROW.match(line)
        words = line.split()
        if row:
            iface = row["iface"].split("@")[0]
            addr, prefix = row["addr"], row["prefix"]
        elif len(words) >= 2 and words[0] in ("inet", "inet6") and "/" in words[1]:
            addr, _, prefix = words[1].partition("/")
        else:
            continue
        try:
            out.addresses.append(Address(iface, ipaddress.ip_address(addr), int(prefix), lineno))
        except ValueError:
            out.problems.append(f"line {lineno}: bad address {addr[:60]!r}")
    return out
