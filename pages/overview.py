"""Overview page: what is in the data, at a glance; every chart can filter the Browse table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.explore.stats import ROLES, summary
from analysis.io.text_guard import no_text_message, records_of, suggest_text_column, text_coverage
from components.charts import category_bar, histogram, selected_categories, selected_range
from components.context import require_workspace
from components.state import frame

session, ws, store = require_workspace()
info = ws.dataset.info
coverage = text_coverage(ws.dataset.rows, "both")
if not coverage.ok:  # an unmapped table: "Empty responses 817" and empty charts would be the mapping, not the data
    st.title("Overview")
    st.metric("Rows", f"{coverage.rows:,}")
    rows = ws.dataset.rows
    found = suggest_text_column(records_of(rows)) if info.kind == "table" or info.options.mapping else None
    st.warning(no_text_message(coverage, name=Path(info.path).name, kind=info.kind, fields=info.fields,
                               what="lengths, empty fields and charts", suggestion=found,
                               fix="choose the text column on the Data page ({mapping}), or `--text COLUMN` in the "
                                   "CLI"))
    st.page_link("pages/data.py", label="Map the text column on the Data page", icon=":material/table_view:")
    store.close()
    st.stop()
df = frame(ws)
s = summary(ws.dataset.rows, df, info.fields)
dropped = store.dropped_ids()

st.title("Overview")
m = st.columns(5)
m[0].metric("Rows", f"{s['rows']:,}")
m[1].metric("Dropped", f"{len(dropped):,}")
m[2].metric("Flagged", f"{len(store.flagged_ids()):,}")
m[3].metric("Empty responses", f"{s['empty_response']:,}")
m[4].metric("Empty turns", f"{s['rows_with_empty_turn']:,}", help="rows with at least one empty turn")
st.caption("Kinds: " + ", ".join(f"{k} {v:,}" for k, v in s["kinds"].items()))
st.caption(f"Median prompt {s['median_prompt_chars']:,.0f} chars · median response "
           f"{s['median_response_chars']:,.0f} chars · {s['tool_calls']:,} tool calls · "
           f"{len(s['files'])} file(s). Select bars (click, or drag a box) to filter the Browse table.")


def offer_filter(label: str, column: str, lo: float, hi: float, key: str) -> None:
    """After a chart selection: say how many rows match and offer to open them in Browse."""
    vals = df[column].to_numpy(dtype=float)
    n = int(((vals >= lo) & (vals <= hi)).sum())
    text = f"{label} in [{lo:,.6g}, {hi:,.6g}]"
    if st.button(f"Browse {n:,} rows with {text}", key=f"ov_go_{key}", type="primary"):
        session.chart_filter = {"label": text, "column": column, "lo": lo, "hi": hi}
        st.switch_page("pages/browse.py")


def hist_block(column: str, title: str, x_label: str, key: str, *, integer: bool = True) -> None:
    event = st.plotly_chart(histogram(df[column].to_numpy(), title=title, x_label=x_label, integer=integer),
                            key=f"ov_{key}", on_select="rerun", selection_mode=("points", "box"))
    rng = selected_range(event)
    if rng:
        offer_filter(x_label, column, *rng, key=key)


left, right = st.columns(2)
with left:
    hist_block("prompt_chars", "Prompt length (characters)", "prompt chars", "pchars")
    hist_block("prompt_words", "Prompt length (words)", "prompt words", "pwords")
    turns_counts = {int(k): int(v) for k, v in sorted(s["turns"].items())}
    ev = st.plotly_chart(category_bar(turns_counts, title="Turns per conversation", x_label="turns"),
                         key="ov_turns", on_select="rerun", selection_mode=("points", "box"))
    cats = [int(c) for c in selected_categories(ev)]
    if cats:
        offer_filter("turns", "turns", min(cats), max(cats), key="turns")
with right:
    hist_block("response_chars", "Response length (characters)", "response chars", "rchars")
    hist_block("response_words", "Response length (words)", "response words", "rwords")
    ev = st.plotly_chart(category_bar({r: s["role_counts"][r] for r in ROLES}, title="Turns by role",
                                      x_label="role"), key="ov_roles", on_select="rerun",
                         selection_mode=("points", "box"))
    roles = selected_categories(ev)
    if roles:
        role = roles[0]
        offer_filter(f"{role} turns", f"n_{role}", 1, float(np.inf), key="roles")

k1, k2 = st.columns(2)
with k1:
    ev = st.plotly_chart(category_bar(s["kinds"], title="Rows by kind", x_label="kind"), key="ov_kinds",
                         on_select="rerun", selection_mode=("points", "box"))
    kinds = selected_categories(ev)
    if kinds and st.button(f"Browse rows of kind {', '.join(kinds)}", key="ov_go_kinds", type="primary"):
        session.chart_filter = {"label": f"kind in {kinds}", "column": "kind", "values": kinds}
        st.switch_page("pages/browse.py")
with k2:
    if s["score"]["count"]:
        hist_block("score", "Score / label", "score", "score", integer=False)
    else:
        st.markdown("**Field presence**")
        st.dataframe(pd.DataFrame([{"field": k, "share": v} for k, v in s["field_presence"].items()]),
                     hide_index=True, column_config={"share": st.column_config.ProgressColumn(format="percent")})

st.subheader("Empty fields")
st.dataframe(pd.DataFrame([
    {"what": "empty prompt (no context before the answer)", "rows": s["empty_prompt"]},
    {"what": "empty or whitespace response", "rows": s["empty_response"]},
    {"what": "rows with at least one empty turn", "rows": s["rows_with_empty_turn"]},
]), hide_index=True)
store.close()
