"""Progress of a long analysis (which node, which phase), for whoever listens: the CLI prints it
on stderr for big inputs. Phases call `step`; without a listener it costs one lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: (phase, node or None) -> None
Listener = Callable[[str, "str | None"], None]

_listener: ContextVar[Listener | None] = ContextVar("kubetriage_progress", default=None)


def step(phase: str, node: str | None = None) -> None:
    """Say that `phase` starts (for `node`, when it is about one node)."""
    listener = _listener.get()
    if listener is not None:
        listener(phase, node)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every `step` made inside the block to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
