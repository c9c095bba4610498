"""A predictable command line: -o replaces a report (never an input), says why it cannot write in
one line, takes .junit and .txt, warns when --format and the file name disagree; --format text is
the whole report; Ctrl-C ends in one line and exit 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from tests.conftest import SAMPLES

SAMPLE = next((SAMPLES / "cascade-etcd-server-cert-expired").glob("*.tar.gz"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_output_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("an older report")
    code, _, err = run("analyze", str(SAMPLE), "-o", str(target))
    assert code == 0, err
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # as any created file, not mkstemp's mode


@pytest.mark.parametrize("which", ["bundle", "waivers"])
def test_output_that_is_an_input_is_refused(tmp_path: Path, which: str) -> None:
    bundle = tmp_path / "cp-1.tar.gz"
    bundle.write_bytes(SAMPLE.read_bytes())
    waivers = tmp_path / "waivers.json"
    waivers.write_text("[]")
    target = bundle if which == "bundle" else waivers
    before = target.read_bytes()
    code, _, err = run("analyze", str(bundle), "--waivers", str(waivers), "-o", str(target), "-f", "json")
    assert code == 2 and err.count("\n") == 1 and "is one of the inputs" in err, err
    assert target.read_bytes() == before


def test_output_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    code, out, err = run("analyze", str(SAMPLE), "-o", str(tmp_path / "missing" / "dir" / "r.html"))
    assert code == 2 and err.count("\n") == 1 and "no folder" in err and not out, err


def test_output_into_a_folder_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("analyze", str(SAMPLE), "-o", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "is a folder" in err, err


@pytest.mark.parametrize(("name", "start"), [("r.junit", "<?xml"), ("r.txt", "Control plane broken")])
def test_output_suffixes(tmp_path: Path, name: str, start: str) -> None:
    code, _, err = run("analyze", str(SAMPLE), "-o", str(tmp_path / name))
    assert code == 0, err
    assert (tmp_path / name).read_text().startswith(start)


def test_format_and_file_name_that_disagree_warn(tmp_path: Path) -> None:
    code, _, err = run("analyze", str(SAMPLE), "-o", str(tmp_path / "x.json"), "--format", "md")
    assert code == 0
    assert "warning: writing md into x.json, whose name says json" in err
    assert (tmp_path / "x.json").read_text().startswith("# kubetriage report")


def test_text_format_is_the_whole_report() -> None:
    code, out, _ = run("analyze", str(SAMPLE), "--format", "json")
    report = json.loads(out)
    code, text, err = run("analyze", str(SAMPLE), "--format", "text")
    assert code == 0, err
    assert len(report["findings"]) > 1 and "… and" not in text
    for finding in report["findings"]:
        assert f"{finding['id']}  {finding['title']}" in text
        for command in finding["remediation"]["commands"]:
            assert f"$ {command}" in text
        for evidence in finding["evidence"]:
            assert f"{evidence['node']}: {evidence['path']}" in text


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """Interrupted while it waits for its input (a pipe nobody has written to yet)."""
    fifo = tmp_path / "bundle.pipe"
    os.mkfifo(fifo)
    argv = [sys.executable, "-c", "from analyzer.cli import run; run()", "analyze", str(fifo)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, "wb"):  # returns once kubetriage opened the pipe: it is past start-up, reading
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err == "kubetriage: interrupted\n" and not out


def test_decrypt_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    from analyzer.trust import keygen

    key, cert = keygen(tmp_path / "keys")
    plain = tmp_path / "b.tar.gz"
    plain.write_bytes(SAMPLE.read_bytes())
    subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", str(plain),
                    "-out", str(tmp_path / "b.tar.gz.cms"), str(cert)], check=True)
    code, out, err = run("decrypt", str(tmp_path / "b.tar.gz.cms"), "--key", str(key),
                         "-o", str(tmp_path / "missing" / "b.tar.gz"))
    assert code == 2 and err.startswith("kubetriage: error: cannot write") and err.count("\n") == 1, err


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_start_up_imports_nothing_heavy(flag: str) -> None:
    """--version and --help stay well under 0.3 s: no pandas, YAML, Jinja2, crypto or parser registry."""
    heavy = ("pandas", "yaml", "jinja2", "cryptography", "analyzer.evidence.types", "analyzer.report")
    probe = ("import sys\nfrom analyzer.cli import main\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout
