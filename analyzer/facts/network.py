"""Network facts per node: addresses, listening sockets and the firewall as an evaluable model."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..parsers.iptables import Ruleset, parse_iptables_list, parse_iptables_save
from ..parsers.nft import parse_nft
from ..parsers.ss import Address, IPAddress, Listening, parse_ip_addr, parse_ss
from ..parsers.ufw import UfwStatus, parse_ufw
from .firewall import Firewall, RulesetSource
from .source import Source

#: tables iptables-nft keeps in nftables: the same rules as iptables-save shows, not a second firewall
XTABLES = ("filter", "nat", "mangle", "raw", "security")
#: interfaces whose addresses are not how other control-plane nodes reach this one
VIRTUAL_PREFIXES = ("lo", "docker", "cni", "flannel", "cali", "vxlan", "tunl", "kube-ipvs", "cilium",
                    "weave", "veth", "virbr", "br-", "nodelocaldns", "kube-bridge")


@dataclass(frozen=True)
class ItemRef:
    """Where a fact was read: the item id and the path inside the bundle."""

    item_id: str
    path: str


@dataclass
class NodeNetwork:
    node: str
    addresses: list[Address] = field(default_factory=list)
    #: manifest node.ips, used when `ip -o addr` was not collected
    manifest_ips: list[IPAddress] = field(default_factory=list)
    listening: Listening | None = None  # None: `ss -ltnp` not collected
    listening_ref: ItemRef | None = None
    firewall: Firewall = field(default_factory=lambda: Firewall(""))
    ufw: UfwStatus | None = None
    ufw_ref: ItemRef | None = None

    @property
    def node_ips(self) -> list[IPAddress]:
        """Addresses other nodes reach this one on (no loopback, link-local or container bridges)."""
        found = [a.address for a in self.addresses
                 if not a.interface.startswith(VIRTUAL_PREFIXES) and not a.address.is_link_local
                 and not a.address.is_loopback]
        if not found:
            found = [ip for ip in self.manifest_ips if not ip.is_loopback and not ip.is_link_local]
        return list(dict.fromkeys(found))

    def interface_of(self, address: IPAddress) -> str | None:
        return next((a.interface for a in self.addresses if a.address == address), None)


def parse_iptables(text: str) -> Ruleset:
    """iptables-save / -S text, or an `iptables -L` listing (pasted evidence)."""
    if text.lstrip().startswith("Chain "):
        return parse_iptables_list(text)
    return parse_iptables_save(text)


def _ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def network(src: Source) -> NodeNetwork:
    """Read addresses, sockets and every firewall capture of one node."""
    out = NodeNetwork(src.node, firewall=Firewall(src.node))
    out.manifest_ips = [ip for ip in (_ip(v) for v in src.bundle.manifest.node.ips) if ip is not None]
    for item, text in src.texts("net.addresses"):
        parsed = parse_ip_addr(text)
        out.addresses.extend(parsed.addresses)
        for problem in parsed.problems:
            src.item_problem(item, problem)
    for item, text in src.texts("net.listening"):
        assert item.path is not None
        out.listening = parse_ss(text)
        out.listening_ref = ItemRef(item.id, item.path)
        for problem in out.listening.problems:
            src.item_problem(item, problem)
    families = {"net.iptables_save": "ipv4", "net.ip6tables_save": "ipv6"}
    xtables: set[str] = set()
    for item_id, family in families.items():
        for item, text in src.texts(item_id):
            assert item.path is not None
            ruleset = parse_iptables(text)
            _record(src, item.path, ruleset)
            if ruleset.tables:
                xtables.add("ip" if family == "ipv4" else "ip6")
                out.firewall.sources.append(RulesetSource(ruleset, item.id, item.path, family))
    for item, text in src.texts("net.nft_ruleset"):
        assert item.path is not None
        ruleset = parse_nft(text)
        _record(src, item.path, ruleset)
        skip = frozenset(key for key, t in ruleset.tables.items()
                         if t.family in xtables and t.name in XTABLES)
        out.firewall.sources.append(RulesetSource(ruleset, item.id, item.path, "any", skip))
    for item, text in src.texts("net.ufw_status"):
        assert item.path is not None
        out.ufw, out.ufw_ref = parse_ufw(text), ItemRef(item.id, item.path)
        _record(src, item.path, out.ufw.ruleset)
        if not xtables:  # with iptables-save present, ufw's chains are already in it
            out.firewall.sources.append(RulesetSource(out.ufw.ruleset, item.id, item.path, "any"))
    return out


def _record(src: Source, path: str, ruleset: Ruleset) -> None:
    for problem in ruleset.problems:
        src.problem(f"{path}: {problem}")
