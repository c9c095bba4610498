"""`ufw status [verbose|numbered]` into the rule model of iptables.py.

ufw checks its user rules in the order listed, first match wins, then applies the default incoming
policy; before them its before.rules accept loopback and established traffic (ufw's own defaults),
which the model adds as two implied rules at line 0. A real `ufw status verbose` of a Kubernetes node
(tests/fixtures/real/ufw-status-verbose-hetzner-kube-226.txt, trimmed):

>>> status = parse_ufw('''Status: active
... Logging: on (low)
... Default: deny (incoming), allow (outgoing), deny (routed)
... New profiles: skip
...
... To                         Action      From
... --                         ------      ----
... 22                         ALLOW IN    Anywhere
... Anywhere                   ALLOW IN    10.0.1.0/24
... 6443                       ALLOW IN    Anywhere
... 6443 (v6)                  ALLOW IN    Anywhere (v6)''')
>>> status.active, status.default_incoming, len(status.rules)
(True, 'DROP', 4)
>>> [(r.to_ports, r.action, r.source, r.v6) for r in status.rules[1:3]]
[('', 'ALLOW', '10.0.1.0/24', False), ('6443', 'ALLOW', '', False)]
>>> chain = status.ruleset.tables["ufw"].chains["INPUT"]
>>> chain.policy, [r.target for r in chain.rules]
('DROP', ['ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT'])
>>> parse_ufw("Status: inactive").ruleset.empty
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .iptables import Cond, Rule, Ruleset

_ROW = re.compile(r"^(?:\[\s*(?P<num>\d+)\]\s*)?(?P<to>.+?)\s+(?P<action>ALLOW|DENY|REJECT|LIMIT)"
                  r"(?:\s+(?P<dir>IN|OUT|FWD))?\s+(?P<src>.+?)(?:\s+#\s*(?P<comment>.*))?$")
_DEFAULT = re.compile(r"Default:\s*(?P<policy>\w+)\s*\(incoming\)")
#: application profiles ufw ships and the ports they open (others are unknown ports)
_APPS = {"OpenSSH": "22", "Nginx Full": "80,443", "Nginx HTTP": "80", "Nginx HTTPS": "443",
         "Apache Full": "80,443", "Apache": "80", "Apache Secure": "443"}
_POLICY = {"deny": "DROP", "reject": "REJECT", "allow": "ACCEPT"}
_VERDICT = {"ALLOW": "ACCEPT", "LIMIT": "ACCEPT", "DENY": "DROP", "REJECT": "REJECT"}


@dataclass(frozen=True)
class UfwRule:
    """One row of the status table."""

    number: int  # as `ufw status numbered` (and `ufw delete N`) count them
    line: int
    text: str
    to_address: str  # '' for Anywhere
    to_ports: str  # '' for any port; '2379:2380', '80,443'
    proto: str  # '' for both
    interface: str
    action: str  # ALLOW DENY REJECT LIMIT
    direction: str  # IN OUT FWD
    source: str  # '' for Anywhere
    v6: bool
    app: str


@dataclass
class UfwStatus:
    active: bool = False
    default_incoming: str | None = None  # DROP / REJECT / ACCEPT; None when the status was not verbose
    default_line: int | None = None
    rules: list[UfwRule] = field(default_factory=list)
    ruleset: Ruleset = field(default_factory=lambda: Ruleset("ufw"))


def _target(spec: str) -> tuple[str, str, str, str, bool, str]:
    """'2379/tcp on eth0', '10.0.0.5 2379:2380/tcp', 'OpenSSH (v6)'
    -> (address, ports, proto, iface, v6, app)."""
    v6 = "(v6)" in spec
    spec = spec.replace("(v6)", " ").strip()
    app = ""
    found = re.search(r"\(([^)]*)\)", spec)
    if found:  # '22/tcp (OpenSSH)': the profile name is a label here
        app, spec = found.group(1).strip(), spec.replace(found.group(0), " ").strip()
    iface = ""
    if " on " in f" {spec} ":
        spec, _, iface = spec.partition(" on ")
        if spec == "":
            spec = "Anywhere"
    words = spec.split()
    address = ports = proto = ""
    for word in words:
        if word == "Anywhere":
            continue
        if re.fullmatch(r"[\d:,]+(/\w+)?", word):
            ports, _, proto = word.partition("/")
        elif re.fullmatch(r"[\d.:a-fA-F]+(/\d+)?", word) and ("." in word or ":" in word):
            address = word
        elif not app:
            app = " ".join(words)
            break
    if app and not ports:
        ports = _APPS.get(app, "")
    return address, ports, proto, iface.strip(), v6, app


def parse_ufw(text: str) -> UfwStatus:
    """Parse the status table; rows that do not look like rules are reported as problems."""
    out = UfwStatus()
    table = out.ruleset.table("ufw")
    header_seen = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("Status:"):
            out.active = line.split(":", 1)[1].strip() == "active"
            continue
        found = _DEFAULT.search(line)
        if found:
            out.default_incoming, out.default_line = _POLICY.get(found["policy"].lower()), lineno
            continue
        if line.startswith(("Logging:", "New profiles:", "Default:")):
            continue
        if line.startswith("To ") or set(line) <= set("- "):
            header_seen = True
            continue
        row = _ROW.match(line)
        if not row or not header_seen:
            out.ruleset.problem(f"line {lineno}: not a ufw status row: {line[:80]!r}")
            continue
        address, ports, proto, iface, v6, app = _target(row["to"])
        src = row["src"].replace("(v6)", "").split()
        source = "" if not src or src[0] == "Anywhere" else src[0]
        out.rules.append(UfwRule(len(out.rules) + 1, lineno, line, address, ports, proto, iface,
                                 row["action"], row["dir"] or "IN", source, v6, app))
    if not out.active:
        return out
    chain = table.chain("INPUT", out.default_incoming or "UNKNOWN")  # plain `ufw status` omits it
    chain.hook, chain.line = "input", out.default_line
    implied = [Rule("ufw", "INPUT", 0, 0, "ufw before.rules: accept loopback", (Cond("in", ("lo",)),),
                    "ACCEPT"),
               Rule("ufw", "INPUT", 0, 0, "ufw before.rules: accept related/established",
                    (Cond("ctstate", ("RELATED", "ESTABLISHED")),), "ACCEPT")]
    chain.rules.extend(implied)
    for rule in out.rules:
        if rule.direction != "IN":
            continue
        conds = [Cond("family", ("ipv6" if rule.v6 else "ipv4",))]
        if rule.proto:
            conds.append(Cond("proto", (rule.proto,)))
        if rule.to_ports:
            conds.append(Cond("dport", tuple(rule.to_ports.split(","))))
        elif rule.app:
            conds.append(Cond("other", (f"application profile {rule.app}",)))
        if rule.to_address:
            conds.append(Cond("dst", (rule.to_address,)))
        if rule.source:
            conds.append(Cond("src", (rule.source,)))
        if rule.interface:
            conds.append(Cond("in", (rule.interface,)))
        reject = "tcp-reset" if rule.action == "REJECT" else None
        chain.rules.append(Rule("ufw", "INPUT", rule.number, rule.line, rule.text, tuple(conds),
                                _VERDICT[rule.action], False, reject))
    return out
