"""Offline firewall reasoning: what happens to a TCP SYN for a port on this node, rule by rule.

The rulesets (iptables-save, iptables -L, nft, ufw status; all in the model of parsers/iptables.py)
are walked as the kernel walks them for a packet addressed to the node: every base chain on the
prerouting and input hooks in priority order; in each, rules in order, jumps into user chains,
RETURN back, goto without return, first ACCEPT/DROP/REJECT decides that chain, falling off a base
chain applies its policy, ACCEPT passes the packet on to the next base chain. Conditions are judged
three-valued: a condition the evidence cannot decide (an ipset, a rate limit, an interface name the
bundle does not tie to an address) forks the walk, so a port is "blocked" only when every fork
blocks it, and "possibly blocked" when some do.

Assumptions about the probe: a new connection (conntrack state NEW, not DNATed), a plain SYN, packet
mark 0, from an ephemeral source port; loopback probes arrive on `lo`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..parsers.iptables import TERMINAL, Chain, Cond, Rule, Ruleset, Table
from ..parsers.ss import IPAddress

BLOCKING = frozenset({"DROP", "REJECT"})
HOOK_ORDER = {"prerouting": 0, "input": 1}
MAX_STEPS = 20_000
TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20, "ECE": 0x40,
             "CWR": 0x80, "ALL": 0x3F, "NONE": 0}
Truth = bool | None


@dataclass(frozen=True)
class Probe:
    """A TCP SYN to `port`, from `src` (None: another host, address unknown) to `dst` on this node."""

    port: int
    src: IPAddress | None
    dst: IPAddress | None
    in_iface: str | None
    local: bool  # sent by the node to itself (loopback)
    label: str  # how a finding names the source: '127.0.0.1', 'cp-2 (10.0.0.12)'

    @property
    def family(self) -> str:
        known = self.src or self.dst
        return "ipv6" if known is not None and known.version == 6 else "ipv4"


@dataclass(frozen=True)
class RulesetSource:
    """One captured ruleset and where it came from; `skip_tables` are duplicates of another capture."""

    ruleset: Ruleset
    item_id: str
    path: str
    family: str  # 'ipv4' | 'ipv6' (iptables, ip6tables) or 'any' (nft, ufw: per table or per rule)
    skip_tables: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """One way the walk ends. `rule` None: a chain policy decided (or, for ACCEPT, nothing objected)."""

    verdict: str  # ACCEPT DROP REJECT UNKNOWN
    source: RulesetSource | None
    table: str
    chain: str  # the chain whose rule or policy decided
    rule: Rule | None
    entry: Rule | None  # the base-chain rule through which the walk reached `rule` (None: in the base chain)
    assumed: tuple[Rule, ...] = ()  # rules whose match the evidence could not decide

    @property
    def reject_with(self) -> str | None:
        return self.rule.reject_with if self.rule else None


@dataclass(frozen=True)
class Verdict:
    probe: Probe
    outcomes: tuple[Outcome, ...]

    @property
    def blocked(self) -> bool:
        """Every way through the rules drops or rejects the probe."""
        return bool(self.outcomes) and all(o.verdict in BLOCKING for o in self.outcomes)

    @property
    def possibly_blocked(self) -> bool:
        return any(o.verdict in BLOCKING for o in self.outcomes)

    @property
    def deciding(self) -> Outcome | None:
        """The blocking outcome with the fewest assumptions."""
        blocking = [o for o in self.outcomes if o.verdict in BLOCKING]
        return min(blocking, key=lambda o: len(o.assumed)) if blocking else None


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    value = value.replace("localhost", "127.0.0.1")
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _address_in(values: tuple[str, ...], address: IPAddress | None) -> Truth:
    """Does the address fall in any of the values? Unknown addresses are never loopback ones."""
    unknown = False
    for value in values:
        if "-" in value:  # an address range 10.0.0.1-10.0.0.9
            low, _, high = value.partition("-")
            try:
                lo_ip, hi_ip = ipaddress.ip_address(low), ipaddress.ip_address(high)
            except ValueError:
                unknown = True
                continue
            if address is None or address.version != lo_ip.version:
                unknown = unknown or address is None
                continue
            if lo_ip <= address <= hi_ip:  # type: ignore[operator]
                return True
            continue
        net = _network(value)
        if net is None:
            unknown = True
        elif net.prefixlen == 0 and (address is None or address.version == net.version):
            return True
        elif address is None:
            # another host's address, or this node's non-loopback address: never in a loopback range
            unknown = unknown or not (net.subnet_of(ipaddress.ip_network("127.0.0.0/8"))  # type: ignore[arg-type]
                                      if net.version == 4 else net == ipaddress.ip_network("::1/128"))
        elif address.version == net.version and address in net:
            return True
    return None if unknown else False


def _port_in(values: tuple[str, ...], port: int) -> Truth:
    for value in values:
        low, sep, high = value.partition(":")
        try:
            lo_port = int(low) if low else 0
            hi_port = (int(high) if high else 65535) if sep else lo_port
        except ValueError:
            return None
        if lo_port <= port <= hi_port:
            return True
    return False


def _sport(values: tuple[str, ...]) -> Truth:
    """A client's source port is some unprivileged port: known only for specs covering all or none."""
    ranges = []
    for value in values:
        low, sep, high = value.partition(":")
        try:
            ranges.append((int(low) if low else 0, (int(high) if high else 65535) if sep else int(low)))
        except ValueError:
            return None
    if any(lo <= 1024 and hi >= 65535 for lo, hi in ranges):
        return True
    if all(hi < 1024 for _, hi in ranges):
        return False
    return None


