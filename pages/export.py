"""Export page: write the cleaned subset as a new export folder (data files, manifest, drop log, recipe)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.curation.export import (
    EXPORT_AS,
    EXPORT_FORMATS,
    check_target,
    export_dataset,
    is_export_folder,
    select_rows,
)
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
csv_raw = False
if fmt == "csv":
    csv_raw = st.checkbox("Keep formula-like cells raw (cells starting with = + - @ tab or CR are otherwise prefixed "
                          "with ' so a spreadsheet shows them as text)", key="export_csv_raw")
stem = Path(info.files[0].path).name.split(".")[0] if len(info.files) == 1 else "dataset"
default_out = str(sift_home() / "exports" / ws.dir.name / f"{stem}-clean")
out = st.text_input("Output folder (created: one data file per source file, plus manifest.json, dropped.jsonl and "
                    "recipe.json)", value=default_out, key="export_out")

snap = store.snapshot()
subset, n_dropped, n_excluded = select_rows(ws.dataset.rows, snap, only_tags=only, except_tags=except_)
st.markdown(f"**{len(subset):,}** rows will be written · {n_dropped:,} dropped"
            + (f" · {n_excluded:,} left out by tag filters" if n_excluded else ""))

force = False
target = Path(out).expanduser()
if out.strip() and target.is_dir() and is_export_folder(target):
    st.warning(f"{target} already holds an export. Exporting replaces it as a whole.")
    # keyed per export: a confirmation is spent by the export it allowed, never carried over to the next one
    force = st.checkbox(f"Overwrite the existing export at {target}",
                        key=f"export_overwrite_{st.session_state.get('export_count', 0)}")

if st.button("Export", type="primary", key="export_go"):
    try:
        check_target(ws.dataset, out, force=force)
        with st.spinner("Writing …"):
            res = export_dataset(ws.dataset, store, out, fmt=fmt, as_=as_, only_tags=only, except_tags=except_,
                                 force=force, csv_raw=csv_raw)
    except (LoadError, OSError) as exc:
        msg = str(exc)
        if "add --force" in msg:
            msg = f"{target} already holds an export; tick “Overwrite the existing export” to replace it."
        st.error(f"Export failed: {msg}")
    else:
        st.session_state["export_last"] = asdict(res)
        st.session_state["export_count"] = st.session_state.get("export_count", 0) + 1

last = st.session_state.get("export_last")
if last:
    replaced = " (replaced the previous export)" if last["replaced"] else ""
    st.success(f"Wrote {last['rows_written']:,} rows to {last['out']}{replaced} ({last['rows_dropped']:,} dropped).")
    if last["csv_formulas_neutralised"]:
        st.info(f"{last['csv_formulas_neutralised']:,} CSV cells began like a spreadsheet formula and were prefixed "
                "with ' (tick “Keep formula-like cells raw” to keep them as they are).")
    for w in last.get("warnings", []):
        st.warning(w)
    files = [*last["files"], last["manifest"], last["dropped_log"], last["recipe"]]
    cols = st.columns(min(4, len(files)))
    for i, f in enumerate(files):
        p = Path(f)
        if p.exists() and p.stat().st_size < 200 * 1024 * 1024:
            cols[i % len(cols)].download_button(f"Download {p.name}", data=p.read_bytes(), file_name=p.name,
                                                key=f"export_dl_{i}")

st.subheader("Dropped rows")
drops = snap.drop_records()
if drops:
    st.dataframe(pd.DataFrame(drops), hide_index=True)
else:
    st.caption("Nothing dropped yet.")
st.subheader("Action log")
actions = snap.actions()
if actions:
    st.dataframe(pd.DataFrame([{"id": a.id, "time": a.time, "user": a.user, "action": a.action,
                                "rows": len(a.row_ids), "reason": a.reason, "detail": a.detail}
                                for a in reversed(actions)]),
                 hide_index=True)
else:
    st.caption("No actions yet.")
store.close()
