"""Redaction keeps structured log lines parseable: etcd's zap JSON stays valid JSON."""

from __future__ import annotations

import json

from collector.kubetriage_collect import REDACTED, redact_bytes
from tests.conftest import REPO

ZAP_LOG = REPO / "tests" / "fixtures" / "logs" / "etcd-zap-healthy-cp-1.log"  # real etcd 3.4.23 output


def test_zap_lines_stay_json_and_lose_the_cluster_token():
    lines = [line for line in ZAP_LOG.read_text().splitlines() if line.startswith("{")]
    start = next(line for line in lines if '"initial-cluster-token"' in line)
    redacted, count = redact_bytes("\n".join(lines).encode())
    assert count >= 1
    for line in redacted.decode().splitlines():
        json.loads(line)  # every line is still a JSON object
    token = json.loads(start)["initial-cluster-token"]
    assert token and token.encode() not in redacted
    assert f'"initial-cluster-token":"{REDACTED}"'.encode() in redacted


def test_escaped_quotes_inside_json_strings_survive():
    # etcd's debug "request stats" put the request in a string with escaped quotes
    line = json.dumps({"level": "debug", "msg": "request stats",
                       "request content": 'key:"/registry/x?sig=c2VjcmV0c2lnbmF0dXJl" '})
    redacted, count = redact_bytes(line.encode())
    assert count == 1 and b"c2VjcmV0c2lnbmF0dXJl" not in redacted
    assert json.loads(redacted)["request content"].startswith('key:"/registry/x?sig=')
