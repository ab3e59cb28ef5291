"""The Map: a WebGL scatter of every row (row_id in customdata) and its selection helpers.

Plotly returns the selected points' customdata, so a lasso maps straight back to row ids. Beyond
`MAX_POINTS` a density layer is drawn under a uniform sample, and the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

MAX_POINTS = 100_000
SCOPE_LABELS = {"both": "whole conversation", "prompt": "prompts", "response": "responses"}
_PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D",
            "#BAB0AC", "#1F77B4", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
            "#17BECF", "#AEC7E8"]


def sample_positions(n: int, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """All positions when n <= limit, else a fixed uniform sample (sorted) of `limit` positions."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def scatter(xy: pd.DataFrame, colour: pd.Series, hover: Sequence[str], *, categorical: bool, title: str = "",
            reference: pd.DataFrame | None = None, limit: int = MAX_POINTS) -> go.Figure:
    """`xy` has row_id, x, y; `colour` is aligned with it. One trace per category (a legend to toggle)."""
    fig = go.Figure()
    pos = sample_positions(len(xy), limit)
    if len(pos) < len(xy):
        fig.add_histogram2dcontour(x=xy["x"], y=xy["y"], colorscale="Greys", showscale=False, ncontours=20,
                                   contours={"coloring": "fill"}, opacity=0.5, hoverinfo="skip", name="density")
    sub = xy.iloc[pos]
    col = colour.iloc[pos]
    hov = np.asarray(hover, dtype=object)[pos]
    if categorical:
        cats = pd.Series(col.astype(str).to_numpy())
        order = cats.value_counts().index.tolist()
        for i, cat in enumerate(order):
            m = (cats == cat).to_numpy()
            fig.add_scattergl(x=sub["x"].to_numpy()[m], y=sub["y"].to_numpy()[m], mode="markers", name=str(cat)[:60],
                              customdata=sub["row_id"].to_numpy()[m], text=hov[m],
                              hovertemplate="row %{customdata}<br>%{text}<extra>%{fullData.name}</extra>",
                              marker={"size": 5, "color": _PALETTE[i % len(_PALETTE)], "opacity": 0.8})
    else:
        fig.add_scattergl(x=sub["x"], y=sub["y"], mode="markers", name="rows", customdata=sub["row_id"], text=hov,
                          hovertemplate="row %{customdata}<br>%{text}<extra></extra>",
                          marker={"size": 5, "color": col.to_numpy(dtype=float), "colorscale": "Viridis",
                                  "showscale": True, "opacity": 0.8, "colorbar": {"title": title}})
    if reference is not None and len(reference):
        fig.add_scattergl(x=reference["x"], y=reference["y"], mode="markers", name="reference",
                          customdata=np.full(len(reference), -1), text=reference.get("text"),
                          hovertemplate="reference<br>%{text}<extra></extra>",
                          marker={"size": 7, "color": "black", "symbol": "x", "opacity": 0.9})
    fig.update_layout(height=620, margin={"l": 0, "r": 0, "t": 30, "b": 0}, dragmode="lasso",
                      legend={"itemsizing": "constant"}, xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def selected_row_ids(event: Any) -> list[int]:
    """Row ids of the lasso/box/click selection (reference points, customdata -1, are left out)."""
    if not event:
        return []
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    if not selection:
        return []
    points = selection.get("points") if isinstance(selection, Mapping) else getattr(selection, "points", None)
    out: list[int] = []
    seen: set[int] = set()
    for p in points or []:
        cd = p.get("customdata")
        if isinstance(cd, list | tuple):
            cd = cd[0] if cd else None
        if isinstance(cd, Mapping):
            cd = cd.get("0")
        if cd is None:
            continue
        rid = int(cd)
        if rid >= 0 and rid not in seen:
            seen.add(rid)
            out.append(rid)
    return out