def _iface(values: tuple[str, ...], probe: Probe) -> Truth:
    if probe.in_iface is None:
        # traffic from another host never arrives on lo; any other name could be the one it uses
        return False if all(v == "lo" for v in values) else None
    for value in values:
        pattern = re.escape(value.rstrip("+*")) + (".*" if value.endswith(("+", "*")) else "")
        if re.fullmatch(pattern, probe.in_iface):
            return True
    return False


def _tcp_flags(values: tuple[str, ...]) -> Truth:
    """'FIN,SYN,RST,ACK SYN' (iptables-save) or '0x17/0x02' (iptables -L) against a bare SYN."""
    try:
        if len(values) == 2:
            mask = sum(TCP_FLAGS[f] for f in values[0].split(","))
            comp = sum(TCP_FLAGS[f] for f in values[1].split(",")) if values[1] != "NONE" else 0
        else:
            mask_s, _, comp_s = values[0].partition("/")
            mask, comp = int(mask_s, 16), int(comp_s, 16)
    except (KeyError, ValueError, IndexError):
        return None
    return (TCP_FLAGS["SYN"] & mask) == comp


def _mark(values: tuple[str, ...]) -> Truth:
    value, _, mask = values[0].partition("/")
    try:
        return (0 & int(mask or "0xffffffff", 0)) == int(value, 0)
    except ValueError:
        return None


def cond_truth(cond: Cond, probe: Probe) -> Truth:
    """Whether one condition holds for the probe (before negation is applied)."""
    f, values = cond.field, cond.values
    if f == "proto":
        return any(v in ("tcp", "all", "6") for v in values)
    if f == "family":
        return probe.family in values
    if f == "src":
        return _address_in(values, probe.src)
    if f == "dst":
        return _address_in(values, probe.dst)
    if f == "in":
        return _iface(values, probe)
    if f == "out":
        return False  # packets for this host have no output interface
    if f == "dport":
        return _port_in(values, probe.port)
    if f == "sport":
        return _sport(values)
    if f == "port":
        return True if _port_in(values, probe.port) else None
    if f == "ctstate":
        return "NEW" in values
    if f == "ctstatus":
        return False if set(values) <= {"DNAT", "SNAT", "SEEN_REPLY", "ASSURED", "EXPECTED"} else None
    if f in ("src-type", "dst-type"):
        local = f == "dst-type" or probe.local
        if set(values) & {"LOCAL"}:
            return local or ("UNICAST" in values)
        if set(values) & {"UNICAST"}:
            return True
        if set(values) <= {"BROADCAST", "MULTICAST", "ANYCAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT",
                           "THROW", "NAT", "XRESOLVE", "UNSPEC"}:
            return False
        return None
    if f == "mark":
        return _mark(values)
    if f == "tcp-flags":
        return _tcp_flags(values)
    if f == "syn":
        return True
    if f == "fragment":
        return False
    if f == "pkttype":
        return "unicast" in values
    return None


def rule_truth(rule: Rule, probe: Probe) -> Truth:
    """All conditions must hold: False as soon as one does not, None when some cannot be decided."""
    result: Truth = True
    for cond in rule.conds:
        truth = cond_truth(cond, probe)
        if truth is not None and cond.negated:
            truth = not truth
        if truth is False:
            return False
        if truth is None:
            result = None
    return result


@dataclass
class _Walk:
    probe: Probe
    source: RulesetSource
    table: Table
    base: Chain
    steps: int = 0

    def run(self, chain_name: str, index: int, stack: tuple[tuple[str, int], ...], entry: Rule | None,
            assumed: tuple[Rule, ...]) -> list[Outcome]:
        self.steps += 1
        if self.steps > MAX_STEPS or len(stack) > 64:
            return [Outcome("UNKNOWN", self.source, self.table.name, chain_name, None, entry, assumed)]
        chain = self.table.chains.get(chain_name)
        rules = chain.rules if chain else []
        while index < len(rules):
            rule = rules[index]
            index += 1
            truth = rule_truth(rule, self.probe)
            if truth is False:
                continue
            via = entry if chain_name != self.base.name or stack else None
            if truth is None:
                skipped = self.run(chain_name, index, stack, entry, (*assumed, rule))
                return skipped + self.take(rule, chain_name, index, stack, via or rule, (*assumed, rule))
            return self.take(rule, chain_name, index, stack, via or rule, assumed)
        return self.fall_off(chain_name, stack, entry, assumed)

    def fall_off(self, chain_name: str, stack: tuple[tuple[str, int], ...], entry: Rule | None,
                 assumed: tuple[Rule, ...]) -> list[Outcome]:
        if stack:
            (caller, resume), rest = stack[-1], stack[:-1]
            return self.run(caller, resume, rest, entry, assumed)
        policy = self.base.policy or "ACCEPT"
        return [Outcome(policy, self.source, self.table.name, self.base.name, None, None, assumed)]

    def take(self, rule: Rule, chain_name: str, index: int, stack: tuple[tuple[str, int], ...],
             entry: Rule, assumed: tuple[Rule, ...]) -> list[Outcome]:
        target = rule.target
        in_base = chain_name == self.base.name and not stack
        if target in TERMINAL:
            return [Outcome(target, self.source, self.table.name, chain_name, rule,
                            None if in_base else entry, assumed)]
        if target == "RETURN":
            return self.fall_off(chain_name, stack, entry, assumed)
        if target in self.table.chains:
            if rule.goto:
                return self.run(target, 0, stack, entry, assumed)
            return self.run(target, 0, (*stack, (chain_name, index)), entry, assumed)
        if target in ("QUEUE", "NFQUEUE"):
            return [Outcome("UNKNOWN", self.source, self.table.name, chain_name, rule, entry, assumed)]
        # LOG, MARK, counters and targets of other tables: the walk goes on
        return self.run(chain_name, index, stack, entry if not in_base else None, assumed)


def _families(table: Table, source: RulesetSource) -> set[str]:
    if source.family != "any":
        return {source.family}
    return {"ip": {"ipv4"}, "ip6": {"ipv6"}, "inet": {"ipv4", "ipv6"}}.get(table.family, set())


@dataclass
class Firewall:
    """Every ruleset captured on one node, evaluable for a probe."""

    node: str
    sources: list[RulesetSource] = field(default_factory=list)

    def base_chains(self, family: str) -> list[tuple[RulesetSource, Table, Chain]]:
        """Base chains a packet for this host crosses, in the kernel's order."""
        found = []
        for source in self.sources:
            for key, table in source.ruleset.tables.items():
                if key in source.skip_tables or family not in _families(table, source):
                    continue
                if source.ruleset.kind != "nft" and table.name == "nat":
                    continue  # nat chains translate addresses, they do not filter
                for chain in table.chains.values():
                    if chain.hook in HOOK_ORDER and chain.policy is not None:
                        found.append((source, table, chain))
        return sorted(found, key=lambda x: (HOOK_ORDER[x[2].hook or "input"], x[2].priority))

    def evaluate(self, probe: Probe) -> Verdict:
        outcomes: list[Outcome] = []
        pending: list[tuple[Rule, ...]] = [()]
        for source, table, chain in self.base_chains(probe.family):
            walk = _Walk(probe, source, table, chain)
            passed: list[tuple[Rule, ...]] = []
            for assumed in pending:
                for outcome in walk.run(chain.name, 0, (), None, assumed):
                    if outcome.verdict == "ACCEPT":
                        passed.append(outcome.assumed)
                    else:
                        outcomes.append(outcome)
            pending = list(dict.fromkeys(passed))[:64]
        outcomes.extend(Outcome("ACCEPT", None, "", "", None, None, a) for a in pending)
        return Verdict(probe, tuple(_unique(outcomes)))


def _unique(outcomes: Iterable[Outcome]) -> list[Outcome]:
    seen: dict[tuple[str, int, str, str], Outcome] = {}
    for o in outcomes:
        key = (o.verdict, id(o.rule), o.table, o.chain)
        if key not in seen or len(o.assumed) < len(seen[key].assumed):
            seen[key] = o
    return list(seen.values())


#: what a client sees for each way of refusing a SYN (Linux errno texts as Go and curl print them)
CLIENT_SEES = {
    None: "connect: connection refused",
    "tcp-reset": "connect: connection refused",
    "icmp-port-unreachable": "connect: connection refused",
    "icmp6-port-unreachable": "connect: connection refused",
    "port-unreach": "connect: connection refused",
    "icmp-host-prohibited": "connect: no route to host",
    "icmp-host-unreachable": "connect: no route to host",
    "icmp-admin-prohibited": "connect: no route to host",
    "icmp6-adm-prohibited": "connect: no route to host",
    "icmp-net-unreachable": "connect: network is unreachable",
    "icmp-net-prohibited": "connect: network is unreachable",
    "icmp6-no-route": "connect: network is unreachable",
    "icmp-proto-unreachable": "connect: protocol not available",
}


def client_sees(outcome: Outcome) -> str:
    """DROP: the SYN vanishes, clients wait for their timeout; REJECT: an immediate error."""
    if outcome.verdict == "DROP":
        return ("a timeout, not a refusal (etcd clients: 'context deadline exceeded'; Go: 'i/o timeout'; "
                "curl: 'Connection timed out')")
    return CLIENT_SEES.get(outcome.reject_with, "an immediate connection error")
