"""Runtime listings on real outputs: `crictl ps -a` (every layout), `-o json`, `crictl inspect`, `docker ps`.

Fixtures: tests/fixtures/runtime (SOURCES.md there) and the crictl/docker samples in tests/fixtures/real.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analyzer.facts.containers import CNI, component_of
from analyzer.parsers.crictl import (
    parse_ago,
    parse_crictl_inspect,
    parse_crictl_ps,
    parse_crictl_ps_json,
    parse_docker_ps,
)

FIXTURES = Path(__file__).parent / "fixtures"
RUNTIME, REAL = FIXTURES / "runtime", FIXTURES / "real"


def text(path: Path) -> str:
    return path.read_text()


def rows(listing) -> list[tuple]:
    return [(c.name, c.state, c.attempt, c.pod, c.namespace, c.pod_id) for c in listing.containers]


def test_newer_layout_with_pod_column():
    listing = parse_crictl_ps(text(REAL / "crictl-ps-a-apiserver-exited-containerd-9545.txt"))
    assert not listing.problems
    assert rows(listing)[:2] == [
        ("kube-apiserver", "exited", 0, "kube-apiserver-kiv-cp-zzh2f", "", "af599853bf12e"),
        ("kube-proxy", "running", 0, "kube-proxy-hw8rx", "", "5fd56a84a8ebc")]
    assert [c.created_ago for c in listing.containers[:2]] == [dt.timedelta(0), dt.timedelta(minutes=24)]
    assert [c.line for c in listing.containers] == [2, 3, 4, 5, 6, 7]


def test_newest_layout_with_namespace_column():
    listing = parse_crictl_ps(text(RUNTIME / "crictl-ps-a-namespace-calico-replaced-blog.txt"))
    assert not listing.problems
    assert rows(listing) == [
        ("calico-node", "running", 12, "calico-node-7xxv5", "kube-system", "09513c80fe88e"),
        ("mount-bpffs", "exited", 0, "calico-node-7xxv5", "kube-system", "09513c80fe88e"),
        ("calico-node", "exited", 11, "calico-node-7xxv5", "kube-system", "3f435a0bcfd20")]
    assert listing.containers[2].created_ago == dt.timedelta(weeks=3)


def test_old_layouts_and_rows_without_header():
    crio = parse_crictl_ps(text(REAL / "crictl-ps-a-etcd-exited-crio-2016.txt"))
    assert rows(crio) == [("etcd", "exited", 25, "", "", "5c17fc84618de")]
    attempt4 = parse_crictl_ps(text(RUNTIME / "crictl-ps-a-control-plane-attempt4-containerd-6704.txt"))
    assert {(c.name, c.state, c.attempt) for c in attempt4.containers} == {
        ("etcd", "running", 4), ("kube-scheduler", "running", 4), ("kube-controller-manager", "running", 4),
        ("kube-apiserver", "running", 4)}
    row_only = text(RUNTIME / "crictl-ps-a-row-apiserver-attempt5-containerd-7729.txt")
    (row,) = parse_crictl_ps(row_only).containers
    assert (row.name, row.state, row.attempt, row.pod, row.created_ago, row.line) == (
        "kube-apiserver", "exited", 5, "kube-apiserver-lv1-mlksapp-l02", dt.timedelta(seconds=16), 1)


def test_sidecars_named_like_the_apiserver_are_not_the_apiserver():
    listing = parse_crictl_ps(text(RUNTIME / "crictl-ps-a-grep-openshift-apiserver-sidecars-crio-8884.txt"))
    assert [c.name for c in listing.containers] == [
        "kube-apiserver-check-endpoints", "kube-apiserver-insecure-readyz",
        "kube-apiserver-cert-regeneration-controller", "kube-apiserver-cert-syncer"]
    assert {component_of(c.name) for c in listing.containers} == {""}
    assert (component_of("kube-apiserver"), component_of("calico-node"), component_of("kube-proxy")) == (
        "kube-apiserver", CNI, "")


def test_docker_ps_names_carry_pod_namespace_and_attempt():
    published = parse_docker_ps(text(REAL / "docker-ps-a-apiserver-exited-k8s-89368.txt"))
    assert not published.problems
    assert [(c.name, c.state, c.attempt, c.exit_code) for c in published.containers] == [
        ("etcd", "running", 2, None), ("kube-controller-manager", "running", 1, None),
        ("kube-apiserver", "exited", 1, 2), ("kube-scheduler", "running", 1, None), ("etcd", "exited", 1, 1)]
    assert published.containers[2].finished_ago == dt.timedelta(hours=6)
    assert published.containers[2].pod == "kube-apiserver-k8s-apiserver-bug"
    header = parse_docker_ps(text(REAL / "docker-ps-a-header-apiserver-exited-k8s-89368.txt"))
    assert [(c.state, c.created_ago, c.finished_ago) for c in header.containers] == [
        ("running", dt.timedelta(0), None), ("running", dt.timedelta(0), None),
        ("exited", dt.timedelta(0), dt.timedelta(0))]
    restarting = parse_docker_ps(text(REAL / "docker-ps-apiserver-restarting-k8s-103687.txt"))
    assert [(c.name, c.attempt, c.created_ago) for c in restarting.containers] == [
        ("kube-apiserver", 484, dt.timedelta(seconds=7)), ("etcd", 61, dt.timedelta(minutes=9)),
        ("kube-controller-manager", 127, dt.timedelta(minutes=47)),
        ("kube-scheduler", 121, dt.timedelta(minutes=47))]


def test_ps_json_absolute_times_and_lines():
    raw = text(RUNTIME / "crictl-ps-a-json-crio-flightctl.json")
    listing = parse_crictl_ps_json(raw)
    assert not listing.problems
    assert [(c.id, c.name, c.state, c.attempt, c.pod_id) for c in listing.containers] == [
        ("id1", "alpine", "running", 0, "podId1"), ("id2", "busybox", "exited", 0, "podId2")]
    assert listing.containers[0].created_at == dt.datetime(2024, 4, 11, 15, 45, 55, 546013,
                                                           tzinfo=dt.timezone.utc)
    for c in listing.containers:  # each is cited at its own "id" line
        assert raw.splitlines()[c.line - 1].strip() == f'"id": "{c.id}",'
    # the bare list `crictl ps -o json | jq .containers` prints
    bare = raw[raw.index("["):raw.rindex("]") + 1]
    assert rows(parse_crictl_ps_json(bare)) == rows(listing)


def test_inspect_exit_code_reason_and_finish():
    raw = text(RUNTIME / "crictl-inspect-exited-255-containerd-cri-475.json")
    (c,) = parse_crictl_inspect(raw).containers
    assert (c.name, c.state, c.attempt, c.exit_code, c.reason, c.pod, c.namespace) == (
        "nginx", "exited", 0, 255, "Unknown", "nginx", "e2e-tests-kubectl-2jdtb")
    assert c.finished_at == dt.datetime(2017, 12, 1, 20, 8, 56, 523559, tzinfo=dt.timezone.utc)
    assert raw.splitlines()[c.line - 1].strip() == '"exitCode": 255,'
    (clean,) = parse_crictl_inspect(text(RUNTIME / "crictl-inspect-completed-0-nydus.json")).containers
    assert (clean.exit_code, clean.reason) == (0, "Completed")
    assert clean.finished_at == dt.datetime(2021, 1, 7, 11, 29, 32, 882263, tzinfo=dt.timezone.utc)


def test_a_running_container_has_no_exit_code():
    """CRI reports exitCode 0 for a container that has not exited; it must not read as a clean exit."""
    raw = text(RUNTIME / "crictl-inspect-exited-255-containerd-cri-475.json").replace(
        "CONTAINER_EXITED", "CONTAINER_RUNNING")  # the same status while it still ran
    (c,) = parse_crictl_inspect(raw).containers
    assert (c.state, c.exit_code) == ("running", None)


@pytest.mark.parametrize("parse", [parse_crictl_ps_json, parse_crictl_inspect])
@pytest.mark.parametrize("bad", ["", "{", "[1, 2]", '{"containers": "x"}', '{"status": []}', "null"])
def test_bad_json_is_a_problem_not_a_traceback(parse, bad):
    listing = parse(bad)
    assert listing.containers == []
    assert listing.problems or bad in ("[1, 2]", "null")


def test_hostile_fields_are_ignored_not_a_traceback():
    (c,) = parse_crictl_ps_json('{"containers": [{"id": "a", "metadata": {"attempt": true}, '
                                '"createdAt": "99999999999999999999999999", "labels": [1]}]}').containers
    assert (c.id, c.name, c.attempt, c.created_at) == ("a", "", None, None)
    (s,) = parse_crictl_inspect('{"status": {"id": 5, "exitCode": true, "state": "CONTAINER_EXITED", '
                                '"finishedAt": "0001-01-01T00:00:00Z"}}').containers
    assert (s.exit_code, s.finished_at) == (None, None)


def test_rows_that_are_not_listings_are_problems():
    listing = parse_crictl_ps("CONTAINER ID  IMAGE\n$ crictl ps -a\nfatal: cannot connect\n")
    assert listing.containers == [] and len(listing.problems) == 2
    assert parse_docker_ps("Cannot connect to the Docker daemon\n").problems


@pytest.mark.parametrize(("words", "seconds"), [
    ("Less than a second ago", 0), ("1 second ago", 1), ("About a minute ago", 60), ("47 minutes ago", 2820),
    ("About an hour ago", 3600), ("36 hours ago", 129600), ("2 months ago", 5184000),
    ("3 years ago", 94608000)])
def test_human_durations(words, seconds):
    assert parse_ago(words) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("words", ["", "ago", "soon", "4 fortnights ago", "x minutes ago"])
def test_not_a_duration(words):
    assert parse_ago(words) is None
