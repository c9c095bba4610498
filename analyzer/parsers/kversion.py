"""Kubernetes version strings as components print them (image tags, gitVersion, kubeletVersion).

>>> parse_version("registry.k8s.io/kube-apiserver:v1.29.0")
KubeVersion(major=1, minor=29, patch=0, raw='v1.29.0')
>>> str(parse_version("v1.21.1+k3s1")), parse_version("v1.16.15-eks-ad4801").minor
('v1.21.1+k3s1', 16)
>>> parse_version("zhoujing/kube-controller-manager:1.14").minor, parse_version("latest")
(14, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?([-+.][0-9A-Za-z.+-]*)?$")


@dataclass(frozen=True, order=True)
class KubeVersion:
    """major.minor.patch; `raw` keeps the text as printed (suffixes such as +k3s1 included)."""

    major: int
    minor: int
    patch: int
    raw: str

    def __str__(self) -> str:
        return self.raw

    @property
    def minor_key(self) -> tuple[int, int]:
        return self.major, self.minor

    def minors_behind(self, other: KubeVersion) -> int:
        """How many minor versions this one is older than `other` (negative when newer)."""
        return other.minor - self.minor if self.major == other.major else (other.major - self.major) * 100


def parse_version(text: str) -> KubeVersion | None:
    """The version in a bare version string or an image reference's tag; None when there is none."""
    tag = text.strip().rsplit("@", 1)[0]
    if "/" in tag or ":" in tag:
        tag = tag.rsplit("/", 1)[-1]
        if ":" not in tag:
            return None
        tag = tag.split(":", 1)[1]
    match = _VERSION.match(tag)
    if not match:
        return None
    major, minor, patch = int(match[1]), int(match[2]), int(match[3] or 0)
    return KubeVersion(major, minor, patch, tag)


def parse_version_output(text: str) -> KubeVersion | None:
    """`kubelet --version` ("Kubernetes v1.29.4"): the version its last word names.

    >>> parse_version_output("Kubernetes v1.29.4\\n").minor
    29
    """
    words = text.split()
    return parse_version(words[-1]) if words else None
