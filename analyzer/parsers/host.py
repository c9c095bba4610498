"""Host state: `df -P -k` (and `df -h` pasted into tickets), `timedatectl status`, `chronyc tracking`.

`df -P -k` on a filled etcd data dir (a 1 MiB tmpfs, tests/fixtures/network/make_captures.sh):

>>> disks = parse_df('''Filesystem     1024-blocks  Used Available Capacity Mounted on
... kt-etcd               1024  1024         0     100% /var/lib/etcd
... kt-var                4096  3600       496      88% /mnt''')
>>> [(d.mount, d.percent, d.available_kb, d.line) for d in disks.disks]
[('/var/lib/etcd', 100, 0, 2), ('/mnt', 88, 496, 3)]

`df -h` (tests/fixtures/real/df-h-full-root-minikube-9024.txt):

>>> [(d.mount, d.percent, d.size_kb) for d in parse_df('''Filesystem      Size  Used Avail Use% Mounted on
... overlay         7.9G  7.8G     0 100% /''').disks]
[('/', 100, 8283750)]

`timedatectl` (tests/fixtures/real/timesync-timedatectl-not-synced-cb1-188.txt, trimmed):

>>> t = parse_timedatectl('''               Local time: Wed 2024-07-31 00:20:55 UTC
... System clock synchronized: no
...               NTP service: inactive''')
>>> t.synchronized, t.ntp_service, t.line
(False, 'inactive', 2)

`chronyc tracking` (tests/fixtures/real/timesync-chronyc-tracking-skew-telegraf-2988.txt, trimmed):

>>> c = parse_chrony('''Reference ID    : 10.0.99.22 (ntp2.chewy.local)
... Stratum         : 4
... System time     : 7495.370605469 seconds slow of NTP time
... Leap status     : Normal''')
>>> c.offset_s, c.synchronized, c.reference, c.line
(-7495.370605469, True, '10.0.99.22 (ntp2.chewy.local)', 4)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNITS = {"": 1 / 1024, "B": 1 / 1024, "K": 1, "M": 1024, "G": 1024**2, "T": 1024**3, "P": 1024**4}


@dataclass(frozen=True)
class Disk:
    filesystem: str
    size_kb: int
    used_kb: int
    available_kb: int
    percent: int
    mount: str
    line: int
    text: str


@dataclass
class DiskUsage:
    disks: list[Disk] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _kb(value: str, human: bool) -> int | None:
    if not human:
        return int(value) if value.isdigit() else None
    found = re.fullmatch(r"([\d.]+)([BKMGTP]?)i?", value)
    if not found:
        return None
    return int(float(found.group(1)) * _UNITS[found.group(2)])


def parse_df(text: str) -> DiskUsage:
    """Rows of `df -P -k` or `df -h` (sizes in KiB either way; the mount point may contain spaces)."""
    out = DiskUsage()
    human = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("Filesystem"):
            human = "Size" in line.split()
            continue
        words = line.split(None, 5)
        if len(words) < 6 or not words[4].endswith("%"):
            if len(out.problems) < 20:
                out.problems.append(f"line {lineno}: not a df row: {line[:80]!r}")
            continue
        sizes = [_kb(w, human) for w in words[1:4]]
        percent = words[4].rstrip("%")
        if None in sizes or not percent.isdigit():
            continue  # '-' for pseudo filesystems
        size, used, avail = (s or 0 for s in sizes)
        out.disks.append(Disk(words[0], size, used, avail, int(percent), words[5], lineno, line.strip()))
    return out


@dataclass
class TimeSync:
    """What one time tool says. `synchronized` None when it does not say."""

    tool: str
    synchronized: bool | None = None
    line: int | None = None  # the line that says whether the clock is synchronised
    text: str = ""
    ntp_service: str = ""
    offset_s: float | None = None  # node clock minus NTP time (chrony): positive = ahead
    offset_line: int | None = None
    reference: str = ""
    stratum: int | None = None
    leap: str = ""


def _fields(text: str) -> list[tuple[int, str, str, str]]:
    rows = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        key, sep, value = raw.partition(":")
        if sep:
            rows.append((lineno, key.strip(), value.strip(), raw.strip()))
    return rows


def parse_timedatectl(text: str) -> TimeSync:
    """`timedatectl status` from systemd >= 239 ('System clock synchronized', 'NTP service'),
    older ones ('NTP synchronized', 'Network time on') and 235-238 ('systemd-timesyncd.service active')."""
    out = TimeSync("timedatectl")
    for lineno, key, value, line in _fields(text):
        if key in ("System clock synchronized", "NTP synchronized"):
            out.synchronized, out.line, out.text = {"yes": True, "no": False}.get(value), lineno, line
        elif key in ("NTP service", "Network time on", "systemd-timesyncd.service active"):
            out.ntp_service = {"yes": "active", "no": "inactive"}.get(value, value)
    return out


def parse_chrony(text: str) -> TimeSync:
    """`chronyc tracking`: synchronised unless the leap status says so or there is no reference."""
    out = TimeSync("chrony")
    for lineno, key, value, line in _fields(text):
        if key == "Reference ID":
            out.reference = value
        elif key == "Stratum" and value.isdigit():
            out.stratum = int(value)
        elif key == "System time":
            found = re.match(r"([\d.]+) seconds (fast|slow)", value)
            if found:
                seconds = float(found.group(1))
                out.offset_s = seconds if found.group(2) == "fast" else -seconds
                out.offset_line = lineno
        elif key == "Leap status":
            out.leap, out.line, out.text = value, lineno, line
    if out.leap or out.reference:
        unsynced = out.leap.lower().startswith("not synchron") or out.reference.startswith("00000000") \
            or out.stratum == 0
        out.synchronized = not unsynced
        if out.line is None:
            out.line = out.offset_line
    return out


# -- du -sk ----------------------------------------------------------------------------------------
_DU_LINE = re.compile(r"^(\d+)\s+(\S.*)$", re.M)


@dataclass(frozen=True)
class DirUsage:
    path: str
    kib: int
    line: int
    text: str


def parse_du(text: str) -> DirUsage | None:
    """`du -sk DIR`: the first total and its folder; None when there is none.

    >>> parse_du("20652\\t/var/lib/etcd\\n")
    DirUsage(path='/var/lib/etcd', kib=20652, line=1, text='20652\\t/var/lib/etcd')
    """
    match = _DU_LINE.search(text)
    if match is None:
        return None
    return DirUsage(match.group(2).strip(), int(match.group(1)), text.count("\n", 0, match.start()) + 1,
                    match.group(0))


# -- systemctl status ------------------------------------------------------------------------------
_UNIT = re.compile(r"^\s*[●○×*]?\s*([\w@.-]+\.service)\s+-\s+(.*)$")
_ACTIVE = re.compile(r"^\s*Active:\s+(\w+)\s+\(([^)]*)\)(?:\s+\(Result:\s+([\w-]+)\))?(?:\s+since\s+(.*?);)?")
_EXIT = re.compile(r"code=(\w+), status=(\d+)(?:/(\w+))?")


@dataclass(frozen=True)
class UnitStatus:
    """One unit in `systemctl status`: its state, why it last stopped, the line that says so."""

    unit: str
    active: str  # active | activating | inactive | failed | ...
    sub: str  # running | auto-restart | dead | ...
    result: str  # exit-code, signal, ... ('' when systemd gave none)
    exit_status: int | None
    line: int
    text: str

    @property
    def failing(self) -> bool:
        """Not running, or restarting after a failure."""
        return self.active in ("failed", "inactive") or bool(self.result) or self.sub == "auto-restart"


def parse_systemctl_status(text: str) -> list[UnitStatus]:
    """`systemctl status UNIT...`, indented as systemd prints it or flush left as web forms keep it
    (tests/fixtures/real/systemctl-status-kubelet-failed-kubelet-4.txt, trimmed):

    >>> [u] = parse_systemctl_status('''● kubelet.service - kubelet: The Kubernetes Node Agent
    ...    Loaded: loaded (/usr/lib/systemd/system/kubelet.service; enabled; vendor preset: disabled)
    ...    Active: activating (auto-restart) (Result: exit-code) since Tue 2019-09-10 16:17:59 EDT; 5s ago
    ...  Main PID: 8695 (code=exited, status=255)''')
    >>> u.unit, u.active, u.sub, u.result, u.exit_status, u.line, u.failing
    ('kubelet.service', 'activating', 'auto-restart', 'exit-code', 255, 3, True)
    """
    units: list[UnitStatus] = []
    name, active = "", None
    for number, line in enumerate(text.splitlines(), start=1):
        head = _UNIT.match(line)
        if head:
            if active is not None:
                units.append(active)
            name, active = head.group(1), None
            continue
        match = _ACTIVE.match(line)
        if match and name:
            active = UnitStatus(name, match.group(1), match.group(2), match.group(3) or "", None, number,
                                line.strip())
        exits = active is not None and re.match(r"\s*(?:Main PID|Process):", line)
        code = _EXIT.search(line) if exits else None
        if code and active is not None and active.exit_status is None:
            active = UnitStatus(active.unit, active.active, active.sub, active.result, int(code.group(2)),
                                active.line, active.text)
    if active is not None:
        units.append(active)
    return units
