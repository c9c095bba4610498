"""Benchmark the collector against floors measured in the same run.

    python benchmarks/bench_collector.py                       # 400 pod logs of 5 MB, 64 MB redaction
    python benchmarks/bench_collector.py --files 100 --file-size 5M --redact-size 32M

Three measurements, each printed with its floor and the ratio:
- redaction: the collector's one secret finder over generated control-plane logs (bench_logs.py's
  CRI-prefixed klog and etcd lines, 3% real failure lines), MB/s; the floor is one regex pass for a
  single literal over the same bytes (the cheapest scan Python can make). Target: >= 50 MB/s.
- many files: a kubeadm-like node root with N pod logs, the collector run as a customer runs it
  (`python3 -I -S kubetriage_collect.py --root ROOT`, defaults); the floor is `tar czf` of the
  log bytes the bundle can keep (the 100 MiB logs budget). Target for 400 x 5 MB: <= 30 s.
- etcd unreachable: the same root whose etcd listens nowhere, `--cluster-commands`, the etcd rows
  only, with the real etcdctl; the floor is one etcdctl probe against the same dead address.
  Target: <= 10 s. Skipped, saying so, when etcdctl is not installed.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.bench_logs import generate  # noqa: E402
from collector import kubetriage_collect as kc  # noqa: E402
from tests.lab.kubeadm_root import NodeSpec, build_node_root  # noqa: E402

COLLECTOR = REPO / "collector" / "kubetriage_collect.py"
MB = 1024 * 1024


def size_arg(text: str) -> int:
    match = re.fullmatch(r"(\d+)([KMG]?)", text.upper())
    if not match:
        raise argparse.ArgumentTypeError(f"a size like 5M or 1G, not {text!r}")
    return int(match.group(1)) * {"": 1, "K": 1024, "M": MB, "G": 1024 * MB}[match.group(2)]


def log_bytes(size: int, work: Path) -> bytes:
    gz = work / "log.gz"
    generate(gz, size)
    return gzip.decompress(gz.read_bytes())[:size]


def best_of(runs: int, work: callable) -> float:  # type: ignore[valid-type]
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def bench_redaction(size: int, work: Path) -> tuple[str, ...]:
    data = log_bytes(size, work)
    redact = best_of(3, lambda: kc.redact("text", data))
    literal = re.compile(rb"eyJ")
    floor = best_of(3, lambda: sum(1 for _ in literal.finditer(data)))
    rate = len(data) / MB / redact
    return ("redaction", f"{len(data) / MB:.0f} MB of logs", f"{redact:.2f} s = {rate:.0f} MB/s",
            f"one literal pass {floor:.2f} s", f"{redact / floor:.1f}",
            "ok" if rate >= 50 else "BELOW 50 MB/s")


def node_root(work: Path) -> Path:
    return build_node_root(work / "root", NodeSpec(name="cp-1"))


def run_collector(root: Path, out: Path, *args: str) -> float:
    out.mkdir(exist_ok=True)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", str(COLLECTOR), "--root", str(root), "--output", str(out),
                    "--quiet", *args], check=True, capture_output=True, timeout=900,
                   env={"PATH": os.environ.get("BENCH_PATH", "/nonexistent")})
    return time.perf_counter() - began


def bench_many_files(files: int, file_size: int, work: Path) -> tuple[str, ...]:
    root = node_root(work)
    chunk = log_bytes(file_size, work)
    pods = root / "var/log/pods"
    paths = []
    for n in range(files):
        path = pods / f"kube-system_app-{n:04d}_{n:032x}" / "app" / "0.log"
        path.parent.mkdir(parents=True)
        path.write_bytes(chunk)
        paths.append(path)
    wall = run_collector(root, work / "out-files")
    kept = paths[:max(1, kc.LOGS_TOTAL_CAP // file_size)]
    began = time.perf_counter()  # to a pipe: GNU tar reads nothing when the archive is /dev/null
    subprocess.run(f"tar czf - {' '.join(map(str, kept))} | cat > /dev/null", shell=True, check=True,
                   stderr=subprocess.DEVNULL)
    floor = time.perf_counter() - began
    return ("many files", f"{files} x {file_size / MB:.0f} MB pod logs", f"{wall:.1f} s",
            f"tar czf of the {len(kept) * file_size / MB:.0f} MB kept {floor:.1f} s", f"{wall / floor:.1f}",
            "ok" if files * file_size < 2 * 1024 * MB or wall <= 30 else "ABOVE 30 s")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_etcd_unreachable(work: Path) -> tuple[str, ...]:
    etcdctl = shutil.which("etcdctl")
    if etcdctl is None:
        return ("etcd unreachable", "-", "skipped: etcdctl not installed", "-", "-", "-")
    root = build_node_root(work / "root-etcd", NodeSpec(name="cp-1"))
    port = closed_port()
    manifest = root / "etc/kubernetes/manifests/etcd.yaml"
    manifest.write_text(re.sub(r"--advertise-client-urls=\S+",
                               f"--advertise-client-urls=https://127.0.0.1:{port}", manifest.read_text()))
    os.environ["BENCH_PATH"] = os.path.dirname(etcdctl)
    others = [s.id for s in kc.SPECS if not s.id.startswith("etcd.")]
    wall = run_collector(root, work / "out-etcd", "--cluster-commands", "--exclude", *others)
    began = time.perf_counter()
    subprocess.run([etcdctl, f"--endpoints=https://127.0.0.1:{port}", "--dial-timeout=3s",
                    "--command-timeout=5s", "endpoint", "status"], capture_output=True, timeout=60,
                   env={"ETCDCTL_API": "3"})
    floor = time.perf_counter() - began
    return ("etcd unreachable", "etcd rows, defaults", f"{wall:.1f} s", f"one etcdctl probe {floor:.1f} s",
            f"{wall / floor:.1f}", "ok" if wall <= 10 else "ABOVE 10 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--file-size", type=size_arg, default=5 * MB)
    parser.add_argument("--redact-size", type=size_arg, default=64 * MB)
    args = parser.parse_args(argv)
    rows = [("what", "input", "collector", "floor (same run)", "ratio", "target")]
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        work = Path(tmp)
        for bench in (lambda: bench_redaction(args.redact_size, work),
                      lambda: bench_many_files(args.files, args.file_size, work),
                      lambda: bench_etcd_unreachable(work)):
            rows.append(bench())
            print(" | ".join(rows[-1]), flush=True)
    print()
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
