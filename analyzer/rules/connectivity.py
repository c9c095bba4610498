"""Connectivity: firewalls that block control-plane ports, and ports nothing listens on.

Firewalls are judged by walking their rules offline for a TCP SYN from each peer control-plane node
and from loopback (facts/firewall.py), never by grepping for port numbers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..facts import ClusterView
from ..facts.components import ComponentFact
from ..facts.firewall import Outcome, Probe, Verdict, client_sees
from ..facts.network import NodeNetwork
from ..findings import Category, Evidence, Finding, Remediation, Severity
from ..parsers.ss import IPAddress
from . import REGISTRY, rule
from .certificates import restart_static_pod
from .shell import comment, quote, quote_words

FIREWALL_ITEMS = ("net.iptables_save", "net.ip6tables_save", "net.nft_ruleset", "net.ufw_status")


@dataclass(frozen=True)
class Port:
    number: int
    serves: str
    component: str  # whose manifest says it is served ('' for the kubelet)
    from_peers: bool  # other nodes must reach it
    from_loopback: bool  # the node itself must reach it (local etcd, liveness probes)
    severity: Severity


PORTS = (
    Port(6443, "the Kubernetes API (kube-apiserver)", "kube-apiserver", True, True, Severity.CRITICAL),
    Port(2379, "etcd clients (kube-apiserver, etcdctl)", "etcd", True, True, Severity.CRITICAL),
    Port(2380, "etcd peers (raft between members)", "etcd", True, False, Severity.CRITICAL),
    Port(10250, "the kubelet API (logs, exec, metrics)", "", True, False, Severity.ERROR),
    Port(10257, "kube-controller-manager (liveness probe)", "kube-controller-manager", False, True,
         Severity.ERROR),
    Port(10259, "kube-scheduler (liveness probe)", "kube-scheduler", False, True, Severity.ERROR),
)
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def _peer_sources(view: ClusterView, net: NodeNetwork,
                  dst: IPAddress | None) -> list[tuple[str, IPAddress | None]]:
    """(label, address) of every other node: its address in this node's subnet, else its first one."""
    out: list[tuple[str, IPAddress | None]] = []
    local_nets = [a.network for a in net.addresses if dst is not None and a.address == dst]
    for other in view.network:
        if other.node == net.node:
            continue
        ips = [ip for ip in other.node_ips + _advertised(view, other.node) if not ip.is_loopback]
        if not ips:
            continue
        same = [ip for ip in ips if any(ip in n for n in local_nets)]
        chosen = (same or ips)[0]
        out.append((f"{other.node} ({chosen})", chosen))
    return out or [("another host", None)]


def _advertised(view: ClusterView, node: str) -> list[IPAddress]:
    """Addresses the node's own manifests advertise (apiserver advertise-address, etcd peer URLs)."""
    values = []
    for c in view.components:
        if c.node != node:
            continue
        values.append(c.flags.get("advertise-address", ""))
        peer_urls = c.flags.get("initial-advertise-peer-urls", "").split(",")
        values += [urlsplit(u).hostname or "" for u in peer_urls]
    found: list[IPAddress] = []
    for value in values:
        try:
            found.append(ipaddress.ip_address(value))
        except ValueError:
            continue
    return found


def _ports_for(view: ClusterView, net: NodeNetwork) -> list[Port]:
    """The node's control-plane ports: those of the components its manifests run (all when unknown)."""
    running = {c.component for c in view.components if c.node == net.node}
    if not running:
        return list(PORTS)
    return [p for p in PORTS if not p.component or p.component in running]


def _exposed(net: NodeNetwork, port: int) -> bool:
    """Scheduler/controller-manager ports matter to peers only when bound beyond loopback."""
    if net.listening is None:
        return False
    return any(s.port == port and not s.loopback_only for s in net.listening.sockets)


