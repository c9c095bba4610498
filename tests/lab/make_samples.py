"""Regenerate the sample bundles in bundles/samples/ with the real collector.

    python -m tests.lab.make_samples                 # every scenario
    python -m tests.lab.make_samples NAME ...        # some
    python -m tests.lab.make_samples --list

Each scenario builds kubeadm-like node roots (tests/lab/kubeadm_root.py), injects its fault, runs
collector/kubetriage_collect.py against each root, and replaces the sample's bundles. The sample's
README.md is written by hand; its expected.json is refreshed by
`pytest tests/test_samples.py --regen-goldens` (review the diff before committing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .kubeadm_root import UTC, ClusterPKI, NodeSpec, build_node_root

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "bundles" / "samples"
COLLECTOR = REPO / "collector" / "kubetriage_collect.py"
#: items that talk to a live etcd or API server; scenarios without one exclude them
LIVE_CLUSTER_ITEMS = ["etcd.version", "etcd.endpoint_*", "etcd.member_list", "etcd.alarm_list", "k8s.healthz"]


@dataclass
class Scenario:
    """One sample: the nodes to build and how to collect them."""

    name: str
    summary: str
    nodes: list[NodeSpec]
    exclude: list[str] = field(default_factory=list)
    prepare: Callable[[list[Path]], None] | None = None


def collect(root: Path, out_dir: Path, node: str, exclude: list[str]) -> Path:
    """Run the stand-alone collector as a customer would, with python3 only (-I: no site packages)."""
    argv = [sys.executable, "-I", str(COLLECTOR), "--root", str(root), "--output", str(out_dir),
            "--node-name", node, "--quiet", "--deadline", "120"]
    if exclude:
        argv += ["--exclude", *exclude]
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    return Path(result.stdout.strip().splitlines()[-1])


def build(scenario: Scenario, dest: Path) -> list[Path]:
    """Build the scenario's nodes and collect one bundle per node into dest (old bundles removed)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("kubetriage-*.tar.gz"):
        old.unlink()
    pki = ClusterPKI(dt.datetime.now(UTC))
    bundles = []
    with tempfile.TemporaryDirectory(prefix=f"kubetriage-lab-{scenario.name}-") as tmp:
        roots = [build_node_root(Path(tmp) / spec.name, spec, pki) for spec in scenario.nodes]
        if scenario.prepare:
            scenario.prepare(roots)
        for spec, root in zip(scenario.nodes, roots, strict=True):
            bundles.append(collect(root, dest, spec.name, scenario.exclude))
    return bundles


SCENARIOS = {s.name: s for s in [
    Scenario(
        "certificates-expired-apiserver",
        "1 node: the API server's serving certificate expired 3 days before collection; the "
        "front-proxy client certificate expires in 20 days.",
        [NodeSpec(name="cp-1", ip="10.0.0.11",
                  validity={"apiserver": (-368, -3), "front-proxy-client": (-345, 20)})],
        exclude=LIVE_CLUSTER_ITEMS,
    ),
]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="scenarios to rebuild (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    args = parser.parse_args(argv)
    if args.list:
        for s in SCENARIOS.values():
            print(f"{s.name:40} {s.summary}")
        return 0
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    for name in args.names or list(SCENARIOS):
        started = time.monotonic()
        bundles = build(SCENARIOS[name], SAMPLES / name)
        print(f"{name}: {len(bundles)} bundle(s) in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
