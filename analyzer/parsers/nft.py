"""`nft list ruleset` into the rule model of iptables.py, for offline evaluation.

Base chains keep their hook, priority and policy; rules keep the conditions this analyzer can judge
(interfaces, addresses incl. named sets, l4 protocol and ports, conntrack state, fib address type,
marks) and the verdict. A real capture (reference netns-iptables/fw-drop, nftables 1.0.6):

>>> rs = parse_nft('''table ip filter {
... \tchain INPUT {
... \t\ttype filter hook input priority filter; policy accept;
... \t\ttcp dport 2379 counter packets 18 bytes 1080 drop
... \t}
... }
... table ip6 filter {
... \tchain INPUT {
... \t\ttype filter hook input priority filter; policy accept;
... \t}
... }''')
>>> sorted(rs.tables)
['filter', 'ip6 filter']
>>> chain = rs.tables["filter"].chains["INPUT"]
>>> chain.hook, chain.priority, chain.policy
('input', 0, 'ACCEPT')
>>> rule = chain.rules[0]
>>> rule.target, rule.line, [(c.field, c.values) for c in rule.conds]
('DROP', 4, [('proto', ('tcp',)), ('dport', ('2379',))])
>>> parse_nft("table inet x {\\n chain c {\\n tcp dport { 1, 2 drop").problems
['table inet x is not closed: the capture may be truncated']
"""

from __future__ import annotations

import re

from .iptables import TABLE_PRIORITY, Chain, Cond, Rule, Ruleset, Table

_TOKEN = re.compile(r'"[^"]*"|[{}(),|&]|!=|==|[^\s{}(),|&]+')
_BASE = re.compile(r"type (?P<type>\w+) hook (?P<hook>\w+)(?: device \S+)? priority (?P<prio>[^;]+);"
                   r"(?: policy (?P<policy>\w+);)?")
#: well-known priority names (nft prints them instead of numbers)
_PRIORITY_NAMES = {**TABLE_PRIORITY, "dstnat": -100, "srcnat": 100}
_VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "reject": "REJECT", "return": "RETURN"}
_REJECT_TYPES = {"host-prohibited": "icmp-host-prohibited", "admin-prohibited": "icmp-admin-prohibited",
                 "net-prohibited": "icmp-net-prohibited", "port-unreachable": "icmp-port-unreachable",
                 "host-unreachable": "icmp-host-unreachable", "net-unreachable": "icmp-net-unreachable",
                 "prot-unreachable": "icmp-proto-unreachable", "no-route": "icmp-net-unreachable",
                 "addr-unreachable": "icmp-host-unreachable"}
_SERVICES = {"ssh": "22", "http": "80", "https": "443", "domain": "53"}
#: statements that neither match nor decide: skipped with their arguments
_STATEMENTS = {"counter": ("packets", "bytes"), "log": ("prefix", "level", "flags", "group", "snaplen"),
               "comment": ()}


def _priority(text: str) -> int:
    """'filter', '-150', 'filter - 5', 'mangle + 10' -> an int."""
    parts = text.split()
    try:
        base = _PRIORITY_NAMES[parts[0]] if parts[0] in _PRIORITY_NAMES else int(parts[0])
        if len(parts) == 3:
            base += int(parts[2]) if parts[1] == "+" else -int(parts[2])
        return base
    except (ValueError, IndexError):
        return 0


class _Reader:
    """Walks one rule's tokens."""

    def __init__(self, tokens: list[str], sets: dict[str, tuple[str, ...]]) -> None:
        self.tokens, self.i, self.sets = tokens, 0, sets

    def more(self) -> bool:
        return self.i < len(self.tokens)

    def peek(self, ahead: int = 0) -> str:
        return self.tokens[self.i + ahead] if self.i + ahead < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        self.i += 1
        return token

    def operator(self) -> bool:
        """Consume an optional relational operator; True when it negates."""
        if self.peek() in ("!=", "=="):
            return self.take() == "!="
        return False

    def values(self) -> tuple[str, ...] | None:
        """One value, a `{ a, b }` set or a `@named` set; None when a named set is unknown."""
        token = self.take()
        if token == "{":
            out: list[str] = []
            while self.more() and self.peek() != "}":
                value = self.take()
                if value != ",":
                    out.append(value.strip('"'))
            self.take()
            return tuple(out)
        if token.startswith("@"):
            return self.sets.get(token[1:])
        return tuple(token.strip('"').split(","))


def _ports(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_SERVICES.get(v, v).replace("-", ":") for v in values)


