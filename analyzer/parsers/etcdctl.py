"""etcdctl (v3 API) outputs: endpoint health/status, member list, alarm list, version, client errors.

Real samples from etcd 3.4.23 (tests/fixtures/etcd/SOURCES.md). IDs are decimal in JSON and in
`alarm list`, hex in tables; decimal IDs pass 2^53, so they stay Python ints (never floats).

>>> health = parse_endpoint_health(
...     '[{"endpoint":"https://127.0.0.1:12379","health":true,"took":"7.10975ms"},'
...     '{"endpoint":"https://127.0.0.1:22379","health":false,"took":"5.000278255s",'
...     '"error":"context deadline exceeded"}]')
>>> [(h.endpoint, h.healthy, h.error) for h in health.rows]
[('https://127.0.0.1:12379', True, ''), ('https://127.0.0.1:22379', False, 'context deadline exceeded')]
>>> plain = parse_endpoint_health(
...     "https://127.0.0.1:2379 is healthy: successfully committed proposal: took = 10.119016ms\\n"
...     "https://127.0.0.1:22379 is unhealthy: failed to commit proposal: context deadline exceeded\\n"
...     "Error: unhealthy cluster\\n")
>>> [(h.endpoint, h.healthy, h.line) for h in plain.rows]
[('https://127.0.0.1:2379', True, 1), ('https://127.0.0.1:22379', False, 2)]
>>> status = parse_endpoint_status(
...     '[{"Endpoint":"https://127.0.0.1:2379","Status":{"header":{"cluster_id":8072683597529085533,'
...     '"member_id":3550716309028429110,"revision":7,"raft_term":5},"version":"3.4.23","dbSize":20480,'
...     '"raftIndex":31,"raftTerm":5,"raftAppliedIndex":31,"errors":["etcdserver: no leader"],'
...     '"dbSizeInUse":16384}}]').rows[0]
>>> status.member_id, status.leader_id, status.errors, status.db_size
(3550716309028429110, 0, ('etcdserver: no leader',), 20480)
>>> parse_alarm_list("memberID:2519173957542689282 alarm:NOSPACE \\n").rows[0].alarm
'NOSPACE'
>>> parse_endpoint_status('[{"Endpoint":"https://127.0.0.1:2379","Sta').problems[0][:26]
'not valid JSON: Unterminat'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .yamlsafe import load_json

#: etcdctl output is small; anything past this is not etcdctl output
MAX_JSON_CHARS = 16 * 1024 * 1024
#: etcdserverpb.AlarmType as `alarm list -w json` prints it
ALARM_TYPES = {0: "NONE", 1: "NOSPACE", 2: "CORRUPT"}
#: go-humanize's SI units, as tables print DB SIZE ("20 kB", "1.2 MB")
SIZE_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}

T = TypeVar("T")


@dataclass
class Parsed(Generic[T]):
    """Rows parsed from one output, and what could not be parsed."""

    rows: list[T] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EndpointHealth:
    endpoint: str
    healthy: bool
    took: str
    error: str
    line: int
    raw: str


@dataclass(frozen=True)
class EndpointStatus:
    """One endpoint's status. From tables, leader_id is None (unknown) and sizes are rounded."""

    endpoint: str
    member_id: int | None
    cluster_id: int | None
    leader_id: int | None  # 0: the member knows no leader (JSON omits the field)
    is_leader: bool | None
    is_learner: bool
    version: str
    db_size: int | None
    db_size_in_use: int | None
    revision: int | None
    raft_term: int | None
    raft_index: int | None
    raft_applied_index: int | None
    errors: tuple[str, ...]
    line: int
    raw: str


@dataclass(frozen=True)
class Member:
    id: int
    name: str  # empty while the member has not started
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]
    is_learner: bool
    line: int
    raw: str

    @property
    def hex_id(self) -> str:
        """The form tables and `etcdctl member remove` use."""
        return f"{self.id:x}"


@dataclass
class MemberList:
    cluster_id: int | None = None
    responder_id: int | None = None  # the member that answered
    members: list[Member] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Alarm:
    member_id: int
    alarm: str
    line: int
    raw: str


