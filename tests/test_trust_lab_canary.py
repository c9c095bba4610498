"""Canaries against the real-etcd lab: a real etcd 3.4 member prints one unique secret of each kind
into its own log, more canaries sit in the node root's files (tests/canaries.py `plant`) and in etcd's
data; the real collector, run against that root with etcd answering, must let none through.

Every canary in etcd's log stream (its CRI pod log and its journal, both laid down from the lines
the process wrote) is printed by etcd itself; none is appended by hand:
- environment variables named ETCD_* that no flag uses: `pkg/flags: unrecognized environment variable
  NAME=VALUE` (capnslog text, before the zap logger starts; a multi-line value stays multi-line);
- `--initial-cluster-token`: the "starting an etcd server" line;
- the TLS server name (SNI) of a client without a certificate: "rejected connection" "server-name";
- request keys, at --log-level=debug: "request stats" "request content" (values only as value_size).
Values put into etcd are never logged and never read by the collector (no `etcdctl get`). The root's
files get `plant`'s canaries, as in tests/test_trust_canary.py (its kube-apiserver pod log and syslog
lines are written by hand there: no API server runs in the lab).

Ports 15579-15581 on 127.0.0.1; only the PID started here is signalled.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import shutil
import socket
import ssl
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from tests.canaries import Canaries, plant, survivors
from tests.conftest import read_bundle, run_collector
from tests.lab.etcd_cluster import EtcdCluster, Member, loopback_addresses, node_specs

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("etcd") is None or shutil.which("etcdctl") is None,
                                 reason="etcd/etcdctl not installed")]
PORT_BASE = 15500
#: etcd items whose output is etcdctl's JSON
ETCD_JSON_ITEMS = ("etcd.endpoint_health", "etcd.endpoint_status", "etcd.endpoint_status_local",
                   "etcd.member_list", "etcd.alarm_list")


def etcd_env(c: Canaries) -> dict[str, str]:
    """ETCD_* variables that match no etcd flag: etcd 3.4 prints each with its value at start."""
    env = {"ETCD_DB_PASSWORD": c.env_password,
           "ETCD_AWS_ACCESS_KEY_ID": c.aws_id,
           "ETCD_AWS_SECRET_ACCESS_KEY": c.aws_secret,
           "ETCD_AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=https;AccountName=kt;"
                                                   f"AccountKey={c.azure_key};EndpointSuffix=core.windows.net",
           "ETCD_BACKUP_HEADER": f"Authorization: Basic {c.basic}",
           "ETCD_PROBE_HEADER": f"Authorization: Bearer {c.bearer}",
           "ETCD_SECRET_TLS_KEY": c.b64_key}
    env.update({f"ETCD_BACKUP_KEY_{n}": pem for n, (name, pem) in enumerate(c.keys.items())
                if name != "EC PRIVATE KEY"})
    return env


def server_names(c: Canaries) -> list[str]:
    """TLS server names (at most 255 bytes) a client sends; the EC key's PEM fits, newlines and all."""
    return [c.bootstrap, c.jwt, c.gcp_key, c.gcp_token, c.keys["EC PRIVATE KEY"]]


def request_keys(c: Canaries) -> list[str]:
    return [f"/registry/lab/callback?token={c.kubeconfig_token}",
            f"/registry/lab/login?user=admin&password={c.kubeconfig_password}",
            f"/registry/lab/blob?sv=2022-11-02&sig={c.azure_sig}"]


def data_values(c: Canaries) -> dict[str, str]:
    """{etcd key: value}: whole PEM keys and every other canary, as a Secret's data would hold them."""
    values = {f"/registry/lab/data/{name.replace(' ', '-').lower()}": pem for name, pem in c.keys.items()}
    values.update({f"/registry/lab/data/{k}": v for k, v in vars(c).items() if isinstance(v, str)})
    return values


def with_env_block(manifest: Path, env: dict[str, str]) -> None:
    """Give the static pod an env: list (JSON strings are YAML double-quoted scalars)."""
    block = "    env:\n" + "".join(f"    - name: {k}\n      value: {json.dumps(v)}\n" for k, v in env.items())
    text = manifest.read_text()
    assert text.count("    image:") == 1
    manifest.write_text(text.replace("    image:", block + "    image:"))


