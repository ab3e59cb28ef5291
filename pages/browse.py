"""Browse page: search and filter every row, select rows for bulk actions, read one example closely."""

from __future__ import annotations

import numpy as np
import streamlit as st

from analysis.checks import latest_results, load_result
from analysis.explore.filters import LENGTH_FIELDS, SCOPES, STATUSES, BrowseQuery, QueryError, filter_mask
from components.actions import bulk_actions, show_pending_toast
from components.context import require_workspace
from components.example_view import render_example
from components.state import curation_view, frame
from components.table import selected_row_ids, table_page

session, ws, store = require_workspace()
df = frame(ws)
cur = curation_view(store)
show_pending_toast()
st.title("Browse")

# ---------------------------------------------------------------- filters
c1, c2, c3, c4 = st.columns([4, 2, 1, 1])
text = c1.text_input("Search", key="browse_q", placeholder="keyword, or a regular expression")
scope = c2.selectbox("In", SCOPES, key="browse_scope",
                     help="prompt / response / both, or only the turns of one role")
regex = c3.checkbox("Regex", key="browse_regex")
case = c4.checkbox("Match case", key="browse_case")
f1, f2, f3, f4, f5 = st.columns([2, 2, 2, 1, 1])
kinds = f1.multiselect("Kind", sorted(df["kind"].unique()), key="browse_kinds")
status = f2.selectbox("Status", STATUSES, key="browse_status")
tag = None
if status == "tagged":
    tag = f2.selectbox("Tag", ["any"] + sorted(cur.tagged), key="browse_tag")
    tag = None if tag == "any" else tag
length_field = f3.selectbox("Length of", LENGTH_FIELDS, key="browse_len_field")
min_len = f4.number_input("min", min_value=0, value=None, step=1, key="browse_min")
max_len = f5.number_input("max", min_value=0, value=None, step=1, key="browse_max")

chart = session.chart_filter
ranges: tuple[tuple[str, float, float], ...] = ()
chart_rows: tuple[int, ...] | None = None
if chart:
    b1, b2 = st.columns([5, 1])
    b1.info(f"Filter from Topics: {chart['label']}" if "row_ids" in chart
            else f"Chart filter from Overview: {chart['label']}")
    if b2.button("Clear chart filter", key="browse_clear_chart"):
        session.chart_filter = None
        st.rerun()
    if "values" in chart:
        kinds = sorted(set(kinds) | set(chart["values"])) if kinds else list(chart["values"])
    elif "row_ids" in chart:
        chart_rows = tuple(int(r) for r in chart["row_ids"])
    else:
        ranges = ((chart["column"], float(chart["lo"]), float(chart["hi"])),)

findings = latest_results(ws.dir)
if findings:
    finding = st.selectbox("Flagged by check", ["—"] + list(findings), key="browse_finding")
    if finding != "—":
        res = load_result(ws.dir, finding, findings[finding]["params"], df["row_id"].to_numpy())
        if res is not None:
            hit_ids = tuple(int(r) for r in df.loc[res.is_issue, "row_id"])
            chart_rows = hit_ids if chart_rows is None else tuple(sorted(set(chart_rows) & set(hit_ids)))

query = BrowseQuery(text=text, regex=regex, case_sensitive=case, scope=scope, kinds=tuple(kinds),
                    length_field=length_field, min_length=min_len, max_length=max_len, status=status, tag=tag,
                    ranges=ranges, row_ids=chart_rows)
try:
    mask = filter_mask(df, query, cur)
except QueryError as exc:
    st.error(str(exc))
    st.stop()
matched = df[mask]
n_match = len(matched)

# ---------------------------------------------------------------- table
p1, p2, p3 = st.columns([4, 1, 1])
page_size = p2.selectbox("Rows per page", [50, 100, 200, 500], index=1, key="browse_page_size")
n_pages = max(1, int(np.ceil(n_match / page_size)))
if st.session_state.get("browse_page", 1) > n_pages:  # a narrower search must not leave us past the end
    st.session_state["browse_page"] = 1
page_no = p3.number_input(f"Page (of {n_pages:,})", min_value=1, max_value=n_pages, step=1,
                          key="browse_page")
p1.markdown(f"**{n_match:,}** of {len(df):,} rows match · {len(cur.dropped):,} dropped · "
            f"{len(cur.flagged):,} flagged")
start = (int(page_no) - 1) * page_size
page = table_page(matched.iloc[start:start + page_size], cur)
event = st.dataframe(page, key="browse_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                     height=min(38 + 35 * max(len(page), 1), 420),
                     column_order=["row_id", "status", "kind", "prompt", "response", "turns", "response_chars",
                                   "file"],
                     column_config={"row_id": st.column_config.NumberColumn("row", format="%d", width="small"),
                                    "status": st.column_config.TextColumn(width="medium"),
                                    "prompt": st.column_config.TextColumn("prompt (last user turn)",
                                                                          width="large"),
                                    "response": st.column_config.TextColumn(width="large"),
                                    "response_chars": st.column_config.NumberColumn("resp. chars")})
selected = selected_row_ids(event, page)

# ---------------------------------------------------------------- bulk actions
st.markdown("##### Act on rows")
scope_choice = st.radio("Apply to", [f"selected rows ({len(selected):,})", f"all {n_match:,} matching rows"],
                        horizontal=True, key="browse_apply_to")
targets = selected if scope_choice.startswith("selected") else [int(r) for r in matched["row_id"]]
bulk_actions(store, targets, key="browse_bulk", label=f"({len(targets):,})")

# ---------------------------------------------------------------- example view
st.divider()
if selected and selected != st.session_state.get("browse_last_selection"):
    st.session_state["browse_row"] = selected[-1]
st.session_state["browse_last_selection"] = selected
valid_ids = df["row_id"]
if st.session_state.get("browse_row") is None and n_match:
    st.session_state["browse_row"] = int(matched["row_id"].iloc[0])


def _go(row_id: int) -> None:
    st.session_state["browse_row"] = row_id


ids = matched["row_id"].to_numpy()
current = st.session_state.get("browse_row")
pos = int(np.searchsorted(ids, current)) if current is not None and n_match else 0
prev_id = int(ids[pos - 1]) if n_match and pos > 0 else None
next_idx = pos + 1 if pos < len(ids) and ids[pos] == current else pos
next_id = int(ids[next_idx]) if n_match and next_idx < len(ids) else None
e1, e2, e3 = st.columns([2, 1, 1])
if current is not None and not int(valid_ids.min()) <= int(current) <= int(valid_ids.max()):
    st.session_state["browse_row"] = current = int(matched["row_id"].iloc[0]) if n_match else int(valid_ids.min())
e1.number_input("Open row id", min_value=int(valid_ids.min()), max_value=int(valid_ids.max()), step=1,
                key="browse_row")
e2.button("← Previous match", key="browse_prev", on_click=_go, args=(prev_id,), disabled=prev_id is None,
          width="stretch")
e3.button("Next match →", key="browse_next", on_click=_go, args=(next_id,), disabled=next_id is None,
          width="stretch")
current = st.session_state.get("browse_row")
if current is not None:
    hit = df.index[df["row_id"] == int(current)]
    if len(hit):
        session.current_row = int(current)
        render_example(df.loc[hit[0]], store, key="browse_ex")
    else:
        st.warning(f"There is no row {int(current)} in this dataset (it may have been skipped at load).")
store.close()
