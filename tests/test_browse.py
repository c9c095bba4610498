"""`kubetriage show` and `kubetriage grep`: browse a bundle as files, through the CLI as users run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main
from tests.bundle_builder import BundleBuilder

SAMPLES = Path(__file__).resolve().parent.parent / "bundles" / "samples"
NOSPACE = SAMPLES / "etcd-nospace"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_show_lists_every_item_with_its_fate() -> None:
    code, out, _ = run("show", str(NOSPACE))
    assert code == 0
    assert out.startswith("node ")
    rows = [ln.split() for ln in out.splitlines()[1:]]
    ids = {r[0] for r in rows}
    assert {"etcd.endpoint_status", "etcd.alarm_list", "k8s.static_pod_manifest"} <= ids
    assert any(r[2] == "skipped:" for r in rows)  # what was not found is listed too, not hidden


def test_show_item_prints_numbered_lines_by_id_or_path() -> None:
    code, out, _ = run("show", str(NOSPACE), "etcd.alarm_list")
    assert code == 0
    assert out.count("==> ") == 3 and '"alarm":1' in out  # one per node
    assert out.splitlines()[1].split()[0] == "1"
    path = out.splitlines()[0].split(": ", 1)[1].removesuffix(" <==")
    code, by_path, _ = run("show", str(NOSPACE), path)
    assert code == 0 and by_path == out


def test_show_unknown_item_is_one_line_exit_2() -> None:
    code, _, err = run("show", str(NOSPACE), "no.such.item")
    assert code == 2
    assert err.count("\n") == 1 and "no item or file 'no.such.item'" in err


def test_grep_prints_bundle_path_line_and_exits_like_grep() -> None:
    code, out, _ = run("grep", "-i", "nospace", str(NOSPACE))
    assert code == 0
    first = out.splitlines()[0]
    source, path, line, text = first.split(":", 3)
    assert source.endswith(".tar.gz") and line.isdigit() and "nospace" in text.lower()
    assert run("grep", "-F", "(unlikely text)", str(NOSPACE))[0] == 1
    code, _, err = run("grep", "(", str(NOSPACE))
    assert code == 2 and err.startswith("kubetriage: error: bad pattern")


def test_grep_limits_to_one_item() -> None:
    code, out, _ = run("grep", "--item", "etcd.alarm_list", "alarm", str(NOSPACE))
    assert code == 0
    assert all("alarm_list" in ln.split(":")[1] for ln in out.splitlines())


def test_hostile_text_cannot_drive_the_terminal(tmp_path: Path) -> None:
    # an OSC title change, a screen clear and a right-to-left override planted in a log line
    hostile = "E1127 02:00:00.000000 1 x.go:1] boom \x1b]0;owned\x07\x1b[2J\u202egnp.exe\n"
    node = BundleBuilder("cp-\x1b[31m1").file("logs.pod", "/var/log/pods/x/0.log", hostile)
    bundle = node.write(tmp_path)
    for args in (("show", str(bundle)), ("show", str(bundle), "logs.pod"), ("grep", "boom", str(bundle))):
        code, out, _ = run(*args)
        assert code == 0, args
        assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\x1b]0;owned\\x07" in run("grep", "boom", str(bundle))[1]


def test_grep_into_a_closed_pipe_is_quiet() -> None:
    # the user's `kubetriage grep ... | head -1`: no BrokenPipeError traceback
    shell = (f"{sys.executable} -c 'from analyzer.cli import run; run()' grep . {NOSPACE} | head -1")
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
