"""Remediation commands hold values read from bundles (node names, paths, check, image and object
names): each enters a command through `quote`, or a comment through `comment`, so pasting the
command runs only what kubetriage wrote.

>>> quote("etcd"), quote("$(touch x)")
('etcd', "'$(touch x)'")
>>> comment("on cp-1\\nrm -rf /")
'# on cp-1\\\\nrm -rf /'
"""

from __future__ import annotations

import shlex

from ..safetext import one_line


def quote(value: object) -> str:
    """`value` as one shell word, exactly: a plain word stays as it is, anything else is single-quoted."""
    return shlex.quote(str(value))


def comment(text: str) -> str:
    """A `# text` line: nothing in it runs, and no newline in `text` can end it early."""
    return "# " + one_line(text)


def quote_glob(pattern: str) -> str:
    """`pattern` with its `*` left to the shell and everything between them quoted.

    >>> quote_glob("kube-apiserver-*"), quote_glob("a;b*")
    ('kube-apiserver-*', "'a;b'*")
    """
    return "*".join(quote(part) if part else "" for part in pattern.split("*"))


def quote_words(text: str) -> str:
    """A command line read from a bundle (an iptables-save rule) as words, each quoted on its own.

    >>> quote_words('INPUT -m comment --comment "etcd peers" -j DROP')
    "INPUT -m comment --comment 'etcd peers' -j DROP"
    >>> quote_words("INPUT -j DROP; touch x")
    "INPUT -j 'DROP;' touch x"
    """
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: split as iptables would have been given it
        words = text.split()
    return " ".join(quote(word) for word in words)