def probes(view: ClusterView, net: NodeNetwork) -> list[tuple[Port, Probe]]:
    dst = next((ip for ip in net.node_ips + _advertised(view, net.node)
                if ip.version == 4 and not ip.is_loopback), None)
    peers = _peer_sources(view, net, dst)
    out: list[tuple[Port, Probe]] = []
    for port in _ports_for(view, net):
        if port.from_loopback:
            out.append((port, Probe(port.number, LOOPBACK, LOOPBACK, "lo", True, "loopback (127.0.0.1)")))
        if port.from_peers or _exposed(net, port.number):
            iface = net.interface_of(dst) if dst else None
            for label, src in peers:
                out.append((port, Probe(port.number, src, dst, iface, False, label)))
    return out


def _key(outcome: Outcome) -> tuple[str, str, str, int]:
    rule_ = outcome.rule
    return (outcome.source.path if outcome.source else "", outcome.table, outcome.chain,
            rule_.line if rule_ else -1)


def _specific(outcome: Outcome) -> bool:
    """The deciding rule names ports: removing it is the fix (else it is a catch-all or a policy)."""
    return outcome.rule is not None and outcome.rule.line > 0 and any(
        c.field in ("dport", "port") and not c.negated for c in outcome.rule.conds)


def _managed_by(net: NodeNetwork, outcome: Outcome) -> str:
    """Which front-end owns the rule: ufw and firewalld rewrite what iptables -D changes."""
    names = f"{outcome.table} {outcome.chain} {outcome.entry.chain if outcome.entry else ''}"
    if outcome.source and outcome.source.ruleset.kind == "ufw" or "ufw-" in names:
        return "ufw"
    if any(k in names for k in ("IN_public", "INPUT_ZONES", "INPUT_direct", "firewalld", "filter_IN_")):
        return "firewalld"
    return outcome.source.ruleset.kind if outcome.source else ""


def _iptables_binary(outcome: Outcome) -> str:
    return "ip6tables" if outcome.source and outcome.source.family == "ipv6" else "iptables"


def _accept_commands(manager: str, outcome: Outcome, blocked: list[Verdict]) -> list[str]:
    ports = sorted({v.probe.port for v in blocked})
    sources = sorted({(v.probe.local, str(v.probe.src) if v.probe.src else "") for v in blocked})
    port_list = ",".join(map(str, ports))
    commands: list[str] = []
    if manager == "firewalld":
        commands += [f"firewall-cmd --permanent --add-port={p}/tcp" for p in ports]
        return [*commands, "firewall-cmd --reload"]
    if manager == "ufw":
        for local, src in sources:
            origin = "from 127.0.0.1" if local else (f"from {quote(src)}" if src else "from any")
            on = "on lo " if local else ""
            commands += [f"ufw insert 1 allow in {on}{origin} to any port {p} proto tcp" for p in ports]
        return commands
    anchor = outcome.entry or outcome.rule
    if manager == "nft":
        family = outcome.source.ruleset.tables[_table_key(outcome)].family if outcome.source else "ip"
        for local, src in sources:
            match = 'iifname "lo"' if local else (f"ip saddr {quote(src)}" if src else "")
            chain = anchor.chain if anchor else outcome.chain
            commands.append(f"nft insert rule {quote(family)} {quote(outcome.table)} {quote(chain)} {match} "
                            f"tcp dport {{ {', '.join(map(str, ports))} }} accept".replace("  ", " "))
        return commands
    binary = _iptables_binary(outcome)
    chain = anchor.chain if anchor else outcome.chain
    where = f"-I {quote(chain)} {anchor.position}" if anchor else f"-A {quote(chain)}"
    for local, src in sources:
        match = "-i lo" if local else (f"-s {quote(src)}" if src else "")
        commands.append(f"{binary} -t {quote(outcome.table)} {where} {match} -p tcp -m multiport "
                        f"--dports {port_list} -j ACCEPT".replace("  ", " "))
    return commands


def _table_key(outcome: Outcome) -> str:
    assert outcome.source is not None
    return next(k for k, t in outcome.source.ruleset.tables.items() if t.name == outcome.table)


