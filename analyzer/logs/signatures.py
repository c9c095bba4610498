"""The log signatures kubetriage knows: a declarative table, one row per known failure message.

Each signature names the *anchors* (plain substrings, at least one of which every matching line
contains) and a *pattern* that confirms it on the line. The scanner searches large blocks for the
anchors only, so the set of distinct anchors is kept small: it is the whole cost of a log line that
matches nothing. A line counts for the first signature (in table order) it matches, so specific
rows (the API server's etcd client errors) come before generic ones (any x509 error).
`detail`, when set, captures who/why from the line (e.g. the rejected client and the TLS reason).

Every row carries a real `example` line and its `source` (an issue URL, or the etcd 3.4 lab capture
it was copied from); tests/test_signatures.py scans each example as a log and checks it counts for
its own row. docs/rules.md lists them (`python -m analyzer.rulesdoc`). `duration`, when set,
captures how long an operation took (a Go duration): severity follows magnitude, not only counts.

>>> match_line('W0322 19:19:08.265649 1 clientconn.go:1120] grpc: addrConn.createTransport '
...  'failed to connect to {https://127.0.0.1:2379 0  <nil>}. Err :connection error: desc = "transport: '
...  'Error while dialing dial tcp 127.0.0.1:2379: connect: connection refused". Reconnecting...',
...  "kube-apiserver").id
'APISERVER_ETCD_REFUSED'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..findings import Severity

APISERVER, ETCD = ("kube-apiserver",), ("etcd",)
#: control-plane ports whose refusal means a component is down or firewalled
CONTROL_PLANE_PORTS = ("6443", "2379", "2380", "10250", "10257", "10259")


@dataclass(frozen=True)
class Signature:
    """A known log message: what to search for, whose logs it matters in, and what it means."""

    id: str
    anchors: tuple[str, ...]
    pattern: str
    meaning: str
    severity: Severity
    #: the components whose logs it is judged in; () = any ('unknown' writers always qualify)
    components: tuple[str, ...] = ()
    #: a regex whose groups, joined by ' ', describe the occurrence (peer, reason, port)
    detail: str = ""
    #: a real line this row matches, and where it was seen
    example: str = ""
    source: str = ""
    #: a regex whose one group is a Go duration on the line ("2.3s", "627.8ms")
    duration: str = ""
    #: the bundle items it is judged in (an id, or a prefix such as "journal"); () = any. Custom rules
    #: (analyzer/custom.py) set it; the built-in rows are judged wherever their components log
    items: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    detail_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    duration_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))
        object.__setattr__(self, "detail_regex", re.compile(self.detail) if self.detail else None)
        object.__setattr__(self, "duration_regex", re.compile(self.duration) if self.duration else None)

    def applies_to(self, component: str) -> bool:
        return not self.components or component in self.components or component == "unknown"

    def read_in(self, item_id: str) -> bool:
        """Whether lines of this bundle item count for it."""
        return not self.items or any(item_id == i or item_id.startswith(i + ".") for i in self.items)

    def describe(self, line: str) -> str:
        """The detail groups found on the line, or '' when the signature has none."""
        if self.detail_regex is None:
            return ""
        m = self.detail_regex.search(line)
        return " ".join(g for g in m.groups() if g) if m else ""

    def seconds(self, line: str) -> float:
        """How long the operation on the line took, in seconds (0 when the row measures nothing).

        >>> SLOW = next(s for s in SIGNATURES if s.id == "ETCD_SLOW_APPLY")
        >>> SLOW.seconds('"msg":"apply request took too long","took":"627.833521ms"')
        0.627833521
        """
        if self.duration_regex is None:
            return 0.0
        m = self.duration_regex.search(line)
        return go_duration(m.group(1)) if m else 0.0


_GO_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_GO_PART = re.compile(r"([0-9.]+)(d|h|ms|m|s|us|µs|ns)")


def go_duration(text: str) -> float:
    """A Go duration (or kubectl age) in seconds: '1m2.5s' -> 62.5, '306.7ms' -> 0.3067, '2d3h' -> 183600."""
    return sum(float(n) * _GO_UNITS[u] for n, u in _GO_PART.findall(text))


_REJECT_DETAIL = (r'(?:remote-addr":"|rejected connection from ")\[?([0-9a-fA-F.:]+?)\]?(?::\d+)?".*?'
                  r'(?:"error":"|\(error ")((?:[^"\\]|\\.)*)')
_REFUSED_DETAIL = (r"(?:dial tcp \[?([0-9a-fA-F.:]*?)\]?:(\d+): \S*:? ?connection refused|"
                   r"connection to the server (\S+?):(\d+) was refused)")
_TOOK = r'(?:"took":"|took too long [(\[]|total time: |"time spent":")([0-9.]+(?:[µmn]?s|m[0-9.]+s))'
#: the unit a systemd line, or a systemctl status block's ExecStart, names
UNIT_DETAIL = (r"\b(kubelet|kube-apiserver|kube-controller-manager|kube-scheduler|etcd\d?|k3s|rke2-server|"
               r"rke2-agent|k0scontroller|containerd|docker|crio|snap\.microk8s\.daemon-[\w-]+|"
               r"origin-master|origin-node|atomic-openshift-node)(?:\.service)?\b")
_K = "https://github.com/kubernetes/kubernetes/issues/"
_KADM = "https://github.com/kubernetes/kubeadm/issues/"
_E = "https://github.com/etcd-io/etcd/issues/"
_K3S = "https://github.com/k3s-io/k3s/issues/"
_MK8S = "https://github.com/canonical/microk8s/issues/"
_OPS = "https://github.com/opsnull/follow-me-install-kubernetes-cluster/issues/"
_LAB = "etcd 3.4.23 lab capture, tests/fixtures/logs/"


def _sig(id: str, anchors: tuple[str, ...], pattern: str, meaning: str, severity: Severity,
         example: str, source: str, components: tuple[str, ...] = (), detail: str = "",
         duration: str = "") -> Signature:
    return Signature(id, anchors, pattern, meaning, severity, components, detail, example, source, duration)


SIGNATURES: tuple[Signature, ...] = (
    # -- the API server and its etcd ------------------------------------------------------------
    _sig("APISERVER_ETCD_REFUSED", ("refused",), r":2379\b.*connection refused",
         "the API server's etcd client is refused on 2379: etcd is down or a REJECT rule is in the way",
         Severity.CRITICAL,
         'W0322 19:19:08.265649       1 clientconn.go:1120] grpc: addrConn.createTransport failed to connect to '
         '{https://127.0.0.1:2379 0  <nil>}. Err :connection error: desc = "transport: Error while dialing dial '
         'tcp 127.0.0.1:2379: connect: connection refused". Reconnecting...', _K + "89368", APISERVER),
    _sig("APISERVER_ETCD_CERT_EXPIRED", ("x509",),
         r"(?:authentication handshake failed|:2379\b).*x509: certificate has expired",
         "the API server's TLS handshake with etcd fails because a certificate expired (its etcd client "
         "certificate or etcd's server certificate)", Severity.CRITICAL,
         'W0318 12:44:17.651382       1 clientconn.go:1120] grpc: addrConn.createTransport failed to connect to '
         '{https://127.0.0.1:2379 0  <nil>}. Err :connection error: desc = "transport: authentication handshake '
         'failed: x509: certificate has expired or is not yet valid". Reconnecting...',
         "https://github.com/hystax/optscale/issues/236", APISERVER, r"(x509: [^\"]*)"),
    _sig("APISERVER_ETCD_TLS", ("x509",), r"authentication handshake failed: x509|:2379\b.*x509",
         "the TLS handshake between the API server and etcd fails (wrong CA, wrong name)", Severity.CRITICAL,
         '{"level":"warn","ts":"2026-11-27T01:58:56.531Z","caller":"clientv3/retry_interceptor.go:62","msg":'
         '"retrying of unary invoker failed","target":"passthrough:///https://127.0.0.1:2379","attempt":0,"error":'
         '"rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: desc = \\"transport: '
         'authentication handshake failed: x509: certificate signed by unknown authority (possibly because of '
         '\\\\\\"crypto/rsa: verification error\\\\\\" while trying to verify candidate authority certificate '
         '\\\\\\"etcd-ca\\\\\\")\\""}', "etcd 3.4.23 lab capture (etcdctl's client), "
         "tests/fixtures/etcd/d-tls-wrong-ca/d2_client_trusts_other_ca_status.stderr",
         APISERVER, r"(x509: [^\"]*)"),
    _sig("APISERVER_ETCD_TIMEOUT", ("exceeded",),
         r"(?:[Ss]torage backend|storage factory|:2379\b|etcdserver: request timed out).*deadline exceeded",
         "the API server's requests to etcd time out: etcd unreachable (DROP rule), no leader or overloaded",
         Severity.CRITICAL,
         '{"level":"warn","ts":"2023-08-23T05:25:30.459Z","logger":"etcd-client","caller":"v3/retry_interceptor.'
         'go:62","msg":"retrying of unary invoker failed","target":"etcd-endpoints://0xc0039dbc00/127.0.0.1:2379",'
         '"attempt":0,"error":"rpc error: code = DeadlineExceeded desc = context deadline exceeded"}',
         "https://github.com/rancher/rancher/issues/42505", APISERVER),
    _sig("APISERVER_BIND_IN_USE", ("in use",), r":6443\b.*address already in use",
         "the API server cannot listen on 6443: another process holds the port", Severity.CRITICAL,
         "Error: failed to create listener: failed to listen on 0.0.0.0:6443: listen tcp 0.0.0.0:6443: bind: "
         "address already in use", "https://github.com/rancher/rke2/issues/370", APISERVER),
    _sig("PORT_IN_USE", ("in use",),
         r"listen tcp \S*:(?:2379|2380|10250|10251|10252|10257|10259)\b.*address already in use",
         "a control-plane component cannot listen on its port: another process (often a second copy of it) "
         "holds it", Severity.CRITICAL,
         "failed to create listener: failed to listen on 127.0.0.1:10252: listen tcp 127.0.0.1:10252: bind: "
         "address already in use", "https://github.com/rancher/rke2/issues/1573",
         detail=r"listen tcp \S*:(\d+)"),
    _sig("LISTEN_ADDRESS_NOT_LOCAL", ("cannot assign",), r"listen tcp \S+:\d+: bind: cannot assign requested address",
         "a component is configured to listen on an address this host does not have (the node's IP changed, "
         "a manifest copied from another node, or a cloud public IP): it exits at start", Severity.CRITICAL,
         "Oct 15 12:11:01 kube-node1 etcd[20957]: listen tcp 52.81.42.145:2380: bind: cannot assign requested "
         "address", _OPS + "340", detail=r"listen tcp \S+:(\d+): bind"),
    # -- removed or invalid flags ----------------------------------------------------------------
    _sig("FLAG_ONLY_ZERO", ("rror",), r"invalid port value \d+: only zero is allowed",
         "--insecure-port/--port set to a non-zero value, which 1.20-1.23 reject: the component exits at start",
         Severity.CRITICAL, "Error: invalid port value 8080: only zero is allowed",
         "https://github.com/awslabs/eks-perf-tests/issues/161", detail=r"(invalid port value \d+)"),
    _sig("APISERVER_SA_FLAGS_REQUIRED", ("rror", "flag"),
         r"service-account-issuer is a required flag|--service-account-issuer are required flags",
         "the API server (1.20+) refuses to start without --service-account-issuer and "
         "--service-account-signing-key-file: a configuration written for an older release", Severity.CRITICAL,
         "kube-apiserver[54618]: Error: [service-account-issuer is a required flag, "
         "--service-account-signing-key-file and --service-account-issuer are required flags]",
         "https://github.com/kelseyhightower/kubernetes-the-hard-way/issues/626"),
    _sig("FLAG_UNKNOWN", ("rror", "fail", "flag"), r"unknown flag: --[\w-]+",
         "the component was started with a flag this release removed (or never had): it exits at start",
         Severity.CRITICAL,
         'E0426 04:06:12.761688       1 run.go:74] "command failed" err="unknown flag: --insecure-port"',
         "https://github.com/openshift/cluster-kube-apiserver-operator/pull/1347", detail=r"unknown flag: (--[\w-]+)"),
    # -- etcd: space ----------------------------------------------------------------------------
    _sig("ETCD_DB_SPACE_EXCEEDED_CLIENT", ("space exceeded",), r"mvcc: database space exceeded",
         "a client's write was refused: etcd is over its quota (NOSPACE)", Severity.CRITICAL,
         'kubelet[1495]: W1204 11:17:02.533588    1495 status_manager.go:446] Failed to update status for pod '
         '"custom-pod-A": etcdserver: mvcc: database space exceeded', "https://github.com/kubernetes/kops/issues/4005"),
    _sig("ETCD_DB_SPACE_EXCEEDED", ("space exceeded", "NOSPACE", "no space"),
         r"database space exceeded|alarm raised.*NOSPACE|alarm:?\s?NOSPACE|etcdserver: no space\b",
         "etcd reached its backend quota and raised NOSPACE: it refuses writes", Severity.CRITICAL,
         '{"level":"warn","ts":"2026-11-27T02:01:15.361Z","caller":"etcdserver/apply.go:636","msg":"alarm '
         'raised","alarm":"NOSPACE","from":"22f5e75e02bf3a02"}', _LAB + "etcd-zap-nospace-1.log"),
    _sig("ETCD_WAL_NO_SPACE", ("no space",), r"(?:wal|WAL|snap|backend|etcdserver).*no space left on device",
         "etcd cannot write its WAL or snapshot: the data directory's filesystem is full", Severity.CRITICAL,
         "2015/08/21 02:04:22 etcdserver: save state and entries error: write /var/etcd/data/member/wal/"
         "0000000000000010-0000000000027111.wal: no space left on device", _E + "3347"),
    # -- etcd: disk latency ---------------------------------------------------------------------
    _sig("ETCD_HEARTBEAT_LATE", ("exceeded", "too long"), r"failed to send out heartbeat on time|failed to send heartbeat on time",
         "the etcd leader could not send heartbeats in time: slow disk or overloaded node", Severity.WARNING,
         "2017-02-10 08:02:47.025304 W | etcdserver: failed to send out heartbeat on time (exceeded the 100ms "
         "timeout for 288.915798ms)", _E + "7312", duration=r"(?:timeout for|exceeded for) ([0-9.]+[µmn]?s)"),
    _sig("ETCD_SLOW_REQUEST_CAPNSLOG", ("too long",), r"request .* took too long \(",
         "etcd served a request slower than expected: slow disk or overload", Severity.WARNING,
         '2018-12-23 00:08:09.752254 W | etcdserver: read-only range request "key:\\"/registry/clusterroles/'
         'system:aggregate-to-admin\\" " with result "range_response_count:1 size:544" took too long '
         '(203.545494ms) to execute', _KADM + "1329", duration=_TOOK),
    _sig("ETCD_SLOW_APPLY", ("too long",),
         r"apply request took too long|apply entries took too long",
         "etcd applied requests slower than expected (100ms): slow disk or overload", Severity.WARNING,
         '{"level":"warn","ts":"2023-01-28T06:40:45.835Z","caller":"etcdserver/util.go:166","msg":"apply request '
         'took too long","took":"306.70564ms","expected-duration":"100ms","prefix":"","request":"header:<ID:'
         '16167507008610748144 > put:<key:\\"milvus-data/kv/index_gid/idTimestamp\\" value_size:8 >","response":'
         '"size:7"}', "https://github.com/milvus-io/milvus/issues/21840", duration=_TOOK),
    _sig("ETCD_SLOW_REQUEST_STATS", ('"level":"warn"',), r'"msg":"request stats".*"time spent":"',
         "etcd served a gRPC request slower than expected (etcd 3.5 logs the request's stats at warn level "
         "when it is expensive): slow disk or overload", Severity.WARNING,
         '{"level":"warn","ts":"2025-10-14T21:25:24.123677+0100","caller":"v3rpc/interceptor.go:197","msg":'
         '"request stats","start time":"2025-10-14T21:25:23.084572+0100","time spent":"1.03908254s","remote":'
         '"192.168.17.193:37760","response type":"/etcdserverpb.KV/Range","request count":0,"request size":63,'
         '"response count":1,"response size":1108,"request content":"key:\\"/registry/secrets/generic-services/'
         'jellystat-cnpg-main-user\\" limit:1 "}', "https://github.com/Kimi450/ubuntu-server/issues/34",
         duration=_TOOK),
    _sig("ETCD_WAL_SYNC_SLOW", ("sync",), r"wal: sync duration of|sync duration of \S+, expected less than",
         "etcd's WAL fsync took over a second (etcd 3.3 and older word it so): the disk is too slow for etcd",
         Severity.WARNING,
         "2018-10-25 17:30:10.292188 W | wal: sync duration of 7.645129468s, expected less than 1s", _E + "10215",
         duration=r"sync duration of ([0-9hms.]+)"),
    _sig("ETCD_OVERLOADED", (" W | ",), r"etcdserver: server is likely overloaded",
         "etcd says it is overloaded (it follows late heartbeats): slow disk or too little CPU", Severity.WARNING,
         "2016-04-22 03:04:09.680486 W | etcdserver: server is likely overloaded", _E + "5154"),
    _sig("ETCD_SLOW_FDATASYNC", ("sync",), r"slow fdatasync|sync duration of",
         "etcd's WAL fsync took longer than 1s: the disk is too slow for etcd", Severity.WARNING,
         '{"level":"warn","ts":"2023-01-28T06:40:37.477Z","caller":"wal/wal.go:802","msg":"slow fdatasync",'
         '"took":"1.460378765s","expected-duration":"1s"}', "https://github.com/milvus-io/milvus/issues/21840",
         duration=r'(?:"took":"|sync duration of )([0-9.]+[µmn]?s)'),
    _sig("ETCD_READINDEX_SLOW", ("too long", "timed out"),
         r"waiting for ReadIndex response took too long|timed out waiting for read index response",
         "linearizable reads stall: the leader does not confirm its leadership in time (slow disk, overloaded "
         "or unreachable leader)", Severity.WARNING,
         'Jan 10 07:55:33 MULTI-SINGLE-VM k3s[820]: {"level":"warn","ts":"2024-01-10T07:55:33.433522Z","caller":'
         '"etcdserver/v3_server.go:897","msg":"waiting for ReadIndex response took too long, retrying",'
         '"sent-request-id":11249020940439591963,"retry-timeout":"500ms"}', _K3S + "9204"),
    _sig("ETCD3_SLOW_TRACE", ("etcd3",), r'"(?:List|Get|GuaranteedUpdate|Create|Delete|Update|Txn) etcd3".*total time',
         "the API server's own trace shows a storage (etcd) call taking long", Severity.WARNING,
         'I1014 19:24:03.190482       1 trace.go:116] Trace[853053590]: "List etcd3" key:/jobs,resourceVersion:,'
         'limit:500,continue: (started: 2019-10-14 19:23:57.883175042 +0000 UTC m=+313.431015358) (total time: '
         '5.307283142s):', "https://github.com/kubernetes/minikube/issues/5615", duration=_TOOK),
    # -- etcd: availability ---------------------------------------------------------------------
    _sig("ETCD_PUBLISH_FAILED", ("fail", "rror"), r"failed to publish local member|publish error",
         "this etcd member could not register itself through raft: the cluster has no working quorum",
         Severity.ERROR,
         '2023-08-18T10:47:26.510939053+08:00 stderr F {"level":"warn","ts":"2023-08-18T02:47:26.510Z","caller":'
         '"etcdserver/server.go:2084","msg":"failed to publish local member to cluster through raft",'
         '"local-member-id":"63f111c239cc91f8","local-member-attributes":"{Name:master2 ClientURLs:'
         '[https://10.255.184.7:2379]}","request-path":"/0/members/63f111c239cc91f8/attributes","publish-timeout":'
         '"7s","error":"etcdserver: request timed out"}', _E + "16436"),
    _sig("ETCD_REQUEST_TIMED_OUT", ("timed out",), r"etcdserver: request timed out",
         "etcd could not commit a request within its timeout: no leader, lost quorum, or a disk too slow",
         Severity.ERROR, "2015/06/19 20:40:38 etcdhttp: unexpected error: etcdserver: request timed out",
         _K + "10122"),
    _sig("ETCD_NO_LEADER", ("no leader",), r"\bno leader\b|has no leader",
         "etcd has no leader: quorum is lost or elections keep failing", Severity.ERROR,
         "E0429 15:54:53.235735       1 status.go:62] apiserver received an error that is not an metav1.Status: "
         "client: etcd cluster is unavailable or misconfigured; error #0: client: etcd member "
         "http://127.0.0.1:2379 has no leader", _E + "9668"),
    _sig("RKE2_ETCD_STATUS_FAILED", ("fail", "Fail"), r"Failed to check local etcd status",
         "RKE2/k3s cannot query its embedded etcd (down, no quorum, or TLS to it failing)", Severity.ERROR,
         'Jan 11 18:49:37 ecs2u rke2[495556]: time="2024-01-11T18:49:37Z" level=error msg="Failed to check local '
         'etcd status for learner management: context deadline exceeded"', "https://github.com/rancher/rke2/issues/5249"),
    _sig("RKE2_WAITING_FOR_ETCD", ("Waiting for",), r"Waiting for etcd server to become available",
         "RKE2/k3s waits for its embedded etcd to come up (normal for seconds at start; lasting, etcd does not "
         "start)", Severity.WARNING,
         'Jan 11 18:49:33 ecs2u rke2[495556]: time="2024-01-11T18:49:33Z" level=info msg="Waiting for etcd server '
         'to become available"', "https://github.com/rancher/rke2/issues/5249"),
    _sig("ETCD_V2_UNAVAILABLE", ("rror",),
         r"etcd cluster is unavailable or misconfigured|exceeded header timeout",
         "an etcd v2 client reached no working member (no leader, or every endpoint down)", Severity.ERROR,
         "Error:  client: etcd cluster is unavailable or misconfigured", _E + "3864"),
    _sig("APISERVER_HEALTH_ETCD_FAILED", ("fail",),
         r"(?:healthz|livez|readyz) check failed: [\w,-]*\betcd\b|\betcd\b[\w,-]* check failed: (?:healthz|livez|readyz)",
         "the API server's own health check of etcd fails: it cannot get answers from etcd (down, no quorum, "
         "unreachable)", Severity.ERROR,
         "I0906 10:29:37.198682       1 healthz.go:243] healthz check failed: etcd", _K + "104786"),
    _sig("ETCD_REQUEST_TOO_LARGE", ("rror", "fail"),
         r"etcdserver: request is too large|grpc: message too large|grpc: received message larger than max|"
         r"grpc: trying to send message larger than max",
         "etcd refuses a request (over --max-request-bytes) or a response (over gRPC's message limit): one huge "
         "object, or an unpaginated list of very many objects", Severity.ERROR,
         'E0823 15:46:51.402217 12 status.go:71] apiserver received an error that is not an metav1.Status: '
         'rpctypes.EtcdError{code:0x3, desc:"etcdserver: request is too large"}: etcdserver: request is too large',
         _K + "112152"),
    _sig("ETCD_ALREADY_BOOTSTRAPPED", ("bootstrapped",), r"member \S+ has already been bootstrapped",
         "etcd was started with --initial-cluster-state=new for a member the cluster already knows (a re-installed "
         "node): it exits", Severity.ERROR,
         "May 20 17:57:39 localhost etcd2[761]: member 51eecfc041171d8f has already been bootstrapped", _E + "5422"),
    _sig("K3S_JOIN_ETCD_FAILED", ("nhealthy", "rror", "fail"), r"joining etcd cluster",
         "a k3s/RKE2 server could not join the embedded etcd cluster and exits", Severity.CRITICAL,
         'time="2023-05-05T04:16:13.681066910Z" level=fatal msg="starting kubernetes: preparing server: start '
         'managed database: joining etcd cluster: etcdserver: unhealthy cluster"', _K3S + "7428"),
    _sig("K0S_ETCD_JOIN_FAILED", ("fail",),
         r"failed to sync etcd config|unexpected response status when trying to join etcd cluster",
         "a joining k0s controller cannot get its etcd join configuration from an existing controller and "
         "exits", Severity.ERROR,
         "Oct 18 04:04:50 node-a50a2-04 k0s[3461]: Error: failed to start controller node components: failed to "
         "sync etcd config: unexpected response status when trying to join etcd cluster: 500 Internal Server Error",
         "https://github.com/k0sproject/k0s/issues/5149"),
    _sig("ETCD_CLUSTER_FETCH_FAILED", ("fail", " W | "),
         r"failed to get cluster response|could not get cluster response from",
         "a joining etcd member cannot read the member list from the existing members' peer URLs (2380): it "
         "cannot join", Severity.ERROR,
         '{"level":"warn","ts":"2023-09-26T16:30:17.987383+0200","caller":"etcdserver/cluster_util.go:79","msg":'
         '"failed to get cluster response","address":"https://192.168.100.91:2380/members","error":"Get '
         '\\"https://192.168.100.91:2380/members\\": EOF"}', _K3S + "8446",
         detail=r'(?:"address":"|response from )([^",]+)'),
    _sig("DQLITE_NODE_ALREADY_KNOWN", ("dqlite",), r"is already known to dqlite",
         "MicroK8s refuses the join: dqlite still lists this node from an earlier (failed or removed) join",
         Severity.ERROR,
         "Connection failed. The joining node (10.100.5.102) is already known to dqlite (504).", _MK8S + "3694"),
    _sig("ETCD_PEER_URL_EXISTS", ("rror",), r"etcdserver: Peer URLs already exists",
         "etcd already lists a member with this peer URL (a join aborted earlier): the new join is refused",
         Severity.ERROR,
         "error execution phase control-plane-join/etcd: error creating local etcd static pod manifest file: "
         "etcdserver: Peer URLs already exists", _KADM + "2095"),
    _sig("ETCD_UNHEALTHY_CLUSTER", ("nhealthy",), r"etcdserver: unhealthy cluster",
         "etcd refuses a membership change because a member is down or unreachable (a join fails)",
         Severity.ERROR,
         '{"level":"warn","ts":"2023-05-05T04:16:13.680Z","caller":"clientv3/retry_interceptor.go:62","msg":'
         '"retrying of unary invoker failed","target":"endpoint://client-49d55c7b-5eec-4a83-8d66-53effc7df290/'
         '10.130.166.103:2379","attempt":0,"error":"rpc error: code = Unavailable desc = etcdserver: unhealthy '
         'cluster"}', _K3S + "7428"),
    _sig("ETCD_PEER_URLS_INVALID", ("peer",), r"error validating peerURLs|unmatched member while checking PeerURLs",
         "a starting etcd member's --initial-cluster does not match the members the cluster knows (it was not "
         "added with `member add`, or with other peer URLs): it exits", Severity.CRITICAL,
         "2018-11-27 15:09:14.082082 C | etcdmain: error validating peerURLs ... member count is unequal",
         _KADM + "1280", detail=r"(member count is unequal|unmatched member)"),
    _sig("ETCD_LOCAL_NAME_NOT_IN_CLUSTER", (" C | ", "rror"),
         r"couldn't find local name \\?\"?[^\"\\]*\\?\"? in the initial cluster configuration",
         "etcd's --name is not one of the names in --initial-cluster: it exits at start", Severity.CRITICAL,
         "2019-10-25 20:24:39.618568 C | etcdmain: couldn't find local name \"dphaim-20\" in the initial cluster "
         "configuration", _E + "11294", detail=r'local name \\?"([^"\\]*)'),
    _sig("ETCD_MEMBER_REMOVED", (" E | ", "rror"), r"the member has been permanently removed from the cluster",
         "this etcd member was removed from the cluster (`member remove`) but still runs with its old data: it "
         "stops; re-add it with `member add` and an empty data dir", Severity.ERROR,
         "2016-06-02 18:45:52.144672 E | etcdserver: the member has been permanently removed from the cluster",
         _E + "5550"),
    _sig("ETCD_REMOVED_PEER_REJECTED", ("rejected",),
         r"rejected the stream from peer \S+ since it was removed|rejected stream from remote peer because it was "
         r"removed",
         "a member that was removed from the cluster is still running and tries to talk to it", Severity.WARNING,
         "2016-06-02 18:45:52.145867 W | rafthttp: rejected the stream from peer 4ad5e5c2c6d6d861 since it was "
         "removed", _E + "5550", detail=r"from peer (\S+)"),
    _sig("ETCD_REMOTE_PEER_NOT_FOUND", ("fail",), r"failed to find remote peer in cluster|failed to find member \S+ in cluster",
         "a peer that this member does not know contacts it (a removed or replaced member, or one from "
         "another cluster)", Severity.WARNING,
         '{"level":"warn","ts":"2024-11-27T13:49:38.498857Z","caller":"rafthttp/http.go:413","msg":"failed to find '
         'remote peer in cluster","local-member-id":"888f71556fc51deb","remote-peer-id-stream-handler":'
         '"888f71556fc51deb"}', _E + "18958"),
    _sig("ETCD_NOT_A_MEMBER", ("Fail", "fail"), r"is a not a member of the etcd cluster|not a member of the etcd cluster",
         "this server's etcd is not in the member list the cluster holds (removed, or its address changed)",
         Severity.ERROR,
         'time="2022-03-29T09:42:56Z" level=info msg="Failed to test data store connection: this server is a not '
         'a member of the etcd cluster. Found [vcluster001-54df6b4dbb-kd8r5-7f8ec0db=https://192.168.189.84:2380], '
         'expect: vcluster001-54df6b4dbb-kd8r5-7f8ec0db=192.168.189.99"', _K3S + "5352"),
    _sig("ETCD_CLUSTER_ID_MISMATCH", ("mismatch",), r"cluster ID mismatch",
         "a peer belongs to another etcd cluster (a data dir from an earlier bootstrap, or a reused address)",
         Severity.ERROR,
         "Jul 18 09:22:50 node2 etcd[7535]: request sent was ignored (cluster ID mismatch: peer[9c64eb1dbc4fc47e]"
         "=f220db43b21e2af0, local=2d3173185977a3e4)", _E + "10897"),
    # -- etcd: leadership -----------------------------------------------------------------------
    _sig("ETCD_QUORUM_INACTIVE", ("quorum",), r"stepped down to follower since quorum is not active",
         "the etcd leader no longer hears from a majority of members and steps down: the cluster has no "
         "quorum until enough members come back", Severity.ERROR,
         '{"level":"warn","ts":"2026-11-27T01:57:17.624Z","caller":"raft/raft.go:1017","msg":"3146adaba9d35d36 '
         'stepped down to follower since quorum is not active"}', _LAB + "etcd-zap-quorum-lost-cp-1.log"),
    _sig("ETCD_LEADER_CHANGED", ("leader ",), r"etcdserver: leader changed",
         "a request failed because the etcd leader changed while it ran: one election is harmless, frequent "
         "ones mean slow disks, CPU starvation or a flaky network between members", Severity.WARNING,
         "Error from server: etcdserver: leader changed", "https://github.com/hitachienergy/epiphany/issues/1124"),
    _sig("ETCD_LOST_LEADER", ("lost",), r"lost leader",
         "this etcd member lost its leader: an election follows", Severity.WARNING,
         '{"level":"info","ts":"2021-09-16T05:38:00.587Z","caller":"raft/node.go:336","msg":"raft.node: '
         '2c93ddd62e188857 lost leader 27ecc6d4a68d02f at term 899"}', _E + "13352",
         detail=r"at term (\d+)"),
    _sig("ETCD_ELECTED_LEADER", ("leader ",), r"elected leader|became leader at term",
         "an etcd election finished", Severity.INFO,
         "Jun 19 15:05:09 host1 etcd[5039]: raft.node: 6a36a164fff344ce elected leader c8c149860c18654b at term 443",
         _E + "9871"),
    _sig("ETCD_ELECTION", ("new election",), r"is starting a new election at term",
         "an etcd member starts an election (normal once at start; repeated, quorum cannot be reached)",
         Severity.INFO,
         "Apr 29 09:19:44 k8s-master-3688E46E-0 etcd[1224]: 134af6e5d3e35861 is starting a new election at term "
         "12244", _E + "9668", detail=r"election at term (\d+)"),
    # -- etcd: peers ----------------------------------------------------------------------------
    _sig("ETCD_PEER_CERT", ("x509",), r"(?:peer|2380).*x509: ",
         "etcd's peer TLS fails: a member's peer certificate is expired or not signed by the etcd CA",
         Severity.ERROR,
         'health check for peer ec2a7add58746895 could not connect: x509: certificate signed by unknown authority '
         '(possibly because of "crypto/rsa: verification error" while trying to verify candidate authority '
         'certificate "kubernetes")', _OPS + "82", detail=r"(x509: [^\"(]*)"),
    _sig("ETCD_PEER_REFUSED", ("refused",), r":2380\b.*connection refused",
         "an etcd peer refuses connections on 2380: that member is down (or a REJECT rule answers)",
         Severity.ERROR,
         "2017-07-03 08:34:01.586995 W | rafthttp: health check for peer 9e94a72e2b2bc6ef could not connect: dial "
         "tcp 10.x.y.110:2380: getsockopt: connection refused", _E + "8169", detail=_REFUSED_DETAIL),
    _sig("ETCD_PEER_UNREACHABLE", ("peer", "nhealthy", "fail"),
         r"health check for peer \S+ could not connect|peer became inactive|prober detected unhealthy status|"
         r"failed to dial \S+ on stream",
         "an etcd member cannot reach a peer (down, partitioned, or its TLS handshake times out)",
         Severity.WARNING,
         "2021-08-20 14:11:52.748696 W | rafthttp: health check for peer b0c1d3f602268dc8 could not connect: "
         "net/http: TLS handshake timeout", "https://github.com/rancher-archives/rke/issues/2669"),
    _sig("ETCD_STREAM_LOST", ("peer",), r"lost TCP streaming connection with remote peer|lost the TCP streaming connection",
         "an etcd member lost its raft stream to a peer (the peer stopped, or the network between them broke)",
         Severity.WARNING,
         '{"level":"warn","ts":"2024-11-27T13:49:38.498261Z","caller":"rafthttp/stream.go:421","msg":"lost TCP streaming '
         'connection with remote peer","stream-reader-type":"stream MsgApp v2","local-member-id":"888f71556fc51deb",'
         '"remote-peer-id":"3667fe0856532cbb","error":"context canceled"}', _E + "18958"),
    _sig("ETCD_STREAM_READ_FAILED", ("fail",), r"failed to read \S+ on stream",
         "an etcd member's raft stream from a peer broke (the peer stopped or restarted, or the network "
         "between them dropped)", Severity.WARNING,
         "2016-06-02 18:45:52.046166 E | rafthttp: failed to read 4ad5e5c2c6d6d861 on stream MsgApp v2 "
         "(net/http: request canceled)", _E + "5550", detail=r"failed to read (\S+) on stream"),
    _sig("ETCD_CLOCK_DIFFERENCE", ("clock difference",), r"the clock difference against peer \S+ is too high",
         "etcd members' clocks differ by more than 1 s: leases and TTLs misbehave; fix time synchronisation",
         Severity.WARNING,
         "2016-07-13 16:59:59.776094 W | rafthttp: the clock difference against peer 4e8d454852097618 is too high "
         "[12.407738276s > 1s]", _E + "5938", duration=r"is too high \[([0-9hms.]+) >"),
    _sig("ETCD_PEER_ACTIVE", ("peer",), r"peer became active|established TCP streaming connection with remote peer",
         "an etcd peer connection is (again) up", Severity.INFO,
         '{"level":"info","ts":"2026-11-27T01:56:32.960Z","caller":"rafthttp/peer_status.go:51","msg":"peer became '
         'active","peer-id":"72beb674f1b0525d"}', _LAB + "etcd-zap-healthy-cp-1.log"),
    _sig("ETCD_READY", ("ready to serve",), r"ready to serve client requests",
         "etcd (re)started and serves clients", Severity.INFO,
         "Jun 19 15:05:09 host1 etcd[5039]: ready to serve client requests", _E + "9871"),
    # -- etcd: data ----------------------------------------------------------------------------
    _sig("ETCD_SNAPSHOT_RECOVERY_FAILED", ("panic", "fail"),
         r"failed to recover v3 backend from snapshot|failed to find database snapshot file",
         "etcd cannot load the snapshot its WAL points at (a .snap.db lost in a crash): the member cannot start",
         Severity.CRITICAL, "panic: failed to recover v3 backend from snapshot", _E + "14749"),
    _sig("ETCD_CORRUPTION", ("panic", "mismatch", "alarm", "rror", "fail"),
         r"crc mismatch|checksum mismatch|alarm raised.*CORRUPT|found data inconsistency|"
         r"panic: .*(?:[Pp]age|freelist|bolt|corrupt)|freepages: failed to get all reachable pages|"
         r"read wal error|failed to find database snapshot file|failed to recover v3 backend",
         "etcd found corrupted data (WAL CRC or torn WAL, bbolt pages, or hashes that differ between members)",
         Severity.CRITICAL,
         "panic: freepages: failed to get all reachable pages (page 2475294449906223648: out of bounds: 3758)",
         _E + "10722"),
    _sig("ETCD_MVCC_PANIC", ("mvcc.",), r"etcd/(?:server/v3/storage/)?mvcc\.(?:bytesToRev|restoreIntoIndex|"
                                         r"\(\*store\)\.restore)",
         "etcd panics rebuilding its index from the db file: the keys bucket is corrupted", Severity.CRITICAL,
         "go.etcd.io/etcd/mvcc.bytesToRev(0x7f760418e0b0, 0x5, 0x5, 0x0, 0x17f7780)", _E + "15498"),
    # -- other distributions' datastores ---------------------------------------------------------
    _sig("DQLITE_CORRUPT", ("fail", "rror"), r"vfsWalRestore: Assertion|open (?:cluster\.yaml node|servers) store",
         "MicroK8s' dqlite datastore cannot load its own files (a torn WAL, a corrupt cluster.yaml): the API "
         "server it runs in exits", Severity.CRITICAL,
         "Oct 27 14:12:23 sn microk8s.daemon-apiserver[108228]: kube-apiserver: src/vfs.c:2517: vfsWalRestore: "
         "Assertion `((n - VFS__WAL_HEADER_SIZE) % vfsFrameSize(page_size)) == 0' failed.", _MK8S + "1689"),
    _sig("KINE_DATASTORE_ERROR", ("rror", "fail", "Fail", "kine"),
         r"database is locked|failed to ping connection|Failed to test data store connection|"
         r"creating storage endpoint|building kine",
         "k3s/k0s's kine cannot use its datastore (SQLite locked, external database unreachable)",
         Severity.ERROR,
         'E0823 14:32:33.954900    6017 status.go:71] apiserver received an error that is not an metav1.Status: '
         'sqlite3.Error{Code:5, ExtendedCode:5, err:"database is locked"}', _K3S + "755"),
    _sig("DQLITE_ERROR", ("dqlite", "rror"),
         r"no available dqlite leader server found|error while \w+ on \S+ : query|dqlite.*deadline exceeded",
         "MicroK8s' dqlite datastore does not answer (no leader, quorum lost, a node too slow)", Severity.ERROR,
         'May 26 19:01:28 node02 microk8s.daemon-k8s-dqlite[1365]: time="2023-05-26T19:01:28+10:00" level=error '
         'msg="error while range on /registry/health : query (try: 0): context deadline exceeded"', _MK8S + "3227",
         ("microk8s.daemon-k8s-dqlite", "k8s-dqlite")),
    _sig("ETCD_REJECTED_CONNECTION", ("rejected",), r"rejected connection",
         "etcd refused a client's TLS connection (expired, unknown CA, bad or missing certificate)",
         Severity.ERROR,
         '{"level":"warn","ts":"2022-01-06T23:14:33.765Z","caller":"embed/config_logging.go:169","msg":"rejected '
         'connection","remote-addr":"172.25.143.104:40124","server-name":"etcd-np02-0.etcd-np02-headless.etcd.svc.'
         'cluster.local","error":"remote error: tls: bad certificate"}', "https://github.com/bitnami/charts/issues/8591",
         ETCD, _REJECT_DETAIL),
    # -- certificates ----------------------------------------------------------------------------
    _sig("CERT_FILE_NOT_FOUND", ("rror", "Fail"),
         r"(?:unable to load|Failure to start kubelet client|couldn't load).*open \S+\.(?:crt|pem|key): no such file or directory",
         "a component cannot find a certificate or key file it is configured to load: it exits at start",
         Severity.CRITICAL,
         "Error: unable to load client CA file: unable to load client CA file: open /etc/kubernetes/pki/root/tls.crt: "
         "no such file or directory", "https://github.com/kubernetes-retired/cluster-api-provider-nested/issues/190"),
    _sig("TLS_KEY_MISMATCH", ("does not match",), r"tls: private key does not match public key",
         "a component's key file is not the key of its certificate (a certificate renewed without its key, or "
         "files swapped): it cannot serve or present TLS", Severity.CRITICAL,
         "v3_grpc_test.go:1427: tls: private key does not match public key", _E + "7865"),
    _sig("CERT_FILE_UNREADABLE", ("rror",),
         r"unable to load (?:server certificate|client CA file).*permission denied",
         "a component may not read its certificate or key file (ownership or mode): it exits at start",
         Severity.CRITICAL,
         "error: unable to load server certificate: open /etc/kubernetes/pki/apiserver.crt: permission denied",
         "https://github.com/ReSearchITEng/kubeadm-playbook/issues/68"),
    _sig("CA_FILE_NOT_READABLE", ("rror",), r"error reading CA cert file",
         "the controller-manager cannot read the cluster CA it signs certificates with: its certificate "
         "controller does not start and no CSR gets signed", Severity.CRITICAL,
         "Nov 12 17:20:50 minikube localkube[3128]: E1112 17:20:50.975364    3128 certificates.go:48] Failed to "
         "start certificate controller: error reading CA cert file \"/etc/kubernetes/ca/ca.pem\": open "
         "/etc/kubernetes/ca/ca.pem: no such file or directory", "https://github.com/kubernetes/minikube/issues/2187",
         detail=r'CA cert file "?([^":]+)'),
    _sig("AUTHN_CERT_EXPIRED", ("authenticate",),
         r"Unable to authenticate the request.*x509: certificate has expired",
         "the API server rejects a client whose certificate has expired", Severity.CRITICAL,
         "E0809 16:13:15.327109       1 authentication.go:53] Unable to authenticate the request due to an error: "
         "x509: certificate has expired or is not yet valid", "https://github.com/kubernetes/minikube/issues/8945",
         APISERVER + ("k3s", "microk8s.daemon-kubelite"), r"due to an error: (.{0,120})"),
    _sig("AUTHN_FAILED", ("authenticate",), r"Unable to authenticate the request",
         "the API server rejects a client's credentials (often a client certificate from another CA)",
         Severity.ERROR,
         "E0114 08:29:41.249482       1 authentication.go:104] Unable to authenticate the request due to an error: "
         "[x509: certificate signed by unknown authority, x509: certificate signed by unknown authority]",
         "https://github.com/kubernetes/minikube/issues/6311", APISERVER + ("k3s",),
         r"due to an error: (.{0,120})"),
    _sig("BOOTSTRAP_CERT_EXPIRED", ("expire",), r"bootstrap client certificate.* is expired|"
                                                 r"client certificate .*kubelet.conf is expired",
         "the kubelet's client certificate expired: it can no longer authenticate and the node goes NotReady",
         Severity.CRITICAL,
         "Jan 18 17:33:58 aura kubelet[1457370]: E0118 17:33:58.888700 1457370 bootstrap.go:265] part of the "
         "existing bootstrap client certificate is expired: 2020-12-06 18:55:55 +0000 UTC", _K + "98150"),
    _sig("CSR_NOT_APPROVED", ("not approved",),
         r'recognized csr \\?"[^"\\]+\\?" as \[[^\]]*\] but subject access review was not approved',
         "the CSR approver recognised a kubelet's certificate request but its requester may not self-approve "
         "it (missing RBAC for node bootstrap): the node cannot get its certificate", Severity.WARNING,
         'E1102 09:13:18.033252       1 certificate_controller.go:139] Sync csr-b2jkb failed with : recognized '
         'csr "csr-b2jkb" as [nodeclient] but subject access review was not approved',
         "https://github.com/TonyChengTW/k8s-ha (cluster-info/, tests/fixtures/foreign/cluster-info-dump-1.8)",
         detail=r'recognized csr \\?"([^"\\]+)\\?" as \[([^\]]*)\]'),
    _sig("KUBELET_CSR_CREATE_REJECTED", ("fail", "Fail", "rror"),
         r"cannot create certificate signing request: (?:Unauthorized|.*?is forbidden|User )",
         "the API server refuses the kubelet's certificate request: its bootstrap credentials are unknown or "
         "expired (Unauthorized, or it arrives as system:anonymous) or the bootstrap user may not create CSRs "
         "(no system:node-bootstrapper binding), so the kubelet gets no client certificate", Severity.ERROR,
         '9月 05 13:51:55 m1 kubelet[2836]: error: failed to run Kubelet: cannot create certificate signing '
         'request: User "system:anonymous" cannot create certificatesigningrequests.certificates.k8s.io at the '
         'cluster scope. (', _K + "51934", detail=r'(Unauthorized|User \\?"[^"\\]*)'),
    _sig("KUBEADM_TOKEN_INVALID", ("expire",), r'token id \\?"\S+\\?" is invalid for this cluster or it has expired',
         "kubeadm join's bootstrap token is unknown to the cluster or expired (24 h by default): discovery "
         "of the cluster CA never succeeds and the node cannot join", Severity.ERROR,
         'I0108 01:52:49.440595    2700 token.go:191] [discovery] Failed to connect to API Server "kubes:6443": '
         'token id "xxxx" is invalid for this cluster or it has expired. Use "kubeadm token create" on the '
         'control-plane node to create a new valid token', _K + "86936"),
    _sig("CSR_NOT_SIGNED", ("not signed", "Fail"),
         r"Certificate request was not signed|Failed while requesting a signed certificate",
         "the kubelet's certificate signing request is not approved/signed in time: no approver (or the "
         "controller-manager's signer is not running)", Severity.ERROR,
         "May 29 14:18:56 k8s11 kubelet[25170]: E0529 14:18:56.794752   25170 certificate_manager.go:378] "
         "Certificate request was not signed: timed out waiting for the condition", _K + "77489"),
    _sig("CSR_PENDING_SERVING", ("csr-",),
         r"^\s*(?:>\s*)?`?\S*csr-\S+\s+\d+[smhd]\S*\s+kubernetes\.io/kubelet-serving\s+.*\sPending\s*$",
         "a kubelet serving-certificate request waits for approval: nothing approves kubelet-serving CSRs, so "
         "`kubectl logs/exec` to that node fail TLS", Severity.WARNING,
         "csr-28tx9   18h     kubernetes.io/kubelet-serving   system:node:ip-10-0-102-158.us-west-2.compute."
         "internal   Pending", "https://github.com/awslabs/eks-perf-tests/issues/189",
         detail=r"csr-\S+\s+(\d+[smhd])"),
    _sig("CSR_PENDING", ("csr-",), r"^\s*(?:>\s*)?`?\S*csr-\S+\s+\d+[smhd]\S*\s+(?:\S+\s+)*?Pending\s*$",
         "a node's client certificate request waits for approval: the node cannot join or renew its "
         "credentials", Severity.ERROR,
         "node-csr-00NHp-Cdq0qUqXGYnIu81KB39_a56-llQKS5aGn_ecU   3h        system:bootstrap:zhqvxa   Pending",
         _K + "65843", detail=r"csr-\S+\s+(\d+[smhd])"),
    _sig("CSR_APPROVED_NOT_ISSUED", ("csr-",), r"^\s*(?:>\s*)?`?\S*csr-\S+\s+\d+[smhd]\S*\s+.*\sApproved\s*$",
         "a certificate signing request was approved but never issued: no signer runs "
         "(kube-controller-manager's csrsigning controller, or its --cluster-signing-* files)", Severity.ERROR,
         "node-csr-zxERkRZpS1ARltTLz1CVqBI7-9cqqgZdYoF8C65VKO0   24s       system:bootstrap:w2wne3   Approved",
         _OPS + "276"),
    _sig("CERT_EXPIRES_NEGATIVE", ("expire",), r"certificate will expire in -\d+ days",
         "a certificate check reports a certificate already expired (negative days left)", Severity.CRITICAL,
         "The front proxy client certificate will expire in -2 days.", _MK8S + "5576"),
    _sig("SERVING_CERT_MISSING", ("fail",),
         r"missing content for serving cert|tls: failed to find any PEM data",
         "a component's serving certificate file is empty or missing: it cannot serve TLS", Severity.CRITICAL,
         'Nov 09 18:31:12 nuc microk8s.daemon-kubelite[1529577]: E1109 18:31:12.884589 1529577 '
         'dynamic_serving_content.go:218] key failed with : missing content for serving cert "serving-cert::'
         '/var/snap/microk8s/6102/certs/server.crt::/var/snap/microk8s/6102/certs/server.key"', _MK8S + "4296"),
    _sig("CLIENT_CREDENTIALS_REJECTED", ("rror",),
         r"You must be logged in to the server|the server has asked for the client to provide credentials",
         "the API server rejects the client's credentials: an expired or foreign client certificate, or a "
         "token it does not know", Severity.ERROR, "error: You must be logged in to the server (Unauthorized)",
         "https://github.com/vitobotta/hetzner-k3s/issues/164"),
    _sig("X509_EXPIRED", ("x509",), r"x509: certificate has expired",
         "a TLS peer's certificate has expired (or the clock is wrong)", Severity.CRITICAL,
         "etcd-0               Unhealthy   Get https://127.0.0.1:4001/health: x509: certificate has expired or is "
         "not yet valid", _KADM + "2177", detail=r"(x509: [^\"]{0,100})"),
    _sig("X509_UNKNOWN_AUTHORITY", ("x509",), r"x509: certificate signed by unknown authority",
         "a TLS peer's certificate is signed by a CA the other side does not trust (a kubeconfig or component "
         "with another cluster's CA, or certificates regenerated without the CA)", Severity.ERROR,
         'Unable to connect to the server: x509: certificate signed by unknown authority (possibly because of '
         '"crypto/rsa: verification error" while trying to verify candidate authority certificate "kubernetes")',
         "https://github.com/labring/sealos/issues/26", detail=r"(x509: [^\"(]{0,100})"),
    _sig("X509_LEGACY_COMMON_NAME", ("x509",), r"x509: certificate relies on legacy Common Name field",
         "a certificate names its host only in the Common Name; Go 1.15+ clients (every current Kubernetes "
         "component) require a subjectAltName, so TLS to it fails", Severity.ERROR,
         'Unexpected error validating SSL certificate "default/cncamp-tls" for server "cncamp.com": x509: '
         'certificate relies on legacy Common Name field, use SANs instead', "https://github.com/cncamp/101/pull/12"),
    _sig("X509_VALID_FOR_OTHER_NAMES", ("x509",), r"x509: certificate is valid for .*, not \S+",
         "the server's certificate names other addresses than the one dialled (a VIP, a new IP, a public IP)",
         Severity.ERROR,
         "error: couldn't read version from server: Get https://146.148.119.50:6443/api: x509: certificate is valid "
         "for 10.240.0.2, 10.200.100.1, not 146.148.119.50",
         "https://github.com/kelseyhightower/intro-to-kubernetes-workshop/issues/13", detail=r"(not \S+)"),
    _sig("K3S_TOKEN_CA_MISMATCH", ("level=error",), r"token CA hash does not match the Cluster CA certificate hash",
         "a k3s/RKE2 agent's join token names another cluster CA than the server presents (a token from an earlier "
         "install, or a rotated CA)", Severity.ERROR,
         'Jul 29 06:42:37 localhost.localdomain k3s[5015]: time="2021-07-29T06:42:37.109627641-04:00" level=error '
         'msg="token CA hash does not match the Cluster CA certificate hash: '
         'f08676bf4f7418e46f692f21543118417d2698b7f758027b352dd87cfd6de3ab != '
         '8e7d49c6991960d1a116415d9506f0a15ea3e278538c173b1d9965b62727267d"', _K3S + "3727"),
    _sig("X509_NAME_MISMATCH", ("x509",), r"x509: cannot validate certificate for|x509: certificate is valid for|"
                                          r"x509: certificate is not valid for any names",
         "a server certificate does not name the address the client dialled (missing IP SAN or DNS name)",
         Severity.ERROR,
         "Error from server: Get https://10.240.0.12:10250/containerLogs/kube-system/cilium-m4fp4/cilium-agent: "
         "x509: cannot validate certificate for 10.240.0.12 because it doesn't contain any IP SANs",
         _K + "62939", detail=r"(x509: [^\"']{0,100})"),
    # -- node ------------------------------------------------------------------------------------
    _sig("NO_SPACE_LEFT", ("no space",), r"no space left on device",
         "a write failed because the filesystem is full", Severity.CRITICAL,
         "Service '*' failed to build: mkdir /var/run/docker/libcontainerd/: no space left on device",
         "https://github.com/docker/for-linux/issues/214"),
    _sig("CONTROL_PLANE_NO_ROUTE", ("no route",),
         r"dial tcp \S+:(?:6443|2379|2380|10250|10257|10259): connect: no route to host",
         "a control-plane port answers `no route to host`: a firewall rejects it with an ICMP "
         "host-prohibited reply (firewalld's default), or the address is down or wrong", Severity.ERROR,
         "dial tcp 172.28.62.68:10250: connect: no route to host", _KADM + "1520",
         detail=r"dial tcp (\S+:\d+): connect: no route"),
    _sig("KUBE_PROXY_IPTABLES_FAILED", ("Fail",), r"Failed to execute iptables-restore",
         "kube-proxy cannot program its Service rules (iptables-restore fails: a missing kernel module, an "
         "iptables/nftables mismatch): Services, including the `kubernetes` one, stop working on the node",
         Severity.ERROR,
         'proxier.go:1484] "Failed to execute iptables-restore" err="exit status 1 (iptables-restore: line 1193 '
         'failed\\n)"', _K + "112292"),
    _sig("SERVICE_VIP_TIMEOUT", ("i/o timeout",), r"(?<!Unable to connect to the server: )dial tcp (?:10|172)\.\d+\.\d+\.1:443: i/o timeout",
         "a pod cannot reach the `kubernetes` Service address (the API server behind its cluster IP): "
         "kube-proxy's rules, the CNI or a firewall between nodes drops the traffic", Severity.WARNING,
         "E0927 02:46:21.189588       1 server.go:369] Can't get Node \"ralphk8s-node-3\", assuming iptables "
         "proxy, err: Get https://10.0.0.1:443/api/v1/nodes/ralphk8s-node-3: dial tcp 10.0.0.1:443: i/o timeout",
         "https://github.com/kubernetes-retired/kubernetes-anywhere/issues/232",
         detail=r"dial tcp (\S+:443): i/o timeout"),
    _sig("CNI_CONFIG_MISSING", ("Unable",), r"Unable to update cni config: [Nn]o networks found in \S+",
         "the kubelet finds no CNI network configuration: no network plugin is installed (or its pods do not "
         "run), so pods get no network and the node stays NotReady", Severity.WARNING,
         "Jun 22 00:03:17 k8s-master-server kubelet[13584]: W0622 00:03:17.754367   13584 cni.go:171] Unable to "
         "update cni config: No networks found in /etc/cni/net.d", _OPS + "232",
         detail=r"no networks found in (\S+)"),
    _sig("CNI_NOT_READY", ("NetworkReady=false", "NetworkPluginNotReady"),
         r"Container runtime network not ready|NetworkPluginNotReady",
         "the kubelet has no working CNI network (no plugin installed yet, or its config/pods broken): the node "
         "stays NotReady and pods cannot start", Severity.WARNING,
         "kubelet.go:2073] Container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
         "message:docker: network plugin is not ready: cni config uninitialized",
         "https://github.com/kinvolk/kube-spawn/issues/13"),
    _sig("KUBELET_SWAP_ON", ("fail",), r"running with swap on is not supported|Running with swap on is not supported",
         "the kubelet refuses to start while swap is on", Severity.CRITICAL,
         "Oct 01 11:15:21 master kubelet[16173]: error: failed to run Kubelet: Running with swap on is not "
         "supported, please disable swap! or set --fail-swap-on fla", "https://github.com/kubevirt/kubevirt/issues/478"),
    _sig("KUBELET_CONFIG_FILE_FAILED", ("fail",), r"(?i)failed to load kubelet config file",
         "the kubelet exits at start: its config file is missing or invalid (kubeadm init/join has not run on "
         "this node yet, or the file was edited wrongly)", Severity.ERROR,
         "Sep 03 15:22:26 lxappstrlprd002 kubelet[4347]: F0903 15:22:26.035578    4347 server.go:198] failed to "
         "load Kubelet config file /var/lib/kubelet/config.yaml, error failed to read kubelet config file "
         "\"/var/lib/kubelet/config.yaml\", error: open /var/lib/kubelet/config.yaml: no such file or directory",
         _K + "82293", detail=r"(?i)config file (\S+?),? error"),
    _sig("KUBELET_BOOTSTRAP_KUBECONFIG_MISSING", ("fail",), r"unable to load bootstrap kubeconfig",
         "the kubelet has neither a kubeconfig nor a bootstrap kubeconfig: the node never joined (or its "
         "files were removed) and the kubelet exits", Severity.CRITICAL,
         "Dec 11 18:17:03 virtbio kubelet[14346]: F1211 18:17:03.334953   14346 server.go:273] failed to run "
         "Kubelet: unable to load bootstrap kubeconfig: stat /etc/kubernetes/bootstrap-kubelet.conf: no such "
         "file or directory", "https://github.com/kubernetes/minikube/issues/6062"),
    _sig("KUBELET_KUBECONFIG_INVALID", ("fail",), r"failed to run Kubelet: invalid kubeconfig",
         "the kubelet cannot read its kubeconfig (wrong path, a directory, bad content): it exits at start",
         Severity.CRITICAL,
         '"command failed" err="failed to run Kubelet: invalid kubeconfig: error loading config file '
         '\\"/var/lib/kubelet/kubeconfig\\": read /var/lib/kubelet/kubeconfig: is a directory"',
         "https://github.com/kelseyhightower/kubernetes-the-hard-way/issues/807"),
    _sig("KUBELET_CONTAINER_MANAGER_FAILED", ("Fail",), r"Failed to start ContainerManager",
         "the kubelet cannot set up its cgroups (QoS containers, a missing cgroup controller, cgroup driver "
         "trouble): it does not run pods and keeps restarting", Severity.ERROR,
         'kubelet.go:1547] "Failed to start ContainerManager" err="failed to initialize top level QOS containers: '
         'root container [kubepods] doesn\'t exist"', "https://github.com/canonical/k8s-snap/issues/483",
         detail=r"ContainerManager\"?\s*(?:err=\")?([^:\]\"]{0,80})"),
    _sig("KUBELET_EVICTING", ("evict",),
         r"eviction manager: (?:attempting to reclaim|must evict pod|eviction thresholds have been met|"
         r"pods? \S+ evicted)",
         "the kubelet is under resource pressure (disk or memory) and reclaims it: images and containers are "
         "removed, then pods evicted", Severity.WARNING,
         "W1010 09:15:45.265944       1 eviction_manager.go:333] eviction manager: attempting to reclaim "
         "ephemeral-storage", _K3S + "888", detail=r"to reclaim (\S+)"),
    _sig("IMAGE_GC_FAILED", ("fail",), r"failed to garbage collect required amount of images",
         "the kubelet's disk is above its image garbage-collection threshold and deleting unused images does "
         "not free enough: disk pressure and evictions follow", Severity.WARNING,
         "failed to garbage collect required amount of images. Wanted to free 473842483 bytes, but freed 0 "
         "bytes", _K + "71869"),
    _sig("KUBELET_CGROUP_DRIVER", ("fail",), r"kubelet cgroup driver: .* is different from \S+ cgroup driver",
         "the kubelet and the container runtime use different cgroup drivers: the kubelet exits", Severity.CRITICAL,
         "Jan 03 01:49:48 banwagong localkube[30646]: kubelet: Exit with error: failed to run Kubelet: failed to "
         "create kubelet: misconfiguration: kubelet cgroup driver: \"cgroupfs\" is different from docker cgroup "
         "driver: \"systemd\"", "https://github.com/kubernetes/minikube/issues/2381"),
    _sig("KUBELET_PLEG_UNHEALTHY", ("pod synchronization",), r"PLEG is not healthy: pleg was last seen active",
         "the kubelet's pod lifecycle loop stalls (container runtime hung or overloaded): the node goes NotReady",
         Severity.ERROR,
         'Apr 13 10:53:52 ip-10-42-10-121 kubelet: E0413 10:53:52.844381    3263 kubelet.go:2055] "Skipping pod '
         'synchronization" err="PLEG is not healthy: pleg was last seen active 2h33m12.704970756s ago; threshold '
         'is 3m0s"', "https://github.com/aws-samples/eks-workshop-v2/issues/447",
         duration=r"last seen active ([0-9hms.]+) ago"),
    _sig("RUNTIME_DOWN", ("pod synchronization",), r"container runtime is down",
         "the kubelet cannot talk to the container runtime", Severity.ERROR,
         "I0705 13:07:12.370298   32911 kubelet.go:1799] skipping pod synchronization - [container runtime is "
         "down]", _K + "65843"),
    _sig("NODE_STATUS_UNKNOWN", ("posting",), r"Kubelet stopped posting node status",
         "a node's kubelet stopped reporting: the node is NotReady (kubelet down, or cannot reach the API server)",
         Severity.ERROR, '    "message": "Kubelet stopped posting node status.",',
         "https://github.com/RHsyseng/openshift-checks/pull/52"),
    _sig("SYSTEMD_FAILED_RESULT", ("Fail", "fail"),
         r"\S+\.service: Failed with result|Unit \S+\.service entered failed state|"
         r"\S+\.service: Unit entered failed state|\b\S+\.service failed\.\s*$",
         "systemd marks the service failed", Severity.CRITICAL,
         "Unit kubelet.service entered failed state.", "https://github.com/easzlab/kubeasz/issues/210",
         detail=UNIT_DETAIL),
    _sig("SYSTEMD_START_FAILED", ("Fail",),
         r"Failed to start (?:Kubernetes|Lightweight Kubernetes|Etcd|etcd|kubelet|Rancher Kubernetes|k0s|"
         r"Service for snap application microk8s)",
         "systemd could not start a control-plane service (its own log says why)", Severity.CRITICAL,
         "Jun 05 19:07:41 node1 systemd[1]: Failed to start Kubernetes API Service.", _K + "102619",
         detail=r"Failed to start (.+?)\.?\s*$"),
    _sig("SYSTEMD_RESTART_LOOP", ("restart",), r"Scheduled restart job, restart counter is at \d+",
         "systemd keeps restarting the service: it exits again after every start", Severity.CRITICAL,
         "2023-12-16T04:14:34Z systemd[1]: snap.microk8s.daemon-kubelite.service: Scheduled restart job, restart "
         "counter is at 259.", _MK8S + "4342", detail=UNIT_DETAIL),
    _sig("SERVICE_NOT_RUNNING", ("FAIL",), r"FAIL:\s+Service \S+ is not running",
         "an inspection tool (microk8s inspect) finds a control-plane service not running", Severity.CRITICAL,
         " FAIL:  Service snap.microk8s.daemon-kubelite is not running", _MK8S + "2837", detail=UNIT_DETAIL),
    _sig("SYSTEMD_UNIT_FAILED", ("status=", "fail", "auto-restart"),
         r"(?:Main process exited|main process exited), code=\w+, status=\d+|Result: start-limit|"
         r"activating \(auto-restart\)|\(code=exited, status=[1-9]",
         "systemd reports the service exiting with an error and restarting it", Severity.CRITICAL,
         "Oct 22 05:17:19 localhost.localdomain systemd[1]: kubelet.service: Main process exited, code=exited, "
         "status=203/EXEC", "https://github.com/kubernetes/minikube/issues/5690", detail=UNIT_DETAIL),
    # -- API server reachability -----------------------------------------------------------------
    _sig("PROBE_RESTARTS", ("probe",),
         r"Container (?:kube-apiserver|etcd|kube-scheduler|kube-controller-manager) failed (?:liveness|startup) probe|"
         r"Liveness probe for \\?\"(?:kube-apiserver|etcd|kube-scheduler|kube-controller-manager)",
         "the kubelet kills a control-plane container because its liveness probe fails (hung, overloaded, or "
         "a probe that cannot pass)", Severity.ERROR,
         'Oct 01 17:51:16.097400 gce-scale-cluster-master kubelet[2779]: I1001 17:51:16.095374    2779 '
         'kuberuntime_manager.go:612] Container "kube-apiserver" ({"docker" '
         '"13fad7ec052d788db8bfcf9678f50dbd1b1e17d0b51a8501097d41fb95cbea27"}) of pod '
         'kube-apiserver-gce-scale-cluster-master_kube-system(ad5dcc4cf986873a44cd4b433aa90322): Container '
         'kube-apiserver failed liveness probe, will be restarted', "https://github.com/kubernetes/kubernetes/pull/83390",
         detail=r"(kube-apiserver|etcd|kube-scheduler|kube-controller-manager)"),
    _sig("KUBELET_NODE_NOT_FOUND", ("not found",), r'node \\?"[^"\\]+\\?" not found',
         "the kubelet finds no Node object for itself: it never registered (the API server refused or was down)",
         Severity.WARNING,
         'Feb 19 22:05:25 k8s-master kubelet[22041]: E0219 22:05:25.634050   22041 kubelet.go:2266] node '
         '"k8s-master" not found', _K + "74262"),
    _sig("APISERVER_CONNECT_TIMEOUT", ("Unable",),
         r"Unable to connect to the server: (?:net/http: TLS handshake timeout|dial tcp \S+: i/o timeout|EOF)",
         "kubectl reaches no API server in time: it is down or overloaded, or a load balancer in front of it "
         "accepts the connection and has no backend", Severity.ERROR,
         "Unable to connect to the server: net/http: TLS handshake timeout",
         "https://github.com/kubernetes/kubectl/issues/720"),
    _sig("APISERVER_PROBE_FAILED", ("fail",), r"(?:Liveness|Readiness|Startup) probe failed: .*:6443/",
         "the kubelet's probe of the API server fails: it is restarted (liveness) or never becomes ready",
         Severity.ERROR,
         '  Warning  Unhealthy       21h (x2 over 21h)        kubelet  Liveness probe failed: Get "https://192.168.'
         '56.11:6443/livez": dial tcp 192.168.56.11:6443: connect: connection refused',
         "https://github.com/kodekloudhub/certified-kubernetes-administrator-course/issues/150"),
    _sig("APISERVICE_DISCOVERY_FAILED", ("server APIs",),
         r"unable to retrieve the complete list of server APIs: \S+: the server is currently unable to handle the request",
         "an aggregated API's service does not answer (often metrics-server): discovery through the API server fails",
         Severity.WARNING,
         "INFO[2020-11-17 21:28:46] E1117 21:28:46.748709   13036 resource_quota_controller.go:408] unable to "
         "retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to "
         "handle the request  component=kube-controller-manager", "https://github.com/k0sproject/k0s/issues/417"),
    _sig("APISERVICE_METRICS_UNAVAILABLE", ("rror",),
         r"the server is currently unable to handle the request \(get \S+\.metrics\.k8s\.io\)",
         "kubectl top gets 503 from the metrics API: metrics-server is not running or the API server cannot "
         "reach it", Severity.WARNING,
         "Error from server (ServiceUnavailable): the server is currently unable to handle the request (get "
         "nodes.metrics.k8s.io)", _OPS + "470"),
    _sig("APISERVICE_UNAVAILABLE", ("rror", "fail"),
         r"APIService \\?\"?[\w.]+\\?\"? (?:with err|failed with)|Error updating APIService",
         "the API server cannot reach an aggregated API (metrics-server and the like): its Service has no "
         "ready endpoint, or the front-proxy client certificate is rejected", Severity.WARNING,
         'Jan 28 09:45:35 k0s-1 k0s[5557]: time="2025-01-28 09:45:35" level=info msg="\\tError updating APIService '
         '\\"v1beta1.metrics.k8s.io\\" with err: failed to download v1beta1.metrics.k8s.io: failed to retrieve '
         'openAPI spec, http error: ResponseCode: 503, Body: service unavailable" component=kube-apiserver '
         'stream=stderr', "https://github.com/k0sproject/k0sctl/issues/829"),
    _sig("KUBECTL_NO_KUBECONFIG", ("refused",),
         r"connection to the server (?:localhost|127\.0\.0\.1):8080 was refused",
         "kubectl found no kubeconfig (KUBECONFIG unset, no ~/.kube/config on this host) and tried its "
         "built-in default localhost:8080: this says nothing about the API server", Severity.INFO,
         "The connection to the server localhost:8080 was refused - did you specify the right host or port?",
         _K + "23726"),
    _sig("APISERVER_REFUSED", ("refused",), r":(?:6443|16443)\b.*connection refused|:(?:6443|16443) was refused",
         "a client is refused on the API server's port 6443: the API server is down (or a REJECT rule answers)",
         Severity.CRITICAL,
         'Jul 27 17:22:17 kubernetes kubelet[10401]: E0727 17:22:17.032125   10401 kubelet_node_status.go:103] '
         'Unable to register node "kubernetes" with API server: Post https://192.168.1.19:6443/api/v1/nodes: dial '
         'tcp 192.168.1.19:6443: connect: connection refused', _KADM + "1026", detail=_REFUSED_DETAIL),
    _sig("K3S_CA_CERTS_FAILED", ("fail",),
         r"failed to get CA certs(?: at \S+)?: Get \S+: (?:EOF|read tcp .*(?:connection reset by peer|EOF)|"
         r".*i/o timeout|.*no route to host)",
         "a k3s/RKE2 node cannot fetch the server's CA through its local load balancer: the server's 6443 does "
         "not answer TLS (server down, a proxy or firewall in the way)", Severity.ERROR,
         'ERRO[0007] failed to get CA certs: Get "https://127.0.0.1:6444/cacerts": read tcp '
         '127.0.0.1:47166->127.0.0.1:6444: read: connection reset by peer', _K3S + "9748"),
    _sig("KUBELET_LEASE_FAILED", ("Fail",), r"Failed to ensure lease exists, will retry",
         "the kubelet cannot create or renew its node lease through the API server (it is unreachable, slow, "
         "or rejects the kubelet): the node turns NotReady after the grace period", Severity.WARNING,
         'kubelet[539]: E0119 13:38:02.328212     539 controller.go:146] "Failed to ensure lease exists, will retry" '
         'err="Get \\"https://kub-lb-api-icce.fltd.loc:6443/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/'
         'leases/ic>', "https://github.com/cri-o/cri-o/issues/7701"),
    _sig("KUBEADM_JOIN_API_UNREACHABLE", ("rror",),
         r"couldn't validate the identity of the API Server",
         "kubeadm join cannot reach the API server it was told to join (down, firewalled, or a wrong address)",
         Severity.ERROR,
         'error execution phase preflight: couldn\'t validate the identity of the API Server: Get '
         '"https://172.31.20.26:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": net/http: '
         'request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
         _KADM + "2740"),
    _sig("APISERVER_SERVICE_UNAVAILABLE", ("rror",),
         r"Error from server \(ServiceUnavailable\): the server is currently unable to handle the request\s*$",
         "the API server answers 503 to every request: it is up but cannot serve (etcd unavailable, still "
         "starting)", Severity.ERROR,
         "Error from server (ServiceUnavailable): the server is currently unable to handle the request",
         _K3S + "3723"),
    _sig("KUBELET_NODE_STATUS_RETRIES", ("Unable",),
         r"Unable to update node status: update node status exceeds retry count",
         "the kubelet cannot update its node's status through the API server: the node turns NotReady",
         Severity.WARNING,
         "May 06 01:05:41 kube-mxxxx01 kubelet[1135]: E0506 01:05:41.704187    1135 kubelet_node_status.go:457] "
         "Unable to update node status: update node status exceeds retry count",
         "https://github.com/kubernetes-sigs/metrics-server/issues/744"),
    _sig("RKE2_WAITING_FOR_APISERVER", ("Waiting for",), r"Waiting for API server to become available",
         "RKE2/k3s waits for its API server to come up (normal for seconds at start; lasting, it does not start)",
         Severity.WARNING,
         'Jan 11 18:49:33 ecs2u rke2[495556]: time="2024-01-11T18:49:33Z" level=info msg="Waiting for API server '
         'to become available"', "https://github.com/rancher/rke2/issues/5249"),
    _sig("APISERVER_CLIENT_TIMEOUT", ("exceeded", "handshake"),
         r"Client\.Timeout exceeded while awaiting headers|:6443\b.*TLS handshake timeout",
         "a client's request to the API server got no answer in time: the API server (or its etcd) is "
         "overloaded or hung", Severity.ERROR,
         "E0822 23:02:35.966761       1 leaderelection.go:306] error retrieving resource lock kube-system/kube-"
         "scheduler: Get https://127.0.0.1:6443/api/v1/namespaces/kube-system/endpoints/kube-scheduler?timeout=10s: "
         "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
         "https://github.com/rancher/rancher/issues/22384"),
    _sig("CM_APISERVER_NOT_HEALTHY", ("rror", "fail"), r"failed to wait for apiserver being healthy",
         "the controller-manager gave up waiting for the API server's /healthz at start and exits: the API "
         "server is down or unhealthy (its etcd, its post-start hooks)", Severity.ERROR,
         "F0326 19:53:48.674266       6 controllermanager.go:184] error building controller context: failed to "
         "wait for apiserver being healthy: timed out waiting for the condition",
         "https://github.com/rancher/rancher/issues/19194"),
    _sig("KUBEADM_PREFLIGHT_LEFTOVERS", ("[ERROR",),
         r"\[ERROR (?:Port-\d+|FileAvailable--\S+|DirAvailable--\S+)\]",
         "kubeadm's preflight finds a control plane already on this node (ports in use, manifests or etcd data "
         "left): a previous init/join was not reset", Severity.ERROR,
         "        [ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: "
         "/etc/kubernetes/manifests/kube-apiserver.yaml already exists", _KADM + "1616",
         detail=r"\[ERROR (Port-\d+|FileAvailable|DirAvailable)"),
    _sig("KUBEADM_PREFLIGHT_CRI", ("[ERROR",), r"\[ERROR CRI\]: container runtime is not running",
         "kubeadm cannot talk to the container runtime (not running, or too old for the CRI v1 API)",
         Severity.CRITICAL,
         '\t[ERROR CRI]: container runtime is not running: output: time="2023-02-01T13:51:00-08:00" level=fatal '
         'msg="validate service connection: CRI v1 runtime API is not implemented for endpoint '
         '\\"unix:///var/run/containerd/containerd.sock\\": rpc error: code = Unimplemented desc = unknown service '
         'runtime.v1.RuntimeService"', "https://github.com/fujitatomoya/ros_k8s/issues/8"),
    _sig("KUBEADM_ERROR", ("rror",), r"Unfortunately, an error has occurred",
         "kubeadm gave up: the control plane did not come up (its output lists the checks to run)", Severity.ERROR,
         "Unfortunately, an error has occurred:", "https://github.com/kube-vip/kube-vip/issues/1138"),
    _sig("KUBEADM_API_NOT_HEALTHY", ("-check]", "timed out"),
         r"\[api-check\] The API server is not healthy|\[kubelet-check\] Initial timeout of|"
         r"timed out waiting for the condition.*control plane|\[control-plane-check\].* is not healthy",
         "kubeadm waited for the control plane and it never became healthy", Severity.CRITICAL,
         "[api-check] The API server is not healthy after 4m0.000666996s",
         "https://github.com/kube-vip/kube-vip/issues/1138"),
    _sig("KUBEADM_STATIC_POD_HASH", ("rror",), r"static Pod hash for component (\S+) on Node \S+ did not change",
         "kubeadm upgrade wrote a new static pod manifest but the kubelet never restarted the component with it",
         Severity.CRITICAL,
         "error execution phase control-plane: couldn't complete the static pod upgrade: couldn't upgrade control "
         "plane. kubeadm has tried to recover everything into the earlier state. Errors faced: static Pod hash for "
         "component kube-apiserver on Node omega-controlplane-0 did not change after 5m0s: context deadline "
         "exceeded", "https://github.com/christensenjairus/ClusterCreator/issues/54",
         detail=r"component (\S+) on Node"),
    _sig("KUBEADM_UPGRADE_FAILED", ("rror", "FATAL"), r"couldn't upgrade control plane",
         "kubeadm upgrade could not bring the control plane up on the new version and rolled back", Severity.ERROR,
         "[upgrade/apply] FATAL: couldn't upgrade control plane. kubeadm has tried to recover everything into the "
         "earlier state. Errors faced", "https://github.com/kubernetes/website/issues/14898"),
    _sig("APISERVER_ENDPOINT_RESET", ("Resetting",), r"Resetting endpoints for master service",
         "API servers keep rewriting the `kubernetes` Service endpoints: --apiserver-count (or the lease "
         "reconciler) disagrees with the number of API servers", Severity.WARNING,
         'W1102 22:46:05.395980       6 controller.go:351] Resetting endpoints for master service "kubernetes" to '
         '&TypeMeta{Kind:,APIVersion:,}', "https://github.com/kubernetes/kops/issues/790"),
    # -- load balancers in front of the API servers ----------------------------------------------
    _sig("LB_NO_BACKEND", ("available", "is DOWN"),
         r"has no server available|\b0 active and 0 backup servers left",
         "the load balancer has no API server left to send to: the API is down behind its address",
         Severity.CRITICAL,
         'Aug 25 05:30:34 localhost haproxy[20870]: Server k8s-api/k8s-api-2 is DOWN, reason: Layer4 connection '
         'problem, info: "General socket error (Permission denied) at initial connection step of tcp-check", check '
         'duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
         "https://github.com/cnych/qikqiak.com/issues/6"),
    _sig("LB_BACKEND_DOWN", ("is DOWN", "available"),
         r"Server \S+ is DOWN|has no server available",
         "the load balancer in front of the API servers marks a backend down (or has none left)", Severity.ERROR,
         'Server k8s-api/k8s-api-1 is DOWN, reason: Layer4 connection problem, info: "General socket error '
         '(Permission denied) at initial connection step of tcp-check", check duration: 0ms. 1 active and 0 '
         'backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
         "https://github.com/cnych/qikqiak.com/issues/6", detail=r"(\d+) active and \d+ backup servers left"),
    _sig("LB_UPSTREAM_REFUSED", ("rror",),
         r"(?:connect\(\) failed \(111: Connection refused\)|upstream timed out \(110: Connection timed out\)) "
         r"while connecting to upstream.*upstream: \"?[^\s\"]+:6443",
         "nginx in front of the API servers cannot connect to an API server backend (it refuses or does not "
         "answer on 6443)", Severity.ERROR,
         '2021/03/22 10:45:14 [error] 15#15: *1063 connect() failed (111: Connection refused) while connecting to '
         'upstream, client: 172.18.0.1, server: 0.0.0.0:6443, upstream: "172.18.0.3:6443", bytes from/to '
         'client:0/0, bytes from/to upstream:0/0', "https://github.com/k3d-io/k3d/issues/542",
         detail=r'upstream: "?([^\s",]+)'),
    _sig("VIP_CHECK_FAILED", ("fail", "FAULT"), r"VRRP_Script\(\S+\) failed|Entering FAULT STATE",
         "keepalived's health check of the local API server fails: this node should not hold the VIP",
         Severity.WARNING,
         "Apr 06 08:42:23 k8s-master-0 Keepalived_vrrp[1218]: VRRP_Script(chk_rke2server) failed (exited with "
         "status 1)", "https://github.com/lablabs/ansible-role-rke2/issues/60", detail=r"VRRP_Script\((\S+)\)"),
    # -- OpenShift operators ----------------------------------------------------------------------
    _sig("OPERATOR_DEGRADED", ("True", "egraded"),
         r"^\s*(?:clusteroperator/)?(kube-apiserver|kube-controller-manager|kube-scheduler|etcd)\s+\S*\s*"
         r"(?:True|False)\s+(?:True|False)\s+True\b|clusteroperator/\S+ is degraded|NodeInstallerDegraded: \d+ nodes? "
         r"(?:are|is) failing",
         "an OpenShift control-plane operator reports Degraded (while Available: a failed revision, a node "
         "not ready); degraded for an hour or more is no upgrade's passing state", Severity.WARNING,
         "kube-apiserver             4.9.0-0.nightly-2021-08-07-175228   True        False         True       22m"
         "     NodeInstallerDegraded: 1 nodes are failing on revision 4:",
         "https://github.com/openshift/library-go/pull/1179",
         detail=r"(kube-apiserver|kube-controller-manager|kube-scheduler|etcd)",
         duration=r"(?:True|False)\s+(?:True|False)\s+True\s+(\d+[dhms][\dhms]*)"),
    # -- leader election, RBAC, configuration -----------------------------------------------------
    _sig("RBAC_FORBIDDEN", ("forbidden",), r'is forbidden: User \\?"[^"\\]*\\?" cannot',
         "a component's identity lacks an RBAC permission it needs", Severity.ERROR,
         'E0201 22:23:53.140435       1 leaderelection.go:332] error retrieving resource lock kube-system/kube-'
         'controller-manager: leases.coordination.k8s.io "kube-controller-manager" is forbidden: User "system:kube-'
         'controller-manager" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace '
         '"kube-system"', "https://github.com/kodekloudhub/certified-kubernetes-administrator-course/issues/150",
         detail=r'User \\?"([^"\\]*)\\?" cannot (\w+ resource \\?"[^"\\]*\\?")'),
    _sig("LEADER_ELECTION_LOST", ("lost",), r"(?i)leaderelection lost|\blost master\b|^lost lease$",
         "the component lost its leader lease and exits (the kubelet restarts it)", Severity.ERROR,
         "F1228 17:00:42.008059 1 server.go:264] leaderelection lost", _K + "65966"),
    _sig("LEASE_RENEW_TIMEOUT", ("fail",),
         r"failed to renew lease \S+: (?:failed to tryAcquireOrRenew )?context deadline exceeded|"
         r"failed to renew lease .*Client\.Timeout exceeded",
         "the leader's lease updates to the API server timed out: the API server (or etcd behind it) did not "
         "answer within the renew deadline, so the component gives up leadership", Severity.ERROR,
         "I1228 17:00:42.008006 1 leaderelection.go:287] failed to renew lease kube-system/kube-scheduler: "
         "failed to tryAcquireOrRenew context deadline exceeded", _K + "65966", detail=r"renew lease (\S+?):"),
    _sig("LEASE_RENEW_FAILED", ("fail",), r"failed to renew lease",
         "the leader could not renew its lease in time (API server or etcd slow or down)", Severity.ERROR,
         "I0506 20:29:34.764508       1 leaderelection.go:283] failed to renew lease kube-system/kube-scheduler: "
         "timed out waiting for the condition", "https://github.com/kubesphere/kubesphere/issues/6501",
         detail=r"renew lease (\S+?):"),
    _sig("LEASE_ACQUIRED", ("acquired lease",), r"(?i)successfully acquired lease",
         "the component became leader", Severity.INFO,
         "I0504 12:00:15.583305       1 leaderelection.go:253] successfully acquired lease kube-system/kube-scheduler",
         _K + "101727", detail=r"acquired lease \\?\"?(?:lock=\\?\")?([\w./-]+)"),
    _sig("INFORMER_CACHES_SYNCED", ("sync",), r'Caches are synced(?: for \S|\\?"? controller=)',
         "the component's informers listed their resources: its list calls (and the RBAC they need) succeed",
         Severity.INFO,
         "I0625 20:48:29.400403       1 shared_informer.go:230] Caches are synced for client-ca::kube-system::"
         "extension-apiserver-authentication::client-ca-file ", "https://github.com/kubernetes/minikube/issues/8561"),
    _sig("RESOURCE_LOCK_ERROR", ("rror", "Fail"), r"error retrieving resource lock|[Ff]ailed to update lock",
         "the component cannot read or update its leader-election lease", Severity.WARNING,
         "E0125 18:10:06.782512       1 leaderelection.go:429] Failed to update lock optimitically: rpc error: code = "
         "Unknown desc = unexpected EOF, falling back to slow path", "https://github.com/rackerlabs/spot/issues/268"),
    _sig("SCHEDULER_CONFIG_NOT_REGISTERED", ("no kind",), r'no kind \\?"[^"\\]+\\?" is registered for version',
         "the scheduler's --config uses an API version this release does not know", Severity.CRITICAL,
         'May 18 15:59:56 m7-autocv-gpu02 kube-scheduler[36596]: no kind "KubeSchedulerConfiguration" is registered '
         'for version "componentconfig/v1alpha1" in scheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme/'
         'scheme.go:29"', _OPS + "453",
         detail=r'(no kind \\?"[^"\\]+\\?" is registered for version \\?"[^"\\]+\\?")'),
    _sig("FAILED_SCHEDULING", ("available",),
         r"FailedScheduling|\d+/\d+ nodes are available",
         "the scheduler cannot place a pod: no node fits (taints, selectors, resources)", Severity.WARNING,
         "  Warning  FailedScheduling  11s (x3 over 94s)  default-scheduler  0/23 nodes are available: 1 node(s) had "
         "taints that the pod didn't tolerate, 22 node(s) didn't match node selector.",
         "https://github.com/danisla/kubefunc/issues/10", detail=r"(\d+/\d+ nodes are available)"),
    # -- communication -----------------------------------------------------------------------------
    _sig("GO_PANIC", ("panic",), r"^panic: |\"Observed a panic\"",
         "the component crashed on a Go panic (a bug, or data it cannot handle): it exits and is restarted",
         Severity.ERROR, "panic: runtime error: slice bounds out of range [:8] with capacity 5", _E + "15498"),
    _sig("TLS_HANDSHAKE_ERROR", ("handshake",),
         r"TLS handshake error from|failed to complete security handshake|does not look like a TLS handshake",
         "a client's TLS handshake failed (bad certificate, wrong CA, or plain HTTP)", Severity.WARNING,
         "I0114 08:29:40.765304       1 log.go:172] http: TLS handshake error from [::1]:34426: remote error: tls: "
         "bad certificate", "https://github.com/kubernetes/minikube/issues/6311",
         detail=r'handshake (?:error )?from "?\[?([0-9a-fA-F.:]+?)\]?:\d+"?: (.{0,80})'),
    _sig("X509_ERROR", ("x509",), r"x509: ",
         "a TLS peer's certificate was rejected (wrong usage, bad signature, other x509 errors)", Severity.ERROR,
         "error: error upgrading connection: error dialing backend: x509: certificate specifies an incompatible key "
         "usage", _K + "70063", detail=r"(x509: [^\"']{0,100})"),
    _sig("ETCD_HEALTH_BAD_CERT", ("nhealthy",), r"etcd-\d+\s+Unhealthy\s+.*bad certificate",
         "componentstatus cannot probe etcd over TLS: the API server's probe sends no (or a wrong) client "
         "certificate; etcd itself may be fine", Severity.WARNING,
         "etcd-1               Unhealthy   Get https://10.37.116.32:2379/health: remote error: bad certificate   ",
         _K + "36578"),
    _sig("ETCD_CLUSTER_UNHEALTHY", ("cluster is",), r"^\s*cluster is unhealthy\s*$",
         "etcdctl cluster-health finds no quorum: the etcd cluster is down", Severity.CRITICAL,
         "cluster is unhealthy", "https://github.com/rancher/rancher/issues/9667"),
    _sig("ETCD_CS_PROBE_UNREACHABLE", ("nhealthy",), r"etcd-\d+\s+Unhealthy\s+Get \S+: (?:dial tcp|net/http)",
         "componentstatus could not reach etcd's /health from the API server (a name or socket it cannot dial): "
         "says nothing certain about etcd itself", Severity.WARNING,
         "etcd-0               Unhealthy   Get http://etcd.socket:2379/health: dial tcp: lookup etcd.socket on "
         "127.0.0.53:53: no such host              ", _K + "70741"),
    _sig("OPENSHIFT_ETCD_MEMBERS_UNAVAILABLE", ("nhealthy",),
         r"\d+ of \d+ members are available, \S+ is unhealthy",
         "the OpenShift etcd operator counts an unhealthy member: the cluster runs without failure tolerance",
         Severity.ERROR,
         "2 of 3 members are available, ip-10-0-150-139.us-east-2.compute.internal is unhealthy",
         "https://github.com/openshift/openshift-docs/pull/22579"),
    _sig("ETCD_MEMBER_HEALTH_CHECK_FAILED", ("fail",), r"failed to check the health of member \S+ on",
         "etcdctl cannot reach a member to check its health (it is down, or the network/firewall drops 2379)",
         Severity.ERROR,
         "failed to check the health of member 65de4ea85ff20848 on http://172.17.8.103:2379: Get "
         "http://172.17.8.103:2379/health: dial tcp 172.17.8.103:2379: i/o timeout", _E + "3852",
         detail=r"health of member \S+ on (\S+?):?\s"),
    _sig("ETCD_ENDPOINT_CONNECT_FAILED", ("nhealthy",), r"\S+ is unhealthy: failed to connect",
         "etcdctl endpoint health cannot connect to an endpoint: the member is down or unreachable",
         Severity.ERROR,
         "https://192.168.233.130 is unhealthy: failed to connect: grpc: timed out when dialing", _OPS + "78",
         detail=r"(\S+) is unhealthy"),
    _sig("ETCD_HEALTH_UNHEALTHY", ("nhealthy", "cluster is", "unreachable"),
         r"etcd-\d+\s+Unhealthy\s+(?!Get )|member \S+ is unhealthy|cluster is (?:unhealthy|degraded)|"
         r"member \S+ is unreachable|\S+:2379 is unhealthy",
         "an etcd health check reports a member or the cluster unhealthy", Severity.ERROR,
         "etcd-1               Unhealthy   HTTP probe failed with statuscode: 503",
         "https://github.com/rancher/rancher/issues/21494"),
    _sig("ETCD_NOT_HEALTHY_TOOL", ("rror", "Fail", "fail"),
         r"Etcd Cluster is not healthy|etcd member \S+ is not healthy",
         "an installer's or upgrader's etcd health check fails (RKE, Talos): it stops until etcd is healthy",
         Severity.ERROR,
         "FATA[0231] [etcd] Failed to bring up Etcd Plane: [etcd] Etcd Cluster is not healthy",
         "https://github.com/rancher-archives/rke/issues/1300"),
    _sig("CONTROL_PLANE_REFUSED", ("refused",),
         r":(?:" + "|".join(CONTROL_PLANE_PORTS) + r")\b.*connection refused",
         "nothing listens on a control-plane port (component down) or a REJECT rule answers", Severity.ERROR,
         'Error from server: Get "https://10.128.0.43:10250/containerLogs/kubechat/celerybeat-7495bddc79-ff795/'
         'kubechat-celerybeat": dial tcp 10.128.0.43:10250: connect: connection refused',
         "https://github.com/apecloud/ApeRAG/issues/407", detail=_REFUSED_DETAIL),
    # -- generic name resolution: after the rows that know what the name was for -----------------
    _sig("LOCALHOST_UNRESOLVED", ("no such host",), r"lookup localhost on \S+: no such host",
         "`localhost` does not resolve on the node (/etc/hosts lacks it), so components that bind or dial "
         "localhost fail", Severity.ERROR,
         "Aug 23 12:22:08 QlikSenseLinux kubelet[20775]: F0823 12:22:08.340408 20775 docker_service.go:412] "
         "Streaming server stopped unexpectedly: listen tcp: lookup localhost on 8.8.8.8:53: no such host",
         "https://github.com/kubernetes/minikube/issues/5186"),
    _sig("DNS_LOOKUP_FAILED", ("no such host",), r"(?:dial|listen) tcp: lookup \S+(?: on \S+)?: no such host",
         "a component cannot resolve the name of an endpoint it needs (API server, etcd, a node): DNS or "
         "/etc/hosts on the node lacks it", Severity.WARNING,
         "May 04 16:49:58 ip-10-43-214-92.eu-central-1.compute.internal kubelet-wrapper[1039]: E0504 "
         "16:49:58.108161    1039 event.go:202] Unable to write event: 'dial tcp: lookup kube.dev.int.foo.com: no "
         "such host' (may retry after sleeping)", "https://github.com/coreos/coreos-kubernetes/issues/460",
         detail=r"lookup (\S+?)(?: on |: )"),
)

#: every distinct anchor, in a fixed order; a signature's bit mask says which it uses
ANCHORS: tuple[str, ...] = tuple(dict.fromkeys(a for s in SIGNATURES for a in s.anchors))
ANCHOR_MASKS: tuple[int, ...] = tuple(
    sum(1 << ANCHORS.index(a) for a in s.anchors) for s in SIGNATURES)
BY_ID: dict[str, Signature] = {s.id: s for s in SIGNATURES}


def match_line(text: str, component: str, anchor_mask: int = -1) -> Signature | None:
    """The signature this line counts for, given which anchors the scanner found on it."""
    for sig, mask in zip(SIGNATURES, ANCHOR_MASKS, strict=True):
        if mask & anchor_mask and sig.applies_to(component) and sig.regex.search(text):
            return sig
    return None
