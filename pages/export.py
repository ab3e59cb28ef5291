"""Export page: write the cleaned subset with its manifest, drop log and recipe; show the action log."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.curation.export import EXPORT_AS, EXPORT_FORMATS, export_dataset, select_rows
from analysis.io import LoadError
from analysis.workspace.folder import sift_home
from components.context import require_workspace

session, ws, store = require_workspace()
info = ws.dataset.info
st.title("Export")

c1, c2 = st.columns(2)
fmt = c1.selectbox("Format", EXPORT_FORMATS, key="export_format")
as_ = c2.selectbox("Shape", EXPORT_AS, key="export_as",
                   format_func=lambda a: {"source": "source format (original records)",
                                          "messages": "normalised chat messages"}[a])
tags = store.all_tags()
t1, t2 = st.columns(2)
only = t1.multiselect("Only rows tagged", tags, key="export_only")
except_ = t2.multiselect("Except rows tagged", tags, key="export_except")
stem = Path(info.files[0].path).name.split(".")[0] if len(info.files) == 1 else "dataset"
default_out = str(sift_home() / "exports" / ws.dir.name / f"{stem}-clean.{fmt}")
out = st.text_input("Output file (manifest.json, dropped.jsonl and recipe.json go beside it)", value=default_out,
                    key=f"export_out_{fmt}")

subset, n_dropped, n_excluded = select_rows(ws.dataset.rows, store, only_tags=only, except_tags=except_)
st.markdown(f"**{len(subset):,}** rows will be written · {n_dropped:,} dropped"
            + (f" · {n_excluded:,} left out by tag filters" if n_excluded else ""))

if st.button("Export", type="primary", key="export_go"):
    try:
        with st.spinner("Writing …"):
            res = export_dataset(ws.dataset, store, out, fmt=fmt, as_=as_, only_tags=only, except_tags=except_)
    except (LoadError, OSError) as exc:
        st.error(f"Export failed: {exc}")
    else:
        st.session_state["export_last"] = asdict(res)

last = st.session_state.get("export_last")
if last:
    st.success(f"Wrote {last['rows_written']:,} rows to {last['out']} ({last['rows_dropped']:,} dropped).")
    d1, d2, d3, d4 = st.columns(4)
    for col, key_, label in ((d1, "out", "data file"), (d2, "manifest", "manifest.json"),
                             (d3, "dropped_log", "dropped.jsonl"), (d4, "recipe", "recipe.json")):
        p = Path(last[key_])
        if p.exists() and p.stat().st_size < 200 * 1024 * 1024:
            col.download_button(f"Download {label}", data=p.read_bytes(), file_name=p.name,
                                key=f"export_dl_{key_}")

st.subheader("Dropped rows")
drops = store.drop_records()
if drops:
    st.dataframe(pd.DataFrame(drops), hide_index=True)
else:
    st.caption("Nothing dropped yet.")
st.subheader("Action log")
actions = store.actions()
if actions:
    st.dataframe(pd.DataFrame([{"id": a.id, "time": a.time, "user": a.user, "action": a.action,
                                "rows": len(a.row_ids), "reason": a.reason, "detail": a.detail}
                                for a in reversed(actions)]),
                 hide_index=True)
else:
    st.caption("No actions yet.")
store.close()