def tls_hello(port: int, server_name: str) -> None:
    """Connect without a client certificate: etcd rejects the handshake and logs the name sent."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, \
            contextlib.suppress(ssl.SSLError, OSError):
        # bytes go out as they are; a str would pass through IDNA, which refuses labels over 63 chars
        with ctx.wrap_socket(sock, server_hostname=server_name.encode()) as tls:
            tls.recv(1)


def printed(member: Member, value: str) -> bool:
    """True when etcd's output holds the value as is or JSON-escaped (inside a zap field)."""
    return member.logged(value.encode()) or member.logged(json.dumps(value)[1:-1].encode())


def make_etcd_log(member: Member, c: Canaries) -> None:
    """Have the running member log every canary of `c` (server names and request keys; env and flag
    were printed at start); return once its output holds them all."""
    for name in server_names(c):
        tls_hello(member.spec.etcd_client_port, name)
    for key in request_keys(c):
        assert member.etcdctl("put", key, "v").returncode == 0
    EtcdCluster.wait("etcd to log every canary",
                     lambda: all(printed(member, v) for v in c.values.values()), timeout=10)


def test_no_canary_survives_collection_from_a_real_etcd_node(tmp_path: Path) -> None:
    in_files, in_log, in_data = Canaries(), Canaries(), Canaries()
    env = etcd_env(in_log)
    flags = {"initial-cluster-token": in_log.flag_password, "log-level": "debug"}
    specs = node_specs(loopback_addresses(1, base=PORT_BASE), extra_flags={"etcd": flags})
    cluster = EtcdCluster.build(tmp_path / "lab", specs)
    member = cluster.members[0]
    with_env_block(member.root / "etc/kubernetes/manifests/etcd.yaml", env)
    out = tmp_path / "out"
    out.mkdir()
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as mp:  # the member's environment only, as its pod spec gives it
            for name, value in env.items():
                mp.setenv(name, value)
            stack.enter_context(cluster)
        pid = member.proc.pid if member.proc else None
        make_etcd_log(member, in_log)
        for key, value in data_values(in_data).items():
            assert member.etcdctl("put", "--", key, value).returncode == 0
        stored = member.etcdctl("get", "--prefix", "/registry/lab/data/", "--print-value-only").stdout
        assert all(v in stored for v in data_values(in_data).values())
        member.write_node_logs()
        planted = plant(member.root, in_files)
        proc = run_collector(member.root, out, "--verify", "--node-name", "cp-1", "--cluster-commands")
    assert pid and member.proc is None, "the member started here was stopped"
    assert proc.returncode == 0, proc.stderr  # --verify found nothing the redaction missed
    (bundle,) = out.glob("*.tar.gz")
    manifest, files = read_bundle(bundle)

    values = {f"{place}: {what}": v for place, c in (("files", in_files), ("etcd log", in_log),
                                                     ("etcd data", in_data)) for what, v in c.values.items()}
    assert survivors(files, values) == []
    tar_stream = gzip.decompress(bundle.read_bytes())  # member names and headers too
    assert survivors({"<the whole tar stream>": tar_stream}, values) == []
    assert not re.search(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY", tar_stream)
    assert CliRunner().invoke(main, ["verify", str(bundle)]).exit_code == 0

    items = {i["id"]: i for i in manifest["items"]}
    (pod_log,) = [i for i in manifest["items"]
                  if i["id"] == "logs.pod" and "/kube-system_etcd-cp-1_" in i["source"]]
    # each place etcd printed canaries is at least one redaction, in both copies of its stream
    printed_places = len(env) + 1 + len(server_names(in_log)) + len(request_keys(in_log))
    assert pod_log["redactions"] >= printed_places
    assert items["journal.etcd"]["redactions"] >= printed_places
    by_item = manifest["redactions"]["by_item"]
    assert {i for i, n in by_item.items() if n > 0} >= set(planted) | {"journal.etcd"}, by_item
    # the redacted lines are still there: etcd's rejections and request stats (sizes, never values)
    log = files[pod_log["path"]].decode()
    assert log.count('"msg":"rejected connection"') >= len(server_names(in_log))
    assert log.count("/registry/lab/data/") >= len(data_values(in_data)) and "value_size:" in log

    # etcd answered: its items hold etcdctl's real JSON, and none of them read values
    for item_id in ETCD_JSON_ITEMS:
        assert items[item_id]["exit_code"] == 0, items[item_id]
        json.loads(files[items[item_id]["path"]])
    (status,) = json.loads(files[items["etcd.endpoint_status_local"]["path"]])
    assert status["Endpoint"] == member.endpoint
    assert [m["name"] for m in json.loads(files[items["etcd.member_list"]["path"]])["members"]] == ["cp-1"]
    assert not [i for i in manifest["items"] if i["id"].startswith("etcd.") and "get" in i["source"]]