@dataclass
class EtcdVersion:
    """`etcdctl version` (client and API version) or `etcd --version` (server)."""

    etcdctl: str | None = None
    api: str | None = None
    server: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClientWarning:
    """A clientv3 retry warning (zap JSON on stderr): the gRPC-level reason behind a timeout."""

    target: str  # host:port that was dialled
    cause: str  # innermost gRPC description, e.g. 'connect: connection refused'
    line: int
    raw: str

    @property
    def kind(self) -> str:
        return cause_kind(self.cause)


@dataclass(frozen=True)
class EndpointFailure:
    """`Failed to get the status of endpoint X (context deadline exceeded)` and its like."""

    endpoint: str
    error: str
    line: int
    raw: str


@dataclass
class ClientErrors:
    """What etcdctl printed on stderr besides health lines."""

    warnings: list[ClientWarning] = field(default_factory=list)
    failures: list[EndpointFailure] = field(default_factory=list)
    error: str = ""  # the final 'Error: ...' line, without the prefix
    error_line: int | None = None

    def cause_for(self, endpoint: str) -> ClientWarning | None:
        return most_specific(self.warnings, endpoint)


_CAUSES = (
    ("refused", ("connection refused",)),
    ("tls", ("x509:", "tls:", "authentication handshake failed", "certificate")),
    ("rejected", ("broken pipe", "connection reset")),
    ("closed", ("connection closed", "EOF")),
    ("dns", ("no such host",)),
    ("timeout", ("deadline exceeded", "TransientFailure", "i/o timeout")),
)


def cause_kind(cause: str) -> str:
    """Classify a client-side cause: 'refused' (nothing listening), 'tls' and 'rejected' (a server
    answered, so it is listening), 'closed', 'dns', 'timeout' (nothing more specific) or 'other'.

    >>> cause_kind('transport: Error while dialing dial tcp 127.0.0.1:2390: connect: connection refused')
    'refused'
    >>> cause_kind('latest balancer error: all SubConns are in TransientFailure')
    'timeout'
    """
    for kind, needles in _CAUSES:
        if any(n in cause for n in needles):
            return kind
    return "other"


def most_specific(warnings: list[ClientWarning], endpoint: str) -> ClientWarning | None:
    """The warning about this endpoint (matched by host:port) that says most: not a bare timeout."""
    target = host_port(endpoint)
    found = [w for w in warnings if w.target == target]
    found.sort(key=lambda w: w.kind == "timeout")
    return found[0] if found else None


def host_port(url: str) -> str:
    """'https://10.0.0.1:2379/' -> '10.0.0.1:2379' (how gRPC targets and URLs are matched)."""
    rest = url.strip().split("://", 1)[-1]
    return rest.split("/", 1)[0].lower()


def _load_json(text: str, problems: list[str]) -> Any:
    if len(text) > MAX_JSON_CHARS:
        problems.append(f"larger than {MAX_JSON_CHARS} characters: not read")
        return None
    try:
        return load_json(text)
    except ValueError as exc:  # JSONDecodeError, over-long ints, deep nesting
        problems.append(f"not valid JSON: {str(exc)[:120]}")
        return None


