"""The repository's own contracts: lint and types clean, the collector stdlib-only."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

import pytest

from tests.conftest import COLLECTOR, REPO


@pytest.mark.parametrize("tool, args", [("ruff", ["check", "."]), ("mypy", [])])
def test_tool_is_clean(tool, args):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (pip install -e .[test])")
    result = subprocess.run([tool, *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_collector_imports_only_the_standard_library():
    modules = set()
    for node in ast.walk(ast.parse(COLLECTOR.read_text())):
        if isinstance(node, ast.Import):
            modules.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    assert modules, "the collector imports at least os and sys"
    assert modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)
