"""Bundle text on its way to a terminal: control characters made visible, so a hostile hostname,
member name or log line cannot move the cursor, retitle the window or reorder what is shown.

>>> visible("ok\\x1b]0;pwned\\x07 done\\u202e")
'ok\\\\x1b]0;pwned\\\\x07 done\\\\u202e'
>>> one_line("cp-1\\n/tmp/b.tar.gz: ok")
'cp-1\\\\n/tmp/b.tar.gz: ok'
"""

from __future__ import annotations

import re

#: C0/C1 controls (tab and newline kept), DEL, and Unicode bidi/format controls that reorder what is shown
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def visible(text: str) -> str:
    """`text` with every control character written as an escape (\\x1b, \\u202e); lines kept."""
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """`text` for a place that is one line: newlines too are written as escapes (\\n)."""
    return visible(text).replace("\n", "\\n")
