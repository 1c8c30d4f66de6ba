"""Coverage state per cell and its summaries per jurisdiction and priority class.

For a time ``now`` and a window ``[window_start, now]``:

* ``last_seen``: the latest sighting at or before ``now`` (any time in the past);
* ``count``: sightings inside the window;
* ``within_target``: seen no longer than the cell's revisit target before ``now``;
* ``worst_gap_s``: the longest stretch inside the window without a sighting — from the window
  start (or the last sighting before it) to the first sighting, between sightings, and from the
  last sighting to ``now``. A cell never seen in the window has the whole window as its gap.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from patrol.errors import PatrolError

__all__ = ["coverage_state", "longest_unseen", "summarize"]

STATE_COLUMNS = ("last_seen", "count", "hours_since_seen", "within_target", "worst_gap_s")


def _utc(when: datetime) -> pd.Timestamp:
    if when.tzinfo is None:
        raise PatrolError(f"naive time {when!r}: pass a timezone-aware time (e.g. ...+08:00)")
    return pd.Timestamp(when).tz_convert("UTC")


def _worst_gaps(
    ids: pd.Index, sightings: pd.DataFrame, start: pd.Timestamp, now: pd.Timestamp
) -> pd.Series:
    before = sightings[sightings["seen_at"] < start].groupby("cell_id")["seen_at"].max()
    anchors = pd.Series(start, index=ids)
    anchors.loc[before.index.intersection(ids)] = before.loc[before.index.intersection(ids)]
    inside = sightings[(sightings["seen_at"] >= start) & (sightings["seen_at"] <= now)]
    events = pd.concat(
        [
            pd.DataFrame({"cell_id": ids, "t": anchors.to_numpy()}),
            inside.rename(columns={"seen_at": "t"})[["cell_id", "t"]],
            pd.DataFrame({"cell_id": ids, "t": now}),
        ],
        ignore_index=True,
    ).sort_values(["cell_id", "t"], kind="stable")
    gaps = events.groupby("cell_id")["t"].diff().dt.total_seconds()
    worst = gaps.groupby(events["cell_id"]).max()
    # a gap may not start before the window: clip the anchor gap to the window length
    clipped: pd.Series = worst.reindex(ids).clip(upper=(now - start).total_seconds())
    return clipped


def coverage_state(
    cells: pd.DataFrame,
    sightings: pd.DataFrame,
    *,
    now: datetime,
    window_start: datetime,
) -> pd.DataFrame:
    """``cells`` (with ``cell_id``, ``revisit_target_s``) plus :data:`STATE_COLUMNS`."""
    now_ts, start_ts = _utc(now), _utc(window_start)
    if start_ts >= now_ts:
        raise PatrolError("the coverage window must start before `now`")
    seen = sightings[sightings["seen_at"] <= now_ts]
    ids = pd.Index(cells["cell_id"].to_numpy())
    last = seen.groupby("cell_id")["seen_at"].max().reindex(ids)
    count = seen[seen["seen_at"] >= start_ts].groupby("cell_id").size().reindex(ids, fill_value=0)
    out = cells.copy()
    out["last_seen"] = last.to_numpy()
    out["count"] = count.to_numpy()
    out["hours_since_seen"] = ((now_ts - last).dt.total_seconds() / 3600.0).to_numpy()
    target_h = out["revisit_target_s"].to_numpy(dtype=float) / 3600.0
    out["within_target"] = np.nan_to_num(out["hours_since_seen"].to_numpy(), nan=np.inf) <= target_h
    out["worst_gap_s"] = _worst_gaps(ids, seen, start_ts, now_ts).to_numpy()
    return out


def summarize(state: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per ``by`` (``jurisdiction`` or ``priority``): cells, seen, fraction within target, gaps."""
    if by not in state.columns:
        raise PatrolError(f"cannot summarise by {by!r}: use 'jurisdiction' or 'priority'")
    keyed = state.assign(**{by: state[by].fillna("(none)")})
    grouped = keyed.groupby(by)
    return pd.DataFrame(
        {
            "cells": grouped.size(),
            "seen_in_window": grouped["count"].apply(lambda c: int((c > 0).sum())),
            "within_target": grouped["within_target"].mean(),
            "worst_gap_h": grouped["worst_gap_s"].max() / 3600.0,
            "median_hours_since_seen": grouped["hours_since_seen"].median(),
        }
    ).reset_index()


def longest_unseen(state: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` cells seen longest ago (never-seen cells first)."""
    ordered = state.assign(_never=state["last_seen"].isna()).sort_values(
        ["_never", "last_seen", "cell_id"], ascending=[False, True, True]
    )
    columns = ["cell_id", "jurisdiction", "priority", "last_seen", "hours_since_seen"]
    return ordered[[c for c in columns if c in ordered.columns]].head(n).reset_index(drop=True)