def _uint(value: Any, what: str, problems: list[str]) -> int | None:
    """IDs and counters: only true JSON integers; a float here would already have lost digits."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    problems.append(f"{what} is not a non-negative integer: {str(value)[:40]}")
    return None


def _compact(obj: Any) -> str:
    """The object as etcdctl prints it (compact JSON), for evidence excerpts."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle) if needle else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _json_rows(text: str, problems: list[str]) -> list[dict[str, Any]]:
    data = _load_json(text, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append("expected a JSON list")
        return []
    return [row for row in data if isinstance(row, dict)]


# -- tables ------------------------------------------------------------------------------------
@dataclass
class _Row:
    cells: dict[str, str]
    line: int
    raw: str


def _table(text: str, columns: tuple[str, ...], problems: list[str]) -> list[_Row]:
    """Rows of an etcdctl ASCII table keyed by header; wrapped cells are joined back. Without a header
    (the collector keeps the end of over-long output) the command's known columns are assumed."""
    header: list[str] = []
    rows: list[_Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = list(columns)
            if all(c == c.upper() for c in cells):  # data cells hold lowercase (URLs, hex IDs, booleans)
                header = cells
                continue
        if len(cells) < len(header):
            problems.append(f"line {number}: row cut short")
            continue
        if rows and not cells[0]:  # a continuation row: the first column is empty
            last = rows[-1]
            for name, value in zip(header, cells, strict=False):
                if value:
                    last.cells[name] = f"{last.cells.get(name, '')} {value}".strip()
            last.raw += "\n" + line
            continue
        rows.append(_Row(dict(zip(header, cells, strict=False)), number, line))
    return rows


def _simple(text: str, columns: tuple[str, ...]) -> list[_Row]:
    """Rows of the default 'simple' writer: fields joined by ', ' (the last may hold more)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split(", ")
        if len(parts) < len(columns) - 1 or line.startswith(("{", "Error")):
            continue
        head, tail = parts[:len(columns) - 1], ", ".join(parts[len(columns) - 1:])
        rows.append(_Row(dict(zip(columns, [*head, tail.strip()], strict=True)), number, line))
    return rows


def _hex(value: str, what: str, problems: list[str]) -> int | None:
    try:
        return int(value, 16)
    except ValueError:
        problems.append(f"{what} {value[:30]!r} is not a hex ID")
        return None


def _int_cell(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _bool_cell(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value.lower())


def _size(value: str) -> int | None:
    """'1.2 MB' -> 1200000 (approximate: tables round)."""
    match = re.fullmatch(r"([0-9.]+)\s*([kMGT]?B)", value.strip())
    if not match:
        return None
    try:
        return int(float(match.group(1)) * SIZE_UNITS[match.group(2)])
    except ValueError:
        return None


def _is_table(text: str) -> bool:
    return text.lstrip().startswith(("+", "|"))


def _is_json(text: str) -> bool:
    return text.lstrip().startswith(("[", "{"))


# -- endpoint health -------------------------------------------------------------------------------
HEALTH_LINE = re.compile(r"^(\S+) is (healthy|unhealthy): (.*)$")


def parse_endpoint_health(text: str) -> Parsed[EndpointHealth]:
    """`endpoint health -w json` (stdout) or the plain per-endpoint lines (stderr)."""
    out: Parsed[EndpointHealth] = Parsed()
    if text.lstrip().startswith("["):
        for row in _json_rows(text, out.problems):
            endpoint = row.get("endpoint")
            if not isinstance(endpoint, str):
                out.problems.append("health row without an endpoint")
                continue
            out.rows.append(EndpointHealth(
                endpoint, row.get("health") is True, str(row.get("took") or ""),
                str(row.get("error") or ""), _line_of(text, f'"{endpoint}"'), _compact(row)))
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        match = HEALTH_LINE.match(line.strip())
        if not match:
            continue
        endpoint, state, message = match.groups()
        healthy = state == "healthy"
        took = message.rsplit("took = ", 1)[1] if healthy and "took = " in message else ""
        error = "" if healthy else message.removeprefix("failed to commit proposal: ")
        out.rows.append(EndpointHealth(endpoint, healthy, took, error, number, line.strip()))
    return out


# -- cluster-health (API v2) -----------------------------------------------------------------------
_V2_MEMBER = re.compile(r"^member ([0-9a-f]+) is (healthy|unhealthy|unreachable): (.*)$")
_V2_FAILED = re.compile(r"^failed to check the health of member ([0-9a-f]+) on (\S+?): (.*)$")
_V2_URL = re.compile(r"(?:from |\[)(\w+://[^\s\]]+)")


def parse_cluster_health(text: str) -> Parsed[EndpointHealth]:
    """`etcdctl cluster-health` (API v2): one row per member, keyed by the client URL it names.

    >>> rows = parse_cluster_health(
    ...     "member 2eacd324a7820934 is healthy: got healthy result from http://172.17.8.102:2379\\n"
    ...     "failed to check the health of member 65de4ea85ff20848 on http://172.17.8.103:2379: Get "
    ...     "http://172.17.8.103:2379/health: dial tcp 172.17.8.103:2379: i/o timeout\\n"
    ...     "member 65de4ea85ff20848 is unreachable: [http://172.17.8.103:2379] are all unreachable\\n"
    ...     "cluster is healthy\\n").rows
    >>> [(r.endpoint, r.healthy, r.error[-11:]) for r in rows]
    [('http://172.17.8.102:2379', True, ''), ('http://172.17.8.103:2379', False, 'i/o timeout')]
    """
    out: Parsed[EndpointHealth] = Parsed()
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        failed, member = _V2_FAILED.match(line), _V2_MEMBER.match(line)
        if failed:
            endpoint, healthy, error = failed.group(2), False, failed.group(3)
        elif member:
            url = _V2_URL.search(member.group(3))
            endpoint = url.group(1) if url else member.group(1)
            healthy = member.group(2) == "healthy"
            error = "" if healthy else member.group(3)
        else:
            continue
        if endpoint in seen:  # the cause ("failed to check") came first: keep it
            continue
        seen[endpoint] = number
        out.rows.append(EndpointHealth(endpoint, healthy, "", error, number, line))
    return out


# -- endpoint status -------------------------------------------------------------------------------
STATUS_COLUMNS = ("ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER", "RAFT TERM",
                  "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS")


def _status_from_json(row: dict[str, Any], text: str, problems: list[str]) -> EndpointStatus | None:
    endpoint, status = row.get("Endpoint"), row.get("Status")
    if not isinstance(endpoint, str) or not isinstance(status, dict):
        problems.append("status row without Endpoint/Status")
        return None
    header = status.get("header") if isinstance(status.get("header"), dict) else {}
    assert isinstance(header, dict)
    member = _uint(header.get("member_id"), "member_id", problems)
    leader = _uint(status.get("leader", 0), "leader", problems)
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    assert isinstance(errors, list)
    return EndpointStatus(
        endpoint=endpoint, member_id=member,
        cluster_id=_uint(header.get("cluster_id"), "cluster_id", problems),
        leader_id=leader, is_leader=member is not None and leader == member,
        is_learner=status.get("isLearner") is True, version=str(status.get("version") or ""),
        db_size=_uint(status.get("dbSize"), "dbSize", problems),
        db_size_in_use=_uint(status.get("dbSizeInUse"), "dbSizeInUse", problems),
        revision=_uint(header.get("revision"), "revision", problems),
        raft_term=_uint(status.get("raftTerm"), "raftTerm", problems),
        raft_index=_uint(status.get("raftIndex"), "raftIndex", problems),
        raft_applied_index=_uint(status.get("raftAppliedIndex"), "raftAppliedIndex", problems),
        errors=tuple(str(e).strip() for e in errors),
        line=_line_of(text, f'"Endpoint":"{endpoint}"'), raw=_compact(row))


def _status_from_cells(row: _Row, problems: list[str]) -> EndpointStatus | None:
    cells = row.cells
    if not cells.get("ENDPOINT"):
        problems.append(f"line {row.line}: status row without an endpoint")
        return None
    errors = cells.get("ERRORS", "")
    return EndpointStatus(
        endpoint=cells["ENDPOINT"], member_id=_hex(cells.get("ID", ""), "ID", problems), cluster_id=None,
        leader_id=None, is_leader=_bool_cell(cells.get("IS LEADER", "")),
        is_learner=_bool_cell(cells.get("IS LEARNER", "")) is True, version=cells.get("VERSION", ""),
        db_size=_size(cells.get("DB SIZE", "")), db_size_in_use=_size(cells.get("DB SIZE IN USE", "")),
        revision=None, raft_term=_int_cell(cells.get("RAFT TERM", "")),
        raft_index=_int_cell(cells.get("RAFT INDEX", "")),
        raft_applied_index=_int_cell(cells.get("RAFT APPLIED INDEX", "")),
        errors=tuple(e.strip() for e in errors.split(", ") if e.strip()), line=row.line, raw=row.raw)


def parse_endpoint_status(text: str) -> Parsed[EndpointStatus]:
    """`endpoint status` in json, table or simple form; a wrapped ERRORS cell is joined back.

    >>> row = parse_endpoint_status(
    ...     "|        ENDPOINT        |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER "
    ...     "| RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX |             ERRORS             |\\n"
    ...     "| https://127.0.0.1:3379 | 22f5e75e02bf3a02 |  3.4.23 |  1.2 MB |      true |      false "
    ...     "|         2 |         17 |                 17 |   memberID:2519173957542689282 |\\n"
    ...     "|                        |                  |         |         |           |            "
    ...     "|           |            |                    |                 alarm:NOSPACE  |\\n").rows[0]
    >>> row.member_id, row.db_size, row.is_leader, row.errors
    (2519173957542689282, 1200000, True, ('memberID:2519173957542689282 alarm:NOSPACE',))
    """
    out: Parsed[EndpointStatus] = Parsed()
    if _is_json(text):
        candidates = [_status_from_json(row, text, out.problems) for row in _json_rows(text, out.problems)]
    else:
        table = (_table(text, STATUS_COLUMNS, out.problems) if _is_table(text)
                 else _simple(text, STATUS_COLUMNS))
        candidates = [_status_from_cells(row, out.problems) for row in table]
    out.rows = [s for s in candidates if s is not None]
    return out


# -- member list -----------------------------------------------------------------------------------
MEMBER_COLUMNS = ("ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER")


def _urls(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return tuple(u.strip() for u in value.split(",") if u.strip())
    return ()


def parse_member_list(text: str) -> MemberList:
    """`member list` in json, table or simple form.

    >>> ml = parse_member_list('{"header":{"cluster_id":8072683597529085533,"member_id":'
    ...     '3550716309028429110,"raft_term":2},"members":[{"ID":9767779437885145862,"name":"cp-3",'
    ...     '"peerURLs":["https://127.0.0.1:22380"],"clientURLs":["https://127.0.0.1:22379"]}]}')
    >>> ml.members[0].id, ml.members[0].hex_id, ml.responder_id
    (9767779437885145862, '878e1fa597824306', 3550716309028429110)
    >>> parse_member_list("878e1fa597824306, started, cp-3, https://127.0.0.1:22380, "
    ...                   "https://127.0.0.1:22379, false").members[0].id
    9767779437885145862
    """
    out = MemberList()
    if _is_json(text):
        data = _load_json(text, out.problems)
        if data is None:
            return out
        if not isinstance(data, dict) or not isinstance(data.get("members", []), list):
            out.problems.append("expected a JSON object with a members list")
            return out
        header = data.get("header") if isinstance(data.get("header"), dict) else {}
        assert isinstance(header, dict)
        out.cluster_id = _uint(header.get("cluster_id"), "cluster_id", out.problems)
        out.responder_id = _uint(header.get("member_id"), "member_id", out.problems)
        for raw in data.get("members", []):
            member_id = _uint(raw.get("ID"), "member ID", out.problems) if isinstance(raw, dict) else None
            if member_id is None or not isinstance(raw, dict):
                out.problems.append("member without an integer ID")
                continue
            out.members.append(Member(
                member_id, str(raw.get("name") or ""), _urls(raw.get("peerURLs")),
                _urls(raw.get("clientURLs")), raw.get("isLearner") is True,
                _line_of(text, f'"ID":{member_id}'), _compact(raw)))
        return out
    table = _table(text, MEMBER_COLUMNS, out.problems) if _is_table(text) else _simple(text, MEMBER_COLUMNS)
    for row in table:
        member_id = _hex(row.cells.get("ID", ""), "ID", out.problems)
        if member_id is None:
            continue
        out.members.append(Member(
            member_id, row.cells.get("NAME", ""), _urls(row.cells.get("PEER ADDRS", "")),
            _urls(row.cells.get("CLIENT ADDRS", "")), _bool_cell(row.cells.get("IS LEARNER", "")) is True,
            row.line, row.raw))
    return out


# -- alarm list --------------------------------------------------------------------------------------
ALARM_LINE = re.compile(r"^memberID:(\d+) alarm:([A-Z_]+)\s*$")


def parse_alarm_list(text: str) -> Parsed[Alarm]:
    """`alarm list -w json` (`{}` when none) or its plain `memberID:<decimal> alarm:<TYPE>` lines.

    >>> [(a.member_id, a.alarm) for a in parse_alarm_list(
    ...     '{"alarms":[{"memberID":2519173957542689282,"alarm":1}]}').rows]
    [(2519173957542689282, 'NOSPACE')]
    """
    out: Parsed[Alarm] = Parsed()
    if _is_json(text):
        data = _load_json(text, out.problems)
        if data is None:
            return out
        alarms = data.get("alarms", []) if isinstance(data, dict) else None
        if not isinstance(alarms, list):
            out.problems.append("expected a JSON object with an alarms list")
            return out
        for raw in alarms:
            if not isinstance(raw, dict):
                continue
            member = _uint(raw.get("memberID"), "memberID", out.problems)
            kind = raw.get("alarm", 0)
            name = ALARM_TYPES.get(kind, f"UNKNOWN({kind})") if isinstance(kind, int) else str(kind)
            if member is not None and name != "NONE":
                out.rows.append(Alarm(member, name, _line_of(text, f'"memberID":{member}'), _compact(raw)))
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        match = ALARM_LINE.match(line.strip())
        if match:
            out.rows.append(Alarm(int(match.group(1)), match.group(2), number, line.strip()))
        elif line.strip():
            out.problems.append(f"line {number}: not an alarm line: {line.strip()[:80]}")
    return out


# -- version ----------------------------------------------------------------------------------------
def parse_version(text: str) -> EtcdVersion:
    """`etcdctl version` or `etcd --version`.

    >>> v = parse_version("etcdctl version: 3.4.23\\nAPI version: 3.4\\n")
    >>> v.etcdctl, v.api, v.server
    ('3.4.23', '3.4', None)
    """
    out = EtcdVersion()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        if key == "etcdctl version":
            out.etcdctl = value
        elif key == "API version":
            out.api = value
        elif key == "etcd Version":
            out.server = value
    if text.strip() and not (out.etcdctl or out.server):
        out.problems.append("no version line found")
    return out


# -- client errors on stderr -----------------------------------------------------------------------------
FAILED_LINE = re.compile(r"^Failed to get the (?:status|hash) of endpoint (\S+) \((.*)\)$")


def innermost_cause(error: str) -> str:
    """The last gRPC `desc = ...` of an error chain, unquoted.

    >>> innermost_cause('rpc error: code = DeadlineExceeded desc = latest balancer error: connection '
    ...     'error: desc = "transport: Error while dialing dial tcp 127.0.0.1:22379: connect: connection '
    ...     'refused"')
    'transport: Error while dialing dial tcp 127.0.0.1:22379: connect: connection refused'
    """
    cause = error.rsplit("desc = ", 1)[-1].strip()
    if len(cause) >= 2 and cause[0] == cause[-1] == '"':
        cause = cause[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return cause


def parse_client_errors(text: str) -> ClientErrors:
    """etcdctl's stderr: clientv3 warnings, per-endpoint failures and the final `Error:` line.

    >>> errs = parse_client_errors(
    ...     '{"level":"warn","ts":"2026-11-27T02:01:27.851Z","caller":"clientv3/retry_interceptor.go:62",'
    ...     '"msg":"retrying of unary invoker failed","target":"passthrough:///https://127.0.0.1:4379",'
    ...     '"attempt":0,"error":"rpc error: code = DeadlineExceeded desc = latest balancer error: '
    ...     'connection error: desc = \\\\"transport: authentication handshake failed: x509: certificate '
    ...     'has expired or is not yet valid\\\\""}\\n'
    ...     'Failed to get the status of endpoint https://127.0.0.1:4379 (context deadline exceeded)\\n')
    >>> w = errs.cause_for("https://127.0.0.1:4379")
    >>> w.kind, w.cause
    ('tls', 'transport: authentication handshake failed: x509: certificate has expired or is not yet valid')
    >>> errs.failures[0].error
    'context deadline exceeded'
    """
    out = ClientErrors()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("{") and '"error"' in stripped:
            problems: list[str] = []
            entry = _load_json(stripped, problems)
            if isinstance(entry, dict) and isinstance(entry.get("error"), str):
                target = str(entry.get("target") or "").rsplit("/", 1)[-1].lower()
                out.warnings.append(ClientWarning(target, innermost_cause(entry["error"]), number, stripped))
            continue
        match = FAILED_LINE.match(stripped)
        if match:
            out.failures.append(EndpointFailure(match.group(1), match.group(2), number, stripped))
        elif stripped.startswith("Error: "):
            out.error, out.error_line = stripped.removeprefix("Error: "), number
    return out
