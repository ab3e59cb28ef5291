"""Data page: pick the dataset (bundled sample, local path, upload, or a recent workspace), loader options,
column mapping."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.io import KINDS, LoadError, LoadOptions
from analysis.io.normalize import MAP_ROLES
from analysis.workspace.folder import WorkspaceSummary, recent_workspaces
from components.state import (
    SAMPLE_PATH,
    get_session,
    open_workspace,
    pin_workspace,
    reset_page_state,
    unpin,
    uploads_dir,
)

RECENT_SHOWN = 8

session = get_session()
st.title("Data")


def _ago(stamp: str) -> str:
    """'3 min ago' for an ISO time: recency is what the list is for."""
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    secs = max((datetime.now(UTC) - then).total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{int(secs // size)} {unit} ago"
    return "just now"


def _options_note(options: dict) -> str:
    """The loader options that set this workspace apart from a plain load of the same file."""
    parts = [f"kind={options['kind']}"] if options.get("kind") else []
    if options.get("mapping"):
        parts.append("mapped " + ", ".join(f"{k}={v}" for k, v in sorted(options["mapping"].items())))
    if options.get("skip_bad_lines"):
        parts.append("skip bad lines")
    if options.get("header") is not None:
        parts.append(f"header={'yes' if options['header'] else 'no'}")
    return f" [{'; '.join(parts)}]" if parts else ""


def _reopen(item: WorkspaceSummary) -> None:
    """Open a listed workspace as it is on disk (no re-parse; its flags come with it)."""
    try:
        pin_workspace(session, item.dir)
    except LoadError as exc:
        st.session_state["data_recent_error"] = str(exc)
        return
    session.notice = None
    session.current_row = None
    session.chart_filter = None
    reset_page_state()
    for key in ("data_source", "data_path"):
        st.session_state.pop(key, None)


recent = recent_workspaces()
if recent:
    with st.expander(f"Recent workspaces ({len(recent):,})", expanded=True):
        header = st.columns([4, 2, 2, 2, 2])
        for col, label in zip(header, ["dataset", "kind", "rows", "last opened", ""], strict=True):
            col.caption(label)
        for item in recent[:RECENT_SHOWN]:
            is_open = session.pinned == str(item.dir) or session.marked == str(item.dir)
            c_name, c_kind, c_rows, c_when, c_open = st.columns([4, 2, 2, 2, 2], vertical_alignment="center")
            # st.text, not markdown: file names are untrusted text
            c_name.text(f"{item.name}{_options_note(item.options)}" + (" (open)" if is_open else ""))
            c_kind.text(item.kind)
            c_rows.text(f"{item.rows:,}")
            c_when.text(_ago(item.last_opened))
            c_open.button("Open", key=f"data_recent_{item.id}", disabled=is_open, width="stretch",
                          on_click=_reopen, args=(item,))
        if msg := st.session_state.pop("data_recent_error", None):
            st.error(msg)
        if len(recent) > RECENT_SHOWN:
            st.caption(f"{len(recent) - RECENT_SHOWN:,} older workspaces are not shown.")

SOURCES = ["Bundled sample", "Local path", "Upload"]
current = 0 if session.source == SAMPLE_PATH else 1
choice = st.radio("Source", SOURCES, index=current, horizontal=True, key="data_source")
path: str | None = None
if choice == "Bundled sample":
    path = SAMPLE_PATH
    st.caption("A synthetic dataset written by `sample_data/generate.py`: SFT, chat and preference rows with "
               "planted defects (see sample_data/README.md).")
elif choice == "Local path":
    path = st.text_input("File, folder or glob", value="" if session.source == SAMPLE_PATH else session.source,
                         key="data_path", placeholder="/data/train.jsonl, /data/shards/, /data/*.parquet")
    path = path.strip() or None
else:
    upload = st.file_uploader("JSONL, JSON, CSV, TSV or Parquet (optionally .gz)", key="data_upload",
                              type=["jsonl", "ndjson", "json", "csv", "tsv", "txt", "parquet", "gz"])
    if upload is not None:
        data = upload.getvalue()
        target = uploads_dir() / hashlib.sha256(data).hexdigest()[:16] / Path(upload.name).name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        path = str(target)

opts = session.options
with st.expander("Loader options", expanded=opts != LoadOptions()):
    c1, c2, c3 = st.columns(3)
    kind_choice = c1.selectbox("Kind", ["detect"] + list(KINDS), index=0 if opts.kind is None
                               else 1 + list(KINDS).index(opts.kind), key="data_kind",
                               help="Override the detected kind of data")
    header_choice = c2.selectbox("CSV/TSV header row", ["detect", "yes", "no"],
                                 index={None: 0, True: 1, False: 2}[opts.header], key="data_header")
    skip = c3.checkbox("Skip bad lines (and list them)", value=opts.skip_bad_lines, key="data_skip",
                       help="By default a malformed record stops the load with its file, line and field.")

if st.button("Load", type="primary", key="data_load", disabled=path is None):
    same_source = session.source == (path or SAMPLE_PATH)
    unpin(session, path or SAMPLE_PATH)
    session.notice = None
    session.options = LoadOptions(kind=None if kind_choice == "detect" else kind_choice,
                                  mapping=opts.mapping if same_source else None,
                                  skip_bad_lines=skip, header={"detect": None, "yes": True, "no": False}[header_choice])
    session.current_row = None
    session.chart_filter = None
    reset_page_state()
    st.rerun()

st.divider()
ws = open_workspace(session)
if ws is None:
    st.error(session.error or "No dataset loaded.")
    st.stop()

info = ws.dataset.info
st.subheader("Loaded dataset")
m1, m2, m3, m4 = st.columns(4)
m1.metric("Rows", f"{info.rows:,}")
m2.metric("Format", info.format)
m3.metric("Kind", info.kind)
m4.metric("Skipped records", f"{len(info.skipped):,}")
st.caption(f"Source: {info.path} · workspace: {ws.dir}")
st.dataframe(pd.DataFrame([{"file": f.path, "format": f.format, "kind": f.kind, "rows": f.rows,
                            "detected from": f.detection} for f in info.files]), hide_index=True)
with st.expander(f"Fields ({len(info.fields)})"):
    st.dataframe(pd.DataFrame([{"field": k, "records": v, "share": v / max(info.rows, 1)}
                               for k, v in sorted(info.fields.items(), key=lambda kv: -kv[1])]),
                 hide_index=True, column_config={"share": st.column_config.ProgressColumn(format="percent")})
if info.skipped:
    st.warning(f"{len(info.skipped):,} records were skipped because they could not be read:")
    st.dataframe(pd.DataFrame([s.to_dict() for s in info.skipped]), hide_index=True)

st.subheader("Column mapping")
needs_mapping = info.kind == "table"
if needs_mapping:
    st.info("No known schema was detected. Map the columns that hold the text to roles.")
else:
    st.caption("Detection worked; map columns only to override it.")
with st.form("data_mapping"):
    fields = ["—"] + sorted(info.fields)
    current_map = opts.mapping or {}
    cols = st.columns(4)
    chosen: dict[str, str] = {}
    for i, role in enumerate(MAP_ROLES):
        default = current_map.get(role, "—")
        sel = cols[i % 4].selectbox(role, fields, index=fields.index(default) if default in fields else 0,
                                    key=f"data_map_{role}")
        if sel != "—":
            chosen[role] = sel
    c_apply, c_clear = st.columns(2)
    apply = c_apply.form_submit_button("Apply mapping", type="primary")
    clear = c_clear.form_submit_button("Clear mapping")
if apply or clear:
    unpin(session)
    session.options = LoadOptions(kind=opts.kind, mapping=(chosen or None) if apply else None,
                                  skip_bad_lines=opts.skip_bad_lines, header=opts.header, format=opts.format)
    reset_page_state()
    st.rerun()
