"""Certificates known only from pasted text (kubeadm's expiration table, `openssl x509 -text`): parsed
from real samples (tests/fixtures/certs/SOURCES.md), judged by the certificate rules, never by the
analyst's clock when the table tells the time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.evidence.recognise import detect
from analyzer.facts import ClusterView
from analyzer.facts.pki import CertificateFact
from analyzer.parsers.kubeadm_certs import parse_check_expiration
from analyzer.parsers.x509 import issued_by, parse_pem
from analyzer.parsers.x509_text import parse_x509_text
from analyzer.report import analyze
from analyzer.rules.certificates import ca_mismatch

FIX = Path(__file__).parent / "fixtures"
CERTS, REAL = FIX / "certs", FIX / "real"
UTC = dt.timezone.utc
TABLES = [CERTS / "kubeadm-certs-v1.33-nectar.txt", CERTS / "kubeadm-alpha-certs-v1.15-devops-note.txt",
          CERTS / "kubeadm-certs-expired-ateng-ops.txt", CERTS / "pasted-check-expiration.txt",
          REAL / "kubeadm-certs-external-etcd-kubeadm-2866.txt", REAL / "kubeadm-certs-alpha-sealer-753.txt"]
OPENSSL3 = ["openssl-x509-text-kubeadm-ca-openssl3", "openssl-x509-text-apiserver-openssl3"]
TEXTS = [*(CERTS / f"{stem}.txt" for stem in OPENSSL3),
         REAL / "openssl-x509-text-apiserver-elided-opsnull.txt"]


def findings(path: Path) -> tuple[list[tuple[str, str, tuple[str, ...]]], dict]:
    result = CliRunner().invoke(main, ["analyze", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    return [(f["id"], f["severity"], tuple(f["objects"])) for f in report["findings"]], report


@pytest.mark.parametrize("path", TABLES + TEXTS, ids=lambda p: p.name)
def test_samples_are_detected_as_their_type(path):
    assert detect(path.read_text()) == ("kubeadm-certs" if path in TABLES else "x509-text")


def test_current_table_rows_and_ca_table():
    table = parse_check_expiration((CERTS / "kubeadm-certs-v1.33-nectar.txt").read_text())
    leaves = [r for r in table.rows if not r.is_ca]
    assert [r.name for r in leaves][-1] == "super-admin.conf" and len(leaves) == 11
    assert {r.name: r.authority for r in leaves}["apiserver-etcd-client"] == "etcd-ca"
    assert [(r.name, r.residual, r.line) for r in table.rows if r.is_ca] == [
        ("ca", "9y", 18), ("etcd-ca", "9y", 19), ("front-proxy-ca", "9y", 20)]
    assert all(r.expires == dt.datetime(2026, 8, 19, 9, 3, tzinfo=UTC) for r in leaves)
    assert not any(r.externally_managed or r.expired for r in table.rows)
    assert (table.missing, table.problems) == ((), ())


def test_old_alpha_format_without_authority_column():
    table = parse_check_expiration((CERTS / "kubeadm-alpha-certs-v1.15-devops-note.txt").read_text())
    assert len(table.rows) == 10 and {r.authority for r in table.rows} == {""}
    assert {r.externally_managed for r in table.rows} == {False}
    assert table.rows[0].expires == dt.datetime(2020, 5, 15, 13, 3, tzinfo=UTC)


def test_empty_authority_cells_of_the_sealer_sample():
    table = parse_check_expiration((REAL / "kubeadm-certs-alpha-sealer-753.txt").read_text())
    authority = {r.name: r.authority for r in table.rows}
    assert authority["admin.conf"] == "" and authority["apiserver"] == "ca"


def test_missing_rows_and_externally_managed():
    text = (CERTS / "kubeadm-certs-v1.33-nectar.txt").read_text()
    text = text.replace("\nca                      Aug 17, 2035 09:03 UTC   9y              no ",
                        "\nca                      Aug 17, 2035 09:03 UTC   9y              yes")
    table = parse_check_expiration(text + "!MISSING! super-admin.conf\n")
    assert [r.name for r in table.rows if r.externally_managed] == ["ca"]
    assert table.missing == ("super-admin.conf",)


def test_printed_at_intersects_every_row():
    """Rows expiring 360d after an Aug 19, 2026 09:03 stamp place kubeadm's clock in the day before
    Aug 24, 2025 09:03; the edited rows (5d, 25d, <invalid>) agree with that."""
    for name in ("kubeadm-certs-v1.33-nectar.txt", "pasted-check-expiration.txt"):
        printed = parse_check_expiration((CERTS / name).read_text()).printed_at()
        assert printed is not None
        assert (printed.earliest, printed.latest) == (dt.datetime(2025, 8, 23, 9, 3, tzinfo=UTC),
                                                      dt.datetime(2025, 8, 24, 9, 4, tzinfo=UTC))
    expired = parse_check_expiration((CERTS / "kubeadm-certs-expired-ateng-ops.txt").read_text()).printed_at()
    assert expired is not None and expired.earliest == dt.datetime(2026, 4, 1, 1, 26, 2, tzinfo=UTC)
    assert parse_check_expiration("no table here").printed_at() is None


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.8, 0.97])
def test_truncated_and_garbled_tables_do_not_crash(cut):
    text = (CERTS / "pasted-check-expiration.txt").read_text()
    part = parse_check_expiration(text[: int(len(text) * cut)])
    assert len(part.rows) <= 14
    bad = text.replace("Aug 19, 2026", "Aug 39, 2026").replace("UTC", "CEST", 1)
    garbled = parse_check_expiration(bad)
    assert garbled.problems and all(p.startswith("line ") for p in garbled.problems)


@pytest.mark.parametrize("stem", OPENSSL3)
def test_openssl_text_says_what_the_pem_says(stem):
    [from_text], problems = parse_x509_text((CERTS / f"{stem}.txt").read_text())
    [from_pem], _ = parse_pem((CERTS / f"{stem}.crt").read_text())
    assert problems == []
    fields = ("subject", "common_name", "issuer", "not_before", "not_after", "is_ca", "dns_names",
              "ip_addresses", "server_auth", "client_auth", "subject_key_id", "authority_key_id", "line")
    assert {f: getattr(from_text, f) for f in fields} == {f: getattr(from_pem, f) for f in fields}
    assert from_text.der == b"" and from_text.fingerprint_sha256.startswith("text:")
    assert from_text.fingerprint_sha256 != from_pem.fingerprint_sha256


def test_several_certificates_and_broken_text():
    one = (CERTS / "openssl-x509-text-apiserver-openssl3.txt").read_text()
    two = (CERTS / "openssl-x509-text-kubeadm-ca-openssl3.txt").read_text()
    certs, problems = parse_x509_text(one + two)
    assert [c.common_name for c in certs] == ["kube-apiserver", "kubernetes"] and problems == []
    assert certs[1].line == one.count("\n") + 1
    for cut in range(0, len(one), 97):
        parse_x509_text(one[:cut])  # must not raise
    certs, problems = parse_x509_text(one.replace("Mar  3 01:20:28 2025 GMT", "tomorrow"))
    assert certs == [] and problems == ["line 1: no Validity dates in this certificate text"]


def test_pasted_check_expiration_is_judged_at_the_tables_own_time():
    found, report = findings(CERTS / "pasted-check-expiration.txt")
    assert found == [
        ("CERT_EXPIRED", "critical", ("/etc/kubernetes/pki/apiserver.crt",)),
        ("CERT_EXPIRED", "critical", ("/etc/kubernetes/pki/apiserver-etcd-client.crt",)),
        ("CERT_EXPIRING_SOON", "error", ("/etc/kubernetes/pki/front-proxy-client.crt",)),
        ("CERT_EXPIRING_SOON", "warning", ("/etc/kubernetes/pki/etcd/server.crt",)),
    ]
    assert report["nodes"][0]["collected_at"] == "2025-08-23T09:03:00+00:00"
    [notice] = report["problems"]
    assert "EXPIRES minus RESIDUAL TIME" in notice and "at most 1 day" in notice
    expired = {f["objects"][0]: f for f in report["findings"] if f["id"] == "CERT_EXPIRED"}
    api = expired["/etc/kubernetes/pki/apiserver.crt"]
    assert "kubeadm certs renew apiserver" in api["remediation"]["commands"]
    assert any(c.startswith("mv /etc/kubernetes/manifests/kube-apiserver.yaml")
               for c in api["remediation"]["commands"])
    [evidence] = api["evidence"]
    assert evidence["line"] == 6 and evidence["excerpt"].startswith("apiserver  ")
    assert "<invalid>" in evidence["excerpt"]


def test_real_expired_table_flags_every_leaf_and_no_ca():
    found, report = findings(CERTS / "kubeadm-certs-expired-ateng-ops.txt")
    assert {f[0] for f in found} == {"CERT_EXPIRED"} and {f[1] for f in found} == {"critical"}
    assert sorted(f[2][0] for f in found) == sorted([
        "/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/apiserver.crt",
        "/etc/kubernetes/pki/apiserver-kubelet-client.crt", "/etc/kubernetes/controller-manager.conf",
        "/etc/kubernetes/pki/front-proxy-client.crt", "/etc/kubernetes/scheduler.conf",
        "/etc/kubernetes/super-admin.conf"])
    assert report["nodes"][0]["collected_at"] == "2026-04-01T01:26:02+00:00"


def test_externally_managed_rows_get_no_kubeadm_renew(tmp_path):
    text = (CERTS / "kubeadm-certs-expired-ateng-ops.txt").read_text()
    edited = tmp_path / "table.txt"
    edited.write_text(text.replace("<invalid>       ca                      no",
                                   "<invalid>       ca                      yes", 1))
    report = analyze([edited])
    admin = next(f for f in report.findings if f.objects == ["/etc/kubernetes/admin.conf"])
    assert not any("kubeadm certs renew" in c for c in admin.remediation.commands)
    apiserver = next(f for f in report.findings if f.objects == ["/etc/kubernetes/pki/apiserver.crt"])
    assert "kubeadm certs renew apiserver" in apiserver.remediation.commands


def test_openssl_text_alone_is_judged_and_says_whose_clock():
    found, report = findings(CERTS / "openssl-x509-text-apiserver-openssl3.txt")
    assert found == [("CERT_EXPIRED", "critical", (str(CERTS / "openssl-x509-text-apiserver-openssl3.txt"),))]
    assert "analyst's clock" in report["problems"][0]


def test_ca_mismatch_skips_certificates_without_der():
    """A signature cannot be checked from text: the rule must not call that a mismatch."""
    [ca], _ = parse_pem((CERTS / "openssl-x509-text-kubeadm-ca-openssl3.crt").read_text())
    [api], _ = parse_x509_text((CERTS / "openssl-x509-text-apiserver-openssl3.txt").read_text())
    view = ClusterView(certificates=[
        CertificateFact("cp-1", "pki.cert", "/etc/kubernetes/pki/ca.crt", "files/ca.crt", ca, None),
        CertificateFact("cp-1", "loose.x509_text", "/etc/kubernetes/pki/apiserver.crt", "api.txt", api,
                        "apiserver")])
    assert not issued_by(api, ca)  # what the rule would otherwise have concluded
    assert list(ca_mismatch(view)) == []
