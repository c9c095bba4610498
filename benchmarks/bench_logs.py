"""Benchmark the log scan against `zcat | grep -cE` on generated control-plane logs.

    python benchmarks/bench_logs.py 100M 1G          # sizes of uncompressed log; prints one table

For each size it writes LOG.gz (a loose log) and a one-node bundle holding the same log as a pod
log, runs `kubetriage analyze` on each in a child process (wall time, MB/s, the child's peak RSS)
and the baseline `zcat LOG.gz | grep -cE '<the signatures>'` (`tar -xzOf BUNDLE | grep -cE ...`
for the bundle), and prints the ratio. The lines are CRI-prefixed klog and etcd zap lines with
varied fields (IDs, latencies, addresses, revisions), so gzip compresses them about 6:1 as it does
real logs; about 3% are error lines taken from real failures (tests/fixtures/real).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analyzer.logs.signatures import SIGNATURES  # noqa: E402

ERROR_SHARE = 0.03
START = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
USER_AGENTS = ("kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/leader-election",
               "kube-scheduler/v1.29.2 (linux/amd64) kubernetes/4b8e819/leader-election",
               "kubelet/v1.29.2 (linux/amd64) kubernetes/4b8e819", "kubectl/v1.29.2 (linux/amd64)")
RESOURCES = ("pods", "leases", "configmaps", "endpointslices", "events", "nodes", "secrets")
NAMESPACES = ("kube-system", "default", "monitoring", "ingress-nginx", "cert-manager")


def _info(r: random.Random, t: dt.datetime) -> str:
    """One ordinary line: API server request logs and cacher notes, etcd compaction and snapshots."""
    klog = f"I{t:%m%d %H:%M:%S}.{t.microsecond:06d}       1 "
    choice = r.random()
    if choice < 0.55:
        res, ns = r.choice(RESOURCES), r.choice(NAMESPACES)
        return (klog + f'httplog.go:132] "HTTP" verb="{r.choice(("GET", "LIST", "PUT", "WATCH"))}" '
                f'URI="/api/v1/namespaces/{ns}/{res}/{res[:-1]}-{r.getrandbits(20):05x}" '
                f'latency="{r.random() * 40:.6f}ms" userAgent="{r.choice(USER_AGENTS)}" '
                f'audit-ID="{r.getrandbits(64):016x}" srcIP="10.{r.randrange(256)}.{r.randrange(256)}.'
                f'{r.randrange(256)}:{r.randrange(30000, 61000)}" resp={r.choice((200, 200, 200, 201, 404))}')
    if choice < 0.75:
        return (f'{{"level":"info","ts":"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z",'
                f'"caller":"mvcc/kvstore_compaction.go:66","msg":"finished scheduled compaction",'
                f'"compact-revision":{r.randrange(10**7)},"took":"{r.random() * 90:.6f}ms",'
                f'"hash":{r.getrandbits(32)}}}')
    if choice < 0.9:
        return klog + (f"cacher.go:{r.randrange(100, 999)}] cacher (*{r.choice(RESOURCES)}): "
                       f"{r.randrange(1, 500)} objects queued in incoming channel.")
    return (f'{{"level":"info","ts":"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z",'
            f'"caller":"etcdserver/server.go:2401","msg":"saved snapshot","snapshot-index":'
            f'{r.randrange(10**8)}}}')


def _real_errors() -> list[str]:
    """Payloads of real failure lines (klog and zap), from the test fixtures."""
    fixtures = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
    lines: list[str] = []
    for name in ("real/klog-apiserver-etcd-refused-k8s-89368.log", "real/klog-apiserver-authn-x509-expired-"
                 "minikube-11966.log", "real/etcd-zap-slow-fdatasync-milvus-21840.log",
                 "logs/etcd-zap-tls-wrong-ca-cp-1.log", "real/klog-scheduler-lease-lost-kubesphere-6501.log"):
        lines += [ln.rstrip() for ln in (fixtures / name).read_text().splitlines()
                  if re.match(r"[WEF]\d{4} |\{\"level\":\"warn\"", ln)]
    return lines


def _retime(line: str, t: dt.datetime) -> str:
    line = re.sub(r"^([WEF])\d{4} \d\d:\d\d:\d\d\.\d{6}", lambda m: f"{m.group(1)}{t:%m%d %H:%M:%S}."
                  f"{t.microsecond:06d}", line)
    return re.sub(r'"ts":"[^"]+"', f'"ts":"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z"', line)


def generate(path: Path, size: int, seed: int = 1) -> int:
    """Write `size` bytes of CRI-format log lines to a gzip file; return the error lines written."""
    r, errors, written, count = random.Random(seed), _real_errors(), 0, 0
    t = START
    with gzip.open(path, "wt", compresslevel=6, encoding="utf-8") as out:
        buffer: list[str] = []
        while written < size:
            t += dt.timedelta(microseconds=r.randrange(200, 4000))
            if r.random() < ERROR_SHARE:
                payload, count = _retime(r.choice(errors), t), count + 1
            else:
                payload = _info(r, t)
            line = f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}{r.randrange(1000):03d}Z stderr F {payload}\n"
            buffer.append(line)
            written += len(line)
            if len(buffer) >= 10_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
    return count


def _parts(log_gz: Path, part_bytes: int) -> Iterator[bytes]:
    """The log in pieces of about part_bytes, cut at line ends."""
    with gzip.open(log_gz, "rb") as source:
        carry = b""
        while True:
            data = carry + source.read(part_bytes)
            if not data:
                return
            cut = data.rfind(b"\n") + 1 or len(data)
            carry = data[cut:]
            yield data[:cut]


def make_bundle(log_gz: Path, bundle: Path, part_bytes: int = 64 * 2**20) -> None:
    """A one-node bundle holding the log as the API server's pod log, split into rotated files as the
    kubelet writes them (the reader also refuses single members over 512 MiB); manifest first."""
    top = "kubetriage-bench-20261120T080000Z"
    folder = "files/var/log/pods/kube-system_kube-apiserver-bench_0123/kube-apiserver"
    items = [{"id": "logs.pod", "kind": "file", "source": f"/{folder.split('/', 1)[1]}/{n}.log",
              "path": f"{folder}/{n}.log", "size": len(part)}
             for n, part in enumerate(_parts(log_gz, part_bytes))]
    manifest = json.dumps({"format_version": 1, "collector_version": "bench", "node": {"hostname": "bench"},
                           "collected_at": "2026-11-27T00:00:00Z", "items": items}).encode()
    with tarfile.open(bundle, "w:gz", compresslevel=6) as tar:
        info = tarfile.TarInfo(f"{top}/manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for item, part in zip(items, _parts(log_gz, part_bytes), strict=True):
            info = tarfile.TarInfo(f"{top}/{item['path']}")
            info.size = len(part)
            tar.addfile(info, io.BytesIO(part))


def ere() -> str:
    """The signatures' patterns as one POSIX ERE for grep -E."""
    parts = []
    for sig in SIGNATURES:
        pattern = sig.pattern.replace("(?i)", "").replace("(?:", "(").replace(r"\d", "[0-9]")
        pattern = pattern.replace("leaderelection lost", "[Ll]eaderelection lost")
        parts.append(pattern)
    return "|".join(parts)