def _delete_commands(manager: str, net: NodeNetwork, outcome: Outcome) -> list[str]:
    rule_ = outcome.rule
    assert rule_ is not None and outcome.source is not None
    kind = outcome.source.ruleset.kind
    if kind == "ufw":
        return ["ufw status numbered", f"ufw delete {rule_.position}"]
    if manager == "firewalld":
        return []
    if kind == "iptables-save" and rule_.text.startswith("-A "):
        return [f"{_iptables_binary(outcome)} -t {quote(rule_.table)} -D {quote_words(rule_.text[3:])}"]
    if kind == "iptables-list":
        binary = _iptables_binary(outcome)
        return [f"{binary} -t {quote(rule_.table)} -L {quote(rule_.chain)} -n --line-numbers",
                f"{binary} -t {quote(rule_.table)} -D {quote(rule_.chain)} {rule_.position}"]
    family = outcome.source.ruleset.tables[_table_key(outcome)].family
    chain = f"{quote(family)} {quote(rule_.table)} {quote(rule_.chain)}"
    if rule_.handle is not None:  # the collector lists the ruleset with -a
        return [f"nft delete rule {chain} handle {rule_.handle}"]
    return [f"nft -a list chain {chain}",
            comment(f"the handle the listing shows for: {rule_.text}"),
            f"nft delete rule {chain} handle HANDLE"]


def _evidence(net: NodeNetwork, outcome: Outcome) -> list[Evidence]:
    source = outcome.source
    assert source is not None
    out = []
    if outcome.entry is not None and outcome.entry.line > 0:
        out.append(Evidence(net.node, source.path, outcome.entry.line, outcome.entry.text, source.item_id))
    if outcome.rule is not None and outcome.rule.line > 0:
        out.append(Evidence(net.node, source.path, outcome.rule.line, outcome.rule.text, source.item_id))
    else:
        chain = source.ruleset.tables[_table_key(outcome)].chains.get(outcome.chain)
        line = chain.line if chain else None
        out.append(Evidence(net.node, source.path, line,
                            f"chain {outcome.chain} (table {outcome.table}) policy {outcome.verdict}: "
                            f"no rule accepts the port", source.item_id))
    return out


def _finding(net: NodeNetwork, outcome: Outcome, blocked: list[tuple[Port, Verdict]]) -> Finding:
    verdicts = [v for _, v in blocked]
    ports = sorted({p.number for p, _ in blocked})
    severity = min((p.severity for p, _ in blocked), key=lambda s: s.rank)
    manager = _managed_by(net, outcome)
    what = (f"the {outcome.chain} chain's {outcome.verdict} policy (no earlier rule accepts)"
            if outcome.rule is None else f"rule `{outcome.rule.text}`")
    lines = sorted({f"{p.number}/tcp ({p.serves}) from {v.probe.label}" for p, v in blocked})
    detail = (f"On {net.node}, {what} {'drops' if outcome.verdict == 'DROP' else 'rejects'} new connections "
              f"to: {'; '.join(lines)}. Clients see {client_sees(outcome)}.")
    if outcome.entry is not None:
        detail += f" The packet reaches it through `{outcome.entry.text}`."
    # a rule about these ports goes; a catch-all or a policy stays and the ports are let through before it;
    # rules ufw or firewalld wrote into iptables are changed through them (they would rewrite them)
    if _specific(outcome) and outcome.source is not None and manager == outcome.source.ruleset.kind:
        commands = _delete_commands(manager, net, outcome)
        text = "Remove the rule that blocks the port"
    else:
        commands = _accept_commands(manager, outcome, verdicts)
        text = "Accept the control-plane ports before the rule or policy that blocks them"
    if manager in ("iptables-save", "iptables-list"):
        text += (". iptables changes do not survive a reboot: save them with whatever loads the rules at "
                 "boot (`netfilter-persistent save` on Debian/Ubuntu, `service iptables save` on RHEL)")
    elif manager == "firewalld":
        text += "; firewalld owns these chains, so change its configuration, not the iptables rules"
    elif manager == "ufw":
        text += "; ufw owns these rules, so change them with ufw"
    return REGISTRY["FIREWALL_BLOCKS_CONTROL_PLANE_PORT"].finding(
        severity=severity,
        title=f"Firewall on {net.node} {'drops' if outcome.verdict == 'DROP' else 'rejects'} "
              f"control-plane port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))}",
        detail=detail, remediation=Remediation(text + ".", tuple(commands)),
        evidence=_evidence(net, outcome), nodes=[net.node],
        objects=[f"{net.node}:{p}/tcp" for p in ports]
        + [f"rule {outcome.chain}:{outcome.rule.line}" if outcome.rule else f"policy {outcome.chain}"])


