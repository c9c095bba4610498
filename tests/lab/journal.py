"""Capture a real process's log stream and lay it down where a node keeps logs.

`LogCapture` reads a process's stderr line by line and stamps every line when it arrives, as
containerd and journald do. The same real lines are then written as

- the kubelet's static pod log, CRI format (`<RFC3339Nano> stderr F <line>`), under
  /var/log/pods/kube-system_<pod>_<uid>/<container>/<restart>.log;
- a real journal file made by systemd-journal-remote from journal export records, under
  /var/log/journal/<machine-id>/, with the fields `journalctl -u <unit>` matches on
  (`_SYSTEMD_UNIT=<unit>.service`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
#: containerd splits lines longer than this into partial (P) records
CRI_MAX_LINE = 16 * 1024


@dataclass(frozen=True)
class LogLine:
    """One line as the runtime received it."""

    realtime_ns: int
    monotonic_us: int
    pid: int
    text: bytes


@dataclass
class LogCapture:
    """Lines of one process run (one container start), filled by a reader thread."""

    pid: int
    lines: list[LogLine] = field(default_factory=list)
    raw: IO[bytes] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def follow(self, stream: IO[bytes]) -> None:
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        for data in iter(stream.readline, b""):
            line = LogLine(time.time_ns(), time.monotonic_ns() // 1000, self.pid, data.rstrip(b"\n"))
            with self._lock:
                self.lines.append(line)
                if self.raw:
                    self.raw.write(data)
                    self.raw.flush()
        stream.close()

    def join(self, timeout: float = 5) -> None:
        if self._thread:
            self._thread.join(timeout)
        if self.raw:
            self.raw.close()

    def snapshot(self) -> list[LogLine]:
        with self._lock:
            return list(self.lines)


def rfc3339nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC, as containerd writes it (trailing zeros dropped)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    base = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def cri_lines(lines: list[LogLine], stream: str = "stderr") -> bytes:
    out = bytearray()
    for line in lines:
        stamp = rfc3339nano(line.realtime_ns).encode()
        chunks = [line.text[i:i + CRI_MAX_LINE] for i in range(0, len(line.text), CRI_MAX_LINE)] or [b""]
        for n, chunk in enumerate(chunks):
            tag = b"F" if n == len(chunks) - 1 else b"P"
            out += stamp + b" " + stream.encode() + b" " + tag + b" " + chunk + b"\n"
    return bytes(out)


def static_pod_uid(manifest: bytes) -> str:
    """A static pod's UID is a hash of its manifest (the kubelet's config hash)."""
    return hashlib.md5(manifest).hexdigest()  # noqa: S324 - an identifier, not security


def write_pod_logs(root: Path, pod: str, container: str, runs: list[list[LogLine]]) -> Path:
    """Write one CRI log per container start (0.log, 1.log ...) for a kube-system static pod."""
    manifest = root / "etc/kubernetes/manifests" / f"{container}.yaml"
    uid = static_pod_uid(manifest.read_bytes() if manifest.exists() else pod.encode())
    folder = root / "var/log/pods" / f"kube-system_{pod}_{uid}" / container
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.log"):
        old.unlink()
    for restart, lines in enumerate(runs):
        (folder / f"{restart}.log").write_bytes(cri_lines(lines))
    return folder


def machine_id(node: str) -> str:
    """A stable /etc/machine-id per lab node (journald files live under it)."""
    return hashlib.sha256(node.encode()).hexdigest()[:32]


def boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")


def export_records(node: str, unit: str, exe: str, runs: list[list[LogLine]]) -> bytes:
    """Journal export format records, as journald would have stored the unit's stderr."""
    fixed = {"_BOOT_ID": boot_id(), "_MACHINE_ID": machine_id(node), "_HOSTNAME": node,
             "_TRANSPORT": "stdout", "PRIORITY": "6", "SYSLOG_FACILITY": "3", "_UID": "0", "_GID": "0",
             "SYSLOG_IDENTIFIER": Path(exe).name, "_COMM": Path(exe).name, "_EXE": exe,
             "_SYSTEMD_CGROUP": f"/system.slice/{unit}.service", "_SYSTEMD_SLICE": "system.slice",
             "_SYSTEMD_UNIT": f"{unit}.service"}
    out = bytearray()
    for lines in runs:
        for line in lines:
            fields = {"__REALTIME_TIMESTAMP": str(line.realtime_ns // 1000),
                      "__MONOTONIC_TIMESTAMP": str(line.monotonic_us), "_PID": str(line.pid), **fixed}
            for key, value in fields.items():
                out += f"{key}={value}\n".encode()
            if b"\n" in line.text:  # export format: binary-safe encoding for such values
                out += b"MESSAGE\n" + len(line.text).to_bytes(8, "little") + line.text + b"\n"
            else:
                out += b"MESSAGE=" + line.text + b"\n"
            out += b"\n"
    return bytes(out)


def write_journal(root: Path, node: str, unit: str, exe: str, runs: list[list[LogLine]]) -> Path:
    """Turn the unit's real lines into a journal file under <root>/var/log/journal/<machine-id>/."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/machine-id").write_text(machine_id(node) + "\n")
    folder = root / "var/log/journal" / machine_id(node)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{unit}.journal"
    target.unlink(missing_ok=True)
    subprocess.run([JOURNAL_REMOTE, f"--output={target}", "-"], input=export_records(node, unit, exe, runs),
                   check=True, capture_output=True, timeout=30)
    return target
