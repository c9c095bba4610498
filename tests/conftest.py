"""Shared test helpers: build kubeadm-like roots and run the real collector against them."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lab.kubeadm_root import NodeSpec, build_node_root

REPO = Path(__file__).resolve().parents[1]
COLLECTOR = REPO / "collector" / "kubetriage_collect.py"
SAMPLES = REPO / "bundles" / "samples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-goldens", action="store_true",
                     help="rewrite bundles/samples/*/expected.json from the current analysis")


@pytest.fixture
def node_root(tmp_path: Path) -> Callable[..., Path]:
    """Build a kubeadm-like root: node_root(name='cp-1', **NodeSpec fields)."""

    def make(**fields: object) -> Path:
        spec = NodeSpec(**fields)  # type: ignore[arg-type]
        return build_node_root(tmp_path / f"root-{spec.name}", spec)

    return make


def run_collector(root: Path, out: Path, *args: str, python: str = sys.executable,
                  timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the stand-alone collector with no site packages (-I -S), as on a customer's node."""
    return subprocess.run([python, "-I", "-S", str(COLLECTOR), "--root", str(root), "--output", str(out),
                           "--quiet", *args], capture_output=True, text=True, timeout=timeout)


def read_bundle(path: Path) -> tuple[dict, dict[str, bytes]]:
    """(manifest, {member name without top folder: bytes}) of a bundle tarball."""
    files: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        tops = {m.name.split("/", 1)[0] for m in tar.getmembers()}
        assert len(tops) == 1, f"bundle must have one top folder, has {tops}"
        for member in tar.getmembers():
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                files[member.name.split("/", 1)[1]] = handle.read()
    return json.loads(files["manifest.json"]), files