@rule("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", Category.CONNECTIVITY, Severity.CRITICAL,
      "Firewall blocks a control-plane port",
      "Walks each node's iptables/ip6tables, nftables and ufw rules offline (chains, jumps, RETURN, "
      "policies) for a TCP SYN to 6443, 2379, 2380, 10250 from the other control-plane nodes and to "
      "6443, 2379, 10257, 10259 from loopback; reports ports every path drops or rejects.",
      FIREWALL_ITEMS)
def firewall_blocks(view: ClusterView) -> Iterator[Finding]:
    for net in view.network:
        if not net.firewall.sources:
            continue
        groups: dict[tuple[str, str, str, int], tuple[Outcome, list[tuple[Port, Verdict]]]] = {}
        for port, probe in probes(view, net):
            verdict = net.firewall.evaluate(probe)
            outcome = verdict.deciding
            if not verdict.blocked or outcome is None:
                continue
            groups.setdefault(_key(outcome), (outcome, []))[1].append((port, verdict))
        for outcome, blocked in groups.values():
            yield _finding(net, outcome, blocked)


def _expected_ports(component: ComponentFact) -> list[tuple[int, str]]:
    """(port, flag) the component's manifest says it serves."""
    flags = component.flags
    if component.component == "etcd":
        out: list[tuple[int, str]] = []
        for flag, default in (("listen-client-urls", 2379), ("listen-peer-urls", 2380)):
            ports = sorted({p for p in (urlsplit(u).port for u in flags.get(flag, "").split(",") if u)
                            if p is not None})
            out += [(p, flag) for p in ports] if ports else [(default, flag)]
        return out
    defaults = {"kube-apiserver": 6443, "kube-controller-manager": 10257, "kube-scheduler": 10259}
    if component.component not in defaults:
        return []
    port = flags.get("secure-port", str(defaults[component.component]))
    return [(int(port), "secure-port")] if port.isdigit() and port != "0" else []


@rule("CONTROL_PLANE_PORT_NOT_LISTENING", Category.CONNECTIVITY, Severity.ERROR,
      "Nothing listens on a control-plane port",
      "Every port a node's static pod manifests say is served (kube-apiserver --secure-port, etcd "
      "--listen-client-urls/--listen-peer-urls, controller-manager and scheduler --secure-port) has a "
      "LISTEN socket in `ss -ltnp`.", ("net.listening",))
def not_listening(view: ClusterView) -> Iterator[Finding]:
    for net in view.network:
        if net.listening is None or net.listening_ref is None:
            continue
        ref = net.listening_ref
        open_ports = {s.port for s in net.listening.sockets}
        for component in (c for c in view.components if c.node == net.node and c.source == "manifest"):
            for port, flag in _expected_ports(component):
                if port in open_ports:
                    continue
                manifest, name = component.manifest_path, component.component
                yield REGISTRY["CONTROL_PLANE_PORT_NOT_LISTENING"].finding(
                    title=f"{component.component} on {net.node}: nothing listens on {port}/tcp",
                    detail=(f"{manifest} says {component.component} serves {port}/tcp, but `ss -ltnp` shows "
                            f"no listening socket on that port: the container is not running, has not "
                            f"finished starting, or failed to bind. Clients see 'connection refused'."),
                    remediation=Remediation(
                        "Check whether the container runs and why it exits or does not bind, fix the cause, "
                        "then restart the static pod (move its manifest out of /etc/kubernetes/manifests "
                        "and back).",
                        (f"crictl ps -a --name {quote(name)}",
                         f"crictl logs --tail 100 $(crictl ps -a --name {quote(name)} -q | head -n 1)",
                         f"ss -ltnp | grep ':{port} '", restart_static_pod(name))),
                    evidence=[component.evidence(flag if flag in component.flags else None),
                              Evidence(net.node, ref.path, None, f"no LISTEN socket on :{port} "
                                       f"({len(net.listening.sockets)} listening sockets listed)",
                                       ref.item_id)],
                    nodes=[net.node], objects=[f"{net.node}:{port}/tcp"])
