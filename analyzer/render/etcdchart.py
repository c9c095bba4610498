"""The etcd picture: each member (rows) as each node's etcdctl saw it (columns: answered, leader,
failed), its merged state, and its database size against the quota."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..facts.etcd import QUOTA_DEFAULT, EtcdFacts, NodeEtcd
from ..parsers.etcdctl import host_port
from .svg import INK, MUTED, Canvas

GREEN, AMBER, RED, GREY = "#2e8b57", "#d19a00", "#a3162b", "#9aa1ad"
STATE_COLOURS = {"up": GREEN, "unverified": AMBER, "down": RED, "unreachable": RED, "isolated": RED,
                 "unknown": GREY}
MIB = 1024 * 1024


@dataclass(frozen=True)
class Row:
    """A member to draw: its id, label and client endpoints (host:port)."""

    member_id: int
    label: str
    endpoints: frozenset[str]


@dataclass(frozen=True)
class Seen:
    """What one node's etcdctl said about one member."""

    colour: str
    short: str  # fits the column
    words: str
    leader: bool
    db_size: int | None


def _rows(etcd: EtcdFacts) -> list[Row]:
    rows = {m.id: Row(m.id, f"{m.name or '(unstarted)'} {m.hex_id}",
                      frozenset(host_port(u) for u in m.client_urls)) for m in etcd.members()}
    for node in etcd.nodes:  # statuses of members no member list named
        for fact in node.statuses:
            status = fact.status
            if status.member_id is not None and status.member_id not in rows:
                rows[status.member_id] = Row(status.member_id, f"{status.endpoint} {status.member_id:x}",
                                             frozenset({host_port(status.endpoint)}))
    return list(rows.values())


def _seen(node: NodeEtcd, row: Row) -> Seen:
    for fact in node.statuses:
        if fact.status.member_id == row.member_id:
            s = fact.status
            words = "leader" if s.is_leader else ("no leader" if s.leader_id == 0 else "follower")
            return Seen(RED if s.leader_id == 0 else GREEN, words,
                        f"{words}, term {s.raft_term}, index {s.raft_index}", bool(s.is_leader), s.db_size)
    for health in node.health:
        if host_port(health.endpoint) in row.endpoints:
            return Seen(GREEN if health.healthy else RED, "healthy" if health.healthy else "unhealthy",
                        "healthy" if health.healthy else f"unhealthy: {health.error}", False, None)
    for failure in node.failures:
        if host_port(failure.endpoint) in row.endpoints:
            cause = node.cause_for(failure.endpoint)
            kind = cause.kind if cause else ""
            refused = kind in ("tls", "rejected")
            return Seen(AMBER if refused else RED, "TLS refused" if refused else "no answer",
                        f"no answer: {cause.text if cause else failure.error}", False, None)
    return Seen(GREY, "not reported", "not reported", False, None)


def _size(value: int) -> str:
    if value >= 1024 * MIB:
        return f"{value / (1024 * MIB):.1f} GiB"
    return f"{value / MIB:.0f} MiB" if value >= MIB else f"{value / 1024:.0f} KiB"


def etcd_chart(etcd: EtcdFacts) -> Markup | None:
    """The members grid; None when no node's etcdctl said anything about any member."""
    rows = _rows(etcd)
    observers = [n for n in etcd.nodes if n.runs]
    if not rows or not observers:
        return None
    states = {s.member.id: s for s in etcd.states()}
    alarms = {a.alarm.member_id: a.alarm.alarm for n in etcd.nodes for a in n.alarms}
    label_w, col_w, state_w, db_w, row_h, top = 210, 120, 200, 260, 28, 40
    width = label_w + col_w * len(observers) + state_w + db_w
    canvas = Canvas(width, top + row_h * len(rows) + 12, "etcd members as each node saw them")
    canvas.text(4, 16, "member", size=10, fill=MUTED)
    for j, node in enumerate(observers):
        canvas.text(label_w + j * col_w + col_w / 2, 16, f"seen from {node.node}", size=10, fill=MUTED,
                    anchor="middle")
    state_x = label_w + col_w * len(observers)
    canvas.text(state_x, 16, "state (all nodes)", size=10, fill=MUTED)
    canvas.text(state_x + state_w, 16, "db size / quota", size=10, fill=MUTED)
    for i, row in enumerate(rows):
        y = top + i * row_h
        canvas.text(4, y + 4, row.label, tip=", ".join(sorted(row.endpoints)))
        sizes: list[int] = []
        for j, node in enumerate(observers):
            seen = _seen(node, row)
            cx = label_w + j * col_w + 14
            canvas.circle(cx, y, 7, seen.colour, tip=f"{node.node} saw {row.label}: {seen.words}")
            if seen.leader:
                canvas.text(cx + 12, y + 4, "leader", font_weight="bold")
            elif seen.colour != GREEN:
                canvas.text(cx + 12, y + 4, seen.short, fill=seen.colour)
            if seen.db_size is not None:
                sizes.append(seen.db_size)
        state = states.get(row.member_id)
        word = state.state if state else "unknown"
        if state and state.state == "down":
            # say what was seen: no refusal may be a firewall dropping packets, not a stopped etcd
            word = {"no answer": "unreachable"}.get(state.reason, word)
            word = "isolated" if state.reason.startswith("isolated") else word
        alarm = alarms.get(row.member_id)
        canvas.text(state_x, y + 4, word + (f" · alarm {alarm}" if alarm else ""),
                    fill=RED if alarm else STATE_COLOURS.get(word, INK), font_weight="bold",
                    tip=state.reason if state else "no member list named it")
        member = next((m for m in etcd.members() if m.id == row.member_id), None)
        config = etcd.config_of(member) if member else None
        quota = config.quota_bytes if config else QUOTA_DEFAULT
        bar_x, bar_w = state_x + state_w, 110
        canvas.rect(bar_x, y - 6, bar_w, 12, "#eceff3")
        if sizes:
            used = max(sizes) / quota
            colour = RED if used >= 0.95 or alarm else (AMBER if used >= 0.8 else GREEN)
            canvas.rect(bar_x, y - 6, bar_w * min(used, 1.0), 12, colour)
            words = f"{_size(max(sizes))} / {_size(quota)} ({used:.0%})"
        else:
            words = f"unknown / {_size(quota)}"
        canvas.text(bar_x + bar_w + 6, y + 4, words, fill=MUTED,
                    tip="quota from --quota-backend-bytes" if config and config.quota_set
                    else "etcd's default quota (2 GiB)")
    return canvas.markup("chart etcd")
