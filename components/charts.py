"""Plotly chart builders whose selections map back to row filters.

Histograms are pre-binned with numpy (100k rows become ~40 bars, not 100k values shipped to the
browser) and every bar carries its `[lo, hi]` range in `customdata`, so a click or box selection
returns exactly the range to filter on. The selection helpers are pure and unit-tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

_LAYOUT = {"height": 280, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "bargap": 0.05,
           "dragmode": "select", "clickmode": "event+select"}


def _edges(values: np.ndarray, nbins: int, integer: bool) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    if integer:
        span = int(hi - lo) + 1
        if span <= nbins:
            return np.arange(lo, hi + 2) - 0.5
        step = int(np.ceil(span / nbins))
        return np.arange(lo, hi + step + 1, step) - 0.5
    if lo == hi:
        return np.array([lo - 0.5, hi + 0.5])
    return np.linspace(lo, hi, nbins + 1)


def histogram(values: Sequence[float] | np.ndarray, *, title: str, x_label: str, nbins: int = 40,
              integer: bool = True, log_y: bool = False) -> go.Figure:
    """A bar histogram whose bars carry their [lo, hi] value range in customdata."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    fig = go.Figure()
    if arr.size:
        edges = _edges(arr, nbins, integer)
        counts, edges = np.histogram(arr, bins=edges)
        lo, hi = edges[:-1], edges[1:]
        if integer:
            lo_v, hi_v = np.ceil(lo) + 0.0, np.floor(hi) + 0.0  # + 0.0 turns -0.0 into 0.0 for the labels
        else:
            lo_v, hi_v = lo, hi
        labels = [f"{a:,.0f}–{b:,.0f}" if integer and a != b else f"{a:,.0f}" if integer else f"{a:.3g}–{b:.3g}"
                  for a, b in zip(lo_v, hi_v, strict=True)]
        fig.add_bar(x=(lo + hi) / 2, y=counts, width=(hi - lo) * 0.95,
                    customdata=np.stack([lo_v, hi_v], axis=1).tolist(), hovertext=labels,
                    hovertemplate="%{hovertext}: %{y:,} rows<extra></extra>")
    fig.update_layout(title=title, xaxis_title=x_label, yaxis_title="rows", **_LAYOUT)
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def category_bar(counts: Mapping[Any, int], *, title: str, x_label: str) -> go.Figure:
    """A bar per category; the category itself is the customdata."""
    keys = list(counts.keys())
    fig = go.Figure()
    fig.add_bar(x=[str(k) for k in keys], y=[counts[k] for k in keys], customdata=[[str(k)] for k in keys],
                hovertemplate="%{x}: %{y:,} rows<extra></extra>")
    fig.update_layout(title=title, xaxis_title=x_label, yaxis_title="rows", **_LAYOUT)
    fig.update_xaxes(type="category")
    return fig


def _points(event: Any) -> list[Mapping[str, Any]]:
    if not event:
        return []
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    if not selection:
        return []
    points = selection.get("points") if isinstance(selection, Mapping) else getattr(selection, "points", None)
    return list(points or [])


def _pair(cd: Any) -> tuple[float, float] | None:
    """A bar's [lo, hi]; plotly returns typed-array customdata as {"0": lo, "1": hi}."""
    if isinstance(cd, Mapping):
        cd = [cd.get("0", cd.get(0)), cd.get("1", cd.get(1))]
    if isinstance(cd, list | tuple) and len(cd) >= 2 and cd[0] is not None and cd[1] is not None:
        return float(cd[0]), float(cd[1])
    return None


def selected_range(event: Any) -> tuple[float, float] | None:
    """Union [lo, hi] of the selected histogram bars, or None when nothing is selected."""
    ranges = [r for p in _points(event) if (r := _pair(p.get("customdata"))) is not None]
    if not ranges:
        return None
    return float(min(r[0] for r in ranges)), float(max(r[1] for r in ranges))


def selected_categories(event: Any) -> list[str]:
    """Categories of the selected bars of a `category_bar`."""
    out: list[str] = []
    for p in _points(event):
        cd = p.get("customdata")
        val = cd[0] if isinstance(cd, list | tuple) and cd else p.get("x")
        if val is not None and str(val) not in out:
            out.append(str(val))
    return out