GNU_TIME = "/usr/bin/time"


def _timed_child(argv: list[str], shell: bool = False) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MB of the child, stdout) of one child process.

    The peak comes from GNU time when it is installed: a child forked straight from this (large)
    process would count this process's memory as its own peak."""
    command = ["/bin/sh", "-c", argv[0]] if shell else argv
    measured = os.path.exists(GNU_TIME) and not shell
    if measured:
        command = [GNU_TIME, "-f", "%M", *command]
    start = time.perf_counter()
    child = subprocess.run(command, capture_output=True, check=False)
    wall = time.perf_counter() - start
    peak = int(child.stderr.split()[-1]) // 1024 if measured and child.stderr.split() else -1
    return wall, peak, child.stdout.decode(errors="replace")


def _sizes(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)", text.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: a size like 100M or 1G")
    return int(float(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m.group(2)])


def _runs(size: int, work: Path) -> Iterator[tuple[str, int, float, float, int, float]]:
    log_gz, bundle = work / "LOG.gz", work / "BUNDLE.tar.gz"
    generate(log_gz, size)
    make_bundle(log_gz, bundle)
    pattern = shlex.quote(ere())
    cases = ((log_gz, f"zcat {log_gz} | grep -cE {pattern}"),
             (bundle, f"tar -xzOf {bundle} | grep -cE {pattern}"))
    for target, baseline in cases:
        wall, rss, out = _timed_child([sys.executable, "-c", "from analyzer.cli import main; main()",
                                       "analyze", str(target), "--format", "json", "--quiet"])
        if '"findings"' not in out:
            raise SystemExit(f"kubetriage analyze {target} failed: {out[-500:]}")
        base, _, _ = _timed_child([baseline], shell=True)
        packed = target.stat().st_size
        yield ("loose .gz" if target == log_gz else "bundle", packed, wall, size / 2**20 / wall, rss, base)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="+", type=_sizes, help="uncompressed log sizes, e.g. 100M 1G")
    parser.add_argument("--workdir", type=Path, help="where to write the logs (default: a temp dir)")
    args = parser.parse_args(argv)
    print(f"{'log':>8} {'input':>10} {'gz MB':>7} {'analyze s':>9} {'MB/s':>7} {'peak RSS MB':>11} "
          f"{'grep s':>7} {'ratio':>6}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            for kind, packed, wall, rate, rss, base in _runs(size, Path(tmp)):
                print(f"{size / 2**20:>6.0f}MB {kind:>10} {packed / 2**20:>7.1f} {wall:>9.2f} {rate:>7.1f} "
                      f"{rss:>11} {base:>7.2f} {wall / base:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
