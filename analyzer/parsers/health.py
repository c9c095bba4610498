"""API server health endpoints: /healthz, /livez?verbose, /readyz?verbose bodies.

The verbose body lists one check a line and ends with a verdict; kubectl prints a failing body on
stderr, escaped inside `Error from server (InternalError): an error on the server ("...")`.
Real body (minikube#8427):

>>> report = parse_health('''[+]ping ok
... [+]log ok
... [-]etcd failed: reason withheld
... [+]poststarthook/start-kube-apiserver-admission-initializer ok
... healthz check failed''')
>>> report.endpoint, report.passed, [(c.name, c.reason, c.line) for c in report.failed]
('healthz', False, [('etcd', 'reason withheld', 3)])

Real kubectl error form (rke2#7525, a liveness probe running kubectl; cut off in the source):

>>> report = parse_health('Liveness probe failed: Error from server (InternalError): an error on the '
...     'server ("[+]ping ok\\\\n[+]log ok\\\\n[-]etcd failed: reason withheld'
...     '\\\\n[+]poststarthook/start-apiserver')
>>> report.passed, [c.name for c in report.failed], report.truncated
(False, ['etcd'], True)
>>> parse_health("ok").passed, parse_health("").passed
(True, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CHECK = re.compile(r"^\[(?P<sign>[+-])\](?P<name>\S+) (?P<rest>ok|failed(?:: (?P<reason>.*))?|not ok.*)$")
_VERDICT = re.compile(r"^(?P<endpoint>healthz|livez|readyz) check (?P<verdict>passed|failed)$")
_KUBECTL_ERROR = re.compile(r'an error on the server \("(?P<body>.*?)(?:"\) has prevented|$)', re.S)


@dataclass(frozen=True)
class HealthCheck:
    name: str
    ok: bool
    reason: str
    line: int


@dataclass
class HealthReport:
    """Checks of one health endpoint response; `passed` None when the text is no health output."""

    endpoint: str = ""
    passed: bool | None = None
    checks: list[HealthCheck] = field(default_factory=list)
    #: the body ends without a verdict line (cut off)
    truncated: bool = False
    verdict_line: int | None = None

    @property
    def failed(self) -> list[HealthCheck]:
        return [c for c in self.checks if not c.ok]


def _body(text: str) -> tuple[str, int]:
    """The response body and the line number its first line has in the text."""
    match = _KUBECTL_ERROR.search(text)
    if match:
        # escaped body on one line: its checks all cite that line
        return match["body"].replace("\\n", "\n").replace('\\"', '"'), text.count("\n", 0, match.start()) + 1
    return text, 1


def parse_health(text: str) -> HealthReport:
    """Parse a health body or kubectl's error carrying it; never raises."""
    report = HealthReport()
    body, first = _body(text)
    escaped = body is not text
    lines = body.splitlines()
    if [line.strip() for line in lines if line.strip()] == ["ok"]:
        report.passed = True
        return report
    for index, raw in enumerate(lines):
        line = raw.strip()
        number = first if escaped else first + index
        check = _CHECK.match(line)
        if check:
            ok = check["sign"] == "+"
            reason = "" if ok else (check["reason"] or check["rest"].removeprefix("failed").strip(": "))
            report.checks.append(HealthCheck(check["name"], ok, reason, number))
            continue
        verdict = _VERDICT.match(line)
        if verdict:
            report.endpoint = verdict["endpoint"]
            report.passed = verdict["verdict"] == "passed"
            report.verdict_line = number
    if report.checks and report.passed is None:
        report.truncated = True
        report.passed = not report.failed
    return report
