"""The analyzer end to end through the CLI: sample in, certificate findings and exit codes out."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from analyzer.cli import main
from tests.conftest import REPO, SAMPLES

SAMPLE = SAMPLES / "certificates-expired-apiserver"
SCHEMA = json.loads((REPO / "analyzer" / "schema" / "report.schema.json").read_text())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_expired_certificate_flagged_with_evidence_and_fix():
    code, out, _ = run("analyze", str(SAMPLE), "--format", "json")
    assert code == 0
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    expired = [f for f in report["findings"] if f["id"] == "CERT_EXPIRED"]
    assert len(expired) == 1
    finding = expired[0]
    assert finding["category"] == "certificates" and finding["severity"] == "critical"
    assert finding["evidence"][0]["path"] == "files/etc/kubernetes/pki/apiserver.crt"
    assert finding["evidence"][0]["line"] == 1
    assert "kubeadm certs renew apiserver" in finding["remediation"]["commands"]
    # errata: static pods are restarted through their manifest, never `kubectl rollout restart`
    assert not any("rollout" in c for c in finding["remediation"]["commands"])


@pytest.mark.parametrize("fail_on, code", [("critical", 1), ("error", 1), ("warning", 1), (None, 0)])
def test_fail_on_exit_codes(fail_on, code):
    args = ["analyze", str(SAMPLE), "--format", "json"] + (["--fail-on", fail_on] if fail_on else [])
    assert run(*args)[0] == code


def test_judged_at_collection_time_not_today(tmp_path):
    """Move collected_at 10 days back: the certificate that was expired is then still valid."""
    bundle = next(SAMPLE.glob("*.tar.gz"))
    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path, filter="data")
    manifest_path = next(tmp_path.glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    from analyzer.bundle import parse_time

    earlier = parse_time(manifest["collected_at"], "t").timestamp() - 10 * 86400
    import datetime as dt

    manifest["collected_at"] = dt.datetime.fromtimestamp(earlier, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    manifest_path.write_text(json.dumps(manifest))
    code, out, _ = run("analyze", str(manifest_path.parent), "--format", "json")
    assert code == 0
    ids = {(f["id"], f["objects"][0]) for f in json.loads(out)["findings"]}
    assert ("CERT_EXPIRED", "/etc/kubernetes/pki/apiserver.crt") not in ids
    assert ("CERT_EXPIRING_SOON", "/etc/kubernetes/pki/apiserver.crt") in ids


@pytest.mark.parametrize("fmt, marker", [("html", "<!DOCTYPE html>"), ("md", "# kubetriage report")])
def test_renders_html_and_markdown(tmp_path, fmt, marker):
    target = tmp_path / f"report.{fmt}"
    code, _, err = run("analyze", str(SAMPLE), "-o", str(target))
    assert code == 0, err
    text = target.read_text()
    assert text.startswith(marker)
    assert "kubeadm certs renew apiserver" in text
    assert "/etc/kubernetes/pki/apiserver.crt" in text


def test_output_is_not_overwritten(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("keep me")
    code, _, err = run("analyze", str(SAMPLE), "-o", str(target))
    assert code == 2 and "exists" in err and target.read_text() == "keep me"


def test_missing_path_exits_2_with_one_line(tmp_path):
    code, out, err = run("analyze", str(tmp_path / "nope.tar.gz"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "no such file or folder" in err


@pytest.mark.parametrize("content", [b"just some text\n", b"\x1f\x8b\x08garbage", b""])
def test_non_bundle_file_exits_2_with_one_line(tmp_path, content):
    bad = tmp_path / "notes.tar.gz"
    bad.write_bytes(content)
    code, _, err = run("analyze", str(bad))
    assert code == 2
    assert err.startswith("kubetriage: error:") and err.strip().count("\n") == 0
    assert "Traceback" not in err


def test_folder_without_a_bundle_is_read_as_loose_files_and_an_empty_one_exits_2(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "random.txt").write_text("x")
    code, out, _ = run("analyze", str(tmp_path / "files"))
    assert code == 2 and out.startswith("Input not understood: none of its 1 line(s)")
    (tmp_path / "empty").mkdir()
    code, _, err = run("analyze", str(tmp_path / "empty"))
    assert code == 2 and "no bundle and no file to read" in err


def test_version():
    code, out, _ = run("--version")
    assert code == 0 and "kubetriage" in out


def test_collect_passes_through_to_the_collector():
    code, out, _ = run("collect", "--help")
    assert code == 0 and "--root" in out and "--dry-run" in out


def test_console_script_installed():
    import shutil

    assert shutil.which("kubetriage"), "pip install -e . must provide the kubetriage command"


def test_bundle_folder_is_the_same_as_tarball(tmp_path):
    bundle = next(SAMPLE.glob("*.tar.gz"))
    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path, filter="data")
    from_dir = json.loads(run("analyze", str(tmp_path), "-f", "json")[1])
    from_tar = json.loads(run("analyze", str(bundle), "-f", "json")[1])
    assert [f["key"] for f in from_dir["findings"]] == [f["key"] for f in from_tar["findings"]]
    assert Path(from_tar["nodes"][0]["source"]).name == bundle.name


def test_a_bug_ends_in_one_line_not_a_traceback(monkeypatch, capsys):
    import analyzer.cli as cli

    def broken(*args: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("analyzer.report.analyze", broken)
    monkeypatch.setattr("sys.argv", ["kubetriage", "analyze", str(SAMPLE)])
    monkeypatch.delenv("KUBETRIAGE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.run()
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("kubetriage: internal error: RuntimeError: boom second line")
    assert err.count("\n") == 1 and "Traceback" not in err