def parse_rule(line: str, table: Table, chain: Chain, lineno: int,
               sets: dict[str, tuple[str, ...]]) -> Rule:
    """One nft rule line; expressions not understood become 'other' conditions."""
    text = line.split(" # handle ")[0].strip()
    r = _Reader(_TOKEN.findall(text), sets)
    conds: list[Cond] = []
    unknown: list[str] = []
    target, goto, reject_with = "", False, None

    def add(fieldname: str, negated: bool, values: tuple[str, ...] | None) -> None:
        if values is None:
            unknown.append(f"{fieldname} in an unknown set")
        else:
            conds.append(Cond(fieldname, values, negated))

    while r.more():
        word = r.take()
        if word == "meta" and r.peek() in ("l4proto", "iifname", "oifname", "iif", "oif", "mark", "pkttype",
                                           "nfproto"):
            word = r.take()
        if word in ("l4proto",) or (word in ("ip", "ip6") and r.peek() in ("protocol", "nexthdr")):
            if word != "l4proto":
                r.take()
            negated = r.operator()
            add("proto", negated, r.values())
        elif word in ("iifname", "iif", "oifname", "oif"):
            negated = r.operator()
            add("in" if word.startswith("i") else "out", negated, r.values())
        elif word in ("ip", "ip6") and r.peek() in ("saddr", "daddr"):
            which = r.take()
            negated = r.operator()
            add("src" if which == "saddr" else "dst", negated, r.values())
        elif word in ("tcp", "udp", "sctp", "th") and r.peek() in ("dport", "sport"):
            which = r.take()
            if word != "th":
                conds.append(Cond("proto", (word,)))
            negated = r.operator()
            values = r.values()
            add("dport" if which == "dport" else "sport", negated, None if values is None else _ports(values))
        elif word == "tcp" and r.peek() == "flags":
            r.take()
            flags = []
            while r.more() and r.peek() not in _VERDICTS and r.peek() not in _STATEMENTS \
                    and r.peek() not in ("jump", "goto", "ct", "meta", "ip", "ip6", "tcp", "udp", "fib"):
                flags.append(r.take())
            spec = "".join(flags)
            # `syn / fin,syn,rst,ack` (nft >= 1.0) and `& (fin|syn|rst|ack) == syn` mean "a new SYN"
            if spec in ("syn/fin,syn,rst,ack", "&(fin|syn|rst|ack)==syn"):
                conds.append(Cond("syn", ()))
            else:
                unknown.append("tcp flags " + " ".join(flags))
        elif word == "ct" and r.peek() in ("state", "status"):
            which = r.take()
            negated = r.operator()
            values = r.values()
            add("ctstate" if which == "state" else "ctstatus", negated,
                None if values is None else tuple(v.upper() for v in values))
        elif word == "fib" and r.peek() in ("daddr", "saddr") and r.peek(1) == "type":
            which = r.take()
            r.take()
            negated = r.operator()
            values = r.values()
            add("dst-type" if which == "daddr" else "src-type", negated,
                None if values is None else tuple(v.upper() for v in values))
        elif word == "mark":
            mask = "0xffffffff"
            if r.peek() == "&":
                r.take()
                mask = r.take()
            negated = r.operator()
            value = r.take()
            conds.append(Cond("mark", (f"{value}/{mask}",), negated))
        elif word == "pkttype":
            negated = r.operator()
            values = r.values()
            add("pkttype", negated, None if values is None else
                tuple("unicast" if v == "host" else v for v in values))
        elif word in _STATEMENTS:
            skip_words = _STATEMENTS[word]
            if word == "comment":
                r.take()
            while r.peek() in skip_words:
                r.take()
                r.take()
        elif word in _VERDICTS:
            target = _VERDICTS[word]
            if word == "reject" and r.peek() == "with":
                r.take()
                kind = r.take()
                if kind == "tcp":
                    r.take()
                    reject_with = "tcp-reset"
                else:
                    r.take()  # 'type'
                    code = r.take()
                    reject_with = _REJECT_TYPES.get(code, f"icmp-{code}")
            break
        elif word in ("jump", "goto"):
            target, goto = r.take(), word == "goto"
            break
        elif word:
            unknown.append(word)
    if unknown:
        conds.append(Cond("other", (" ".join(unknown),)))
    handle = re.search(r" # handle (\d+)\s*$", line)
    return Rule(table.name, chain.name, len(chain.rules) + 1, lineno, text, tuple(conds), target, goto,
                reject_with, int(handle.group(1)) if handle else None)


def parse_nft(text: str) -> Ruleset:
    """`nft list ruleset` (or `nft list table ...`); tables named `<family> <name>` except family ip."""
    out = Ruleset("nft")
    table: Table | None = None
    chain: Chain | None = None
    sets: dict[str, tuple[str, ...]] = {}
    block: list[str] | None = None  # a set/map/flowtable/object body being skipped
    depth = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            managed = re.search(r"table (\w+) (\S+) is managed by iptables-nft", line)
            if managed:
                out.backend = "nf_tables"
            continue
        if block is not None:
            block.append(line)
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                body = " ".join(block)
                name = block[0].split()[1] if len(block[0].split()) > 1 else ""
                found = re.search(r"elements = \{([^}]*)\}", body)
                sets[name] = tuple(e.strip() for e in found.group(1).split(",")) if found else ()
                block = None
            continue
        words = line.split()
        if table is None:
            if words[0] == "table" and len(words) >= 3:
                family, name = (words[1], words[2]) if len(words) >= 4 else ("ip", words[1])
                table, sets = out.table(name.rstrip("{"), family), {}
            else:
                out.problem(f"line {lineno}: outside a table: {line[:80]!r}")
            continue
        if chain is None:
            if words[0] == "chain" and len(words) >= 2:
                chain = table.chain(words[1])
                chain.hook, chain.policy, chain.priority = None, None, 0
            elif words[0] in ("set", "map", "flowtable", "counter", "quota", "ct", "limit", "secmark",
                              "synproxy"):
                block, depth = [line], line.count("{") - line.count("}")
                if depth <= 0:
                    block = None
            elif line == "}":
                table = None
            continue
        if line == "}":
            chain = None
            continue
        base = _BASE.match(line)
        if base:
            if base["type"] == "filter":
                chain.hook = base["hook"]
            chain.priority = _priority(base["prio"].strip())
            chain.policy = (base["policy"] or "accept").upper()
            chain.line = lineno
            continue
        if line.startswith(("comment ", "devices ")):
            continue
        chain.rules.append(parse_rule(line, table, chain, lineno, sets))
    if table is not None:
        out.problem(f"table {table.family} {table.name} is not closed: the capture may be truncated")
    return out
