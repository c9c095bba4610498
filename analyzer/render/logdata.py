"""The log timeline's data: minute counts of error signatures from the cluster view's log facts."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..facts import ClusterView
from ..facts.logs import TIMELINE_COLUMNS
from .svg import MinuteCount

if TYPE_CHECKING:
    import pandas as pd


def _minute(value: Any) -> dt.datetime:
    import pandas as pd  # imported where the chart is drawn, not at start-up

    moment: dt.datetime = pd.Timestamp(value).to_pydatetime()
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def cells_from_frame(frame: pd.DataFrame) -> list[MinuteCount]:
    """Rows of a [minute, node, component, signature, count] frame as timeline cells."""
    missing = [c for c in TIMELINE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"log minute counts lack column(s) {', '.join(missing)}")
    return [MinuteCount(_minute(m), str(n), str(c), str(s), int(k))
            for m, n, c, s, k in frame[TIMELINE_COLUMNS].itertuples(index=False, name=None) if int(k) > 0]


def log_cells(view: ClusterView) -> list[MinuteCount] | None:
    """The timeline cells; None when no log was read."""
    if not view.logs.scanned:
        return None
    return cells_from_frame(view.logs.timeline())


def meanings(view: ClusterView) -> dict[str, str]:
    """What each signature id found in the logs means, for the timeline's tooltips."""
    return {f.id: f.signature.meaning for f in view.logs.signatures}
