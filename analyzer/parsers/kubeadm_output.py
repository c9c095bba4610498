"""What `kubeadm init`, `join` and `upgrade` print when they fail: the check that gave up and the phase.

A real failure (techiescamp/kubeadm-scripts#11, trimmed):

>>> [f] = parse_kubeadm_output('''[kubelet-check] Initial timeout of 40s passed.
...
... Unfortunately, an error has occurred:
... \\ttimed out waiting for the condition
... error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster''')
>>> f.kind, f.phase, f.line
('control-plane-not-up', 'wait-control-plane', 5)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PHASE = re.compile(r"^error execution phase ([\w/-]+): (.*)$")
#: (kind, pattern): the checks kubeadm reports giving up on, most specific first
_CHECKS = (
    ("api-not-healthy", re.compile(r"^\[api-check\] The API server is not healthy after")),
    ("kubelet-not-healthy", re.compile(r"^\[kubelet-check\] (?:It seems like the kubelet isn't running or "
                                       r"healthy|The kubelet is not healthy after)")),
    ("static-pod-not-restarted", re.compile(r"static Pod hash for component \S+ on Node \S+ did not change")),
    ("upgrade-failed", re.compile(r"^\[upgrade/apply\] FATAL")),
)


@dataclass(frozen=True)
class KubeadmFailure:
    """One way kubeadm failed: what it checked, the phase that failed (when it says), where."""

    kind: str  # api-not-healthy | kubelet-not-healthy | static-pod-not-restarted | upgrade-failed |
    #: control-plane-not-up (wait-control-plane timed out) | phase-failed
    phase: str
    line: int
    text: str


def parse_kubeadm_output(text: str) -> list[KubeadmFailure]:
    """The failures a kubeadm run reports: each check that gave up (first occurrence), and the failed
    phase when no check explains it."""
    found: dict[str, KubeadmFailure] = {}
    phase, phase_line, phase_text = "", 0, ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = _PHASE.match(line)
        if m and not phase:
            phase, phase_line, phase_text = m.group(1), number, line
        for kind, pattern in _CHECKS:
            if kind not in found and pattern.search(line):
                found[kind] = KubeadmFailure(kind, "", number, line)
    failures = [KubeadmFailure(f.kind, phase, f.line, f.text) for f in found.values()]
    if phase and not failures:
        kind = "control-plane-not-up" if phase == "wait-control-plane" else "phase-failed"
        failures.append(KubeadmFailure(kind, phase, phase_line, phase_text))
    return failures
