"""Bundle text never reaches the analyst's shell, page or terminal as anything but text.

Hostile values (tests/hostile/spoof.py) go where bundle values go: node names, member names, pod
and member names, image repositories, certificate paths, /readyz check names. Reports come from
`kubetriage analyze` and `kubetriage verify`, as users run them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from analyzer import cli
from analyzer.cli import main
from tests.hostile import generate, spoof

BASH = shutil.which("bash") or "/bin/bash"


def analyze_json(paths: list[Path]) -> dict[str, object]:
    result = CliRunner().invoke(main, ["analyze", *map(str, paths), "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def commands_of(report: dict[str, object]) -> list[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return [c for f in findings for c in f["remediation"]["commands"]]


def run_pasted(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as an analyst pastes it into bash, where no program exists: only the shell's own
    builtins (echo, redirections, command substitution) can act, and they act only in `cwd`."""
    empty = cwd / "no-programs"
    empty.mkdir(exist_ok=True)
    return subprocess.run([BASH, "--noprofile", "--norc", "-c", command], cwd=cwd, text=True,
                          capture_output=True, timeout=10, env={"PATH": str(empty), "HOME": str(cwd)})


@pytest.fixture(scope="module")
def shell_reports(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    folder = tmp_path_factory.mktemp("poisoned")
    return [analyze_json(nodes) for nodes in spoof.poisoned_samples(folder, spoof.SHELL)]


def test_the_sandbox_would_see_an_injection(tmp_path: Path) -> None:
    """The check below can fail: the hostile value, pasted unquoted, creates its marker files."""
    run_pasted(f"crictl ps -a --name {spoof.SHELL}", tmp_path)
    assert {"pwn1", "pwn2", "pwn3"} <= {p.name for p in tmp_path.glob("pwn*")}


def test_remediation_commands_quote_bundle_values(shell_reports: list[dict[str, object]],
                                                  tmp_path: Path) -> None:
    commands = sorted({c for report in shell_reports for c in commands_of(report)})
    carrying = [c for c in commands if "pwn" in c]
    # node names (comments), member names, images, certificate paths and readyz checks got there
    assert len(carrying) >= 15, carrying
    for needle in ("# on ", "--raw=", "snapshot restore", "--initial-cluster", "crictl pull", "openssl x509"):
        assert any(needle in c for c in carrying), (needle, carrying)
    for command in commands:
        syntax = subprocess.run([BASH, "-n", "-c", command], capture_output=True, text=True)
        assert syntax.returncode == 0, (command, syntax.stderr)
        run_pasted(command, tmp_path)
        assert not list(tmp_path.glob("pwn*")), command


def test_hostile_values_stay_whole_in_commands(shell_reports: list[dict[str, object]]) -> None:
    """Quoting keeps the value: the shell gives the program exactly the bundle's text as one word."""
    readyz = [c for r in shell_reports for c in commands_of(r) if c.startswith("kubectl get --raw=/readyz/")
              or c.startswith("kubectl get --raw='/readyz/")]
    assert readyz, "the hostile readyz check produced no command"
    echoed = subprocess.run([BASH, "-c", readyz[0].replace("kubectl get", "printf %s", 1)],
                            capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert echoed.stdout == f"--raw=/readyz/etcd{spoof.SHELL}"


# -- Markdown and HTML ------------------------------------------------------------------------------
#: a /readyz check name (one word, as the parser takes it) with the same attacks
MARKDOWN_CHECK = "etcd`<img/src=x/onerror=alert(4)>`[y](javascript:alert(5))"


@pytest.fixture(scope="module")
def markdown_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = next(p for p in spoof.samples() if p.parent.name == "apiserver-etcd-refused")
    out = tmp_path_factory.mktemp("markdown") / "cp-1.tar.gz"
    return spoof.poison(sample, out, spoof.MARKDOWN, extra={"k8s.readyz": spoof.readyz(MARKDOWN_CHECK)},
                        hostname_only=True)


def render(bundle: Path, fmt: str) -> str:
    result = CliRunner().invoke(main, ["analyze", str(bundle), "--format", fmt, "-q"])
    assert result.exit_code == 0, result.output
    return result.stdout


class Elements(HTMLParser):
    """Every element and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(page)
    return parser.tags


def assert_inert(page: str, scripts: int) -> None:
    tags = elements(page)
    assert not [t for t, _ in tags if t in ("img", "iframe", "object", "embed")], tags
    assert sum(1 for t, _ in tags if t == "script") == scripts
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    assert not [v for _, attrs in tags for v in attrs.values() if v and "javascript:" in v.lower()]


def test_markdown_report_shows_hostile_names_as_text(markdown_bundle: Path) -> None:
    text = render(markdown_bundle, "md")
    assert "onerror" in text and "javascript:" in text  # the values are in the report, as text
    # rendered as a permissive renderer would: raw HTML allowed, every link target accepted
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    renderer.validateLink = lambda url: True  # type: ignore[method-assign]
    page = renderer.render(text)
    assert_inert(page, scripts=0)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "javascript:alert(5)" in page


def test_html_report_shows_hostile_names_as_text(markdown_bundle: Path) -> None:
    page = render(markdown_bundle, "html")
    assert_inert(page, scripts=1)  # the report's own script, allowed by its CSP hash
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# -- terminals --------------------------------------------------------------------------------------
#: what may reach a terminal as a control character: newlines between lines, our own colours
SGR = re.compile(r"\x1b\[[0-9;]*m")
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_printable(text: str, lines: bool = True) -> None:
    """No control character but our colours; with `lines`, no line that the bundle made up."""
    assert not UNSAFE.search(SGR.sub("", text)), repr(text)
    assert not lines or not [line for line in text.splitlines() if line.startswith("/tmp/fake.tar.gz")], text


@pytest.fixture(scope="module")
def terminal_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile hostname, and a member outside the manifest whose name is made of escapes too."""
    items = generate.good_items()
    evil = generate.Member("files/\x1b[2K\r/tmp/fake.tar.gz: ok\n\u202e.log", b"x\n")
    members = generate.bundle_members(items, [evil], node={"hostname": spoof.TERMINAL, "ips": []})
    return generate.write(tmp_path_factory.mktemp("terminal"), "cp-1.tar.gz", generate.tar_bytes(members))


def test_summary_shows_escapes_as_text(terminal_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)  # progress lines name the node too
    result = CliRunner().invoke(main, ["analyze", str(terminal_bundle)], color=True)
    assert result.exit_code == 0, result.output
    assert SGR.search(result.stdout)  # colours still come through
    assert "\\x1b]0;owned\\x07" in result.stdout and "\\u202e" in result.stdout
    assert_printable(result.stdout)
    assert "\\x1b]0;owned" in result.stderr
    assert_printable(result.stderr)


def test_verify_shows_escapes_as_text(terminal_bundle: Path) -> None:
    result = CliRunner().invoke(main, ["verify", str(terminal_bundle)], color=True)
    assert result.exit_code == 1, result.output  # the extra member is an integrity problem
    assert "\\x1b[2K\\r/tmp/fake.tar.gz: ok\\n" in result.output
    assert_printable(result.output)


def test_errors_show_escapes_as_text(tmp_path: Path) -> None:
    broken = generate.write(tmp_path, "cp\x1b]0;owned\x07\u202e.tar.gz", b"\x1f\x8b not gzip")
    result = CliRunner().invoke(main, ["analyze", str(broken)], color=True)
    assert result.exit_code == 2 and "\\x1b]0;owned\\x07\\u202e" in result.stderr, result.stderr
    assert_printable(result.stderr)


@pytest.mark.parametrize("fmt", ["md", "html", "junit", "json", "sarif"])
def test_reports_show_escapes_as_text(tmp_path: Path, fmt: str) -> None:
    sample = next(p for p in spoof.samples() if p.parent.name == "apiserver-etcd-refused")
    bundle = spoof.poison(sample, tmp_path / "cp-1.tar.gz", spoof.TERMINAL, hostname_only=True)
    text = render(bundle, fmt)
    assert ("\\u001b]0;owned\\u0007" if fmt in ("json", "sarif") else "\\x1b]0;owned\\x07") in text
    assert_printable(text.replace("\t", " "), lines=False)  # a newline is only a space there
