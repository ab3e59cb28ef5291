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
from analysis.io.text_guard import records_of, role_for, suggest_text_column
from analysis.workspace.folder import WorkspaceSummary, recent_workspaces
from components.mapping import role_selects
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
    c1, c2, c3, c4 = st.columns(4)
    kind_choice = c1.selectbox("Kind", ["detect"] + list(KINDS), index=0 if opts.kind is None
                               else 1 + list(KINDS).index(opts.kind), key="data_kind",
                               help="Override the detected kind of data")
    header_choice = c2.selectbox("CSV/TSV header row", ["detect", "yes", "no"],
                                 index={None: 0, True: 1, False: 2}[opts.header], key="data_header")
    quoting_choice = c4.selectbox("CSV/TSV quoting", ["default", "yes", "no"],
                                  index={None: 0, True: 1, False: 2}[opts.quoting], key="data_quoting",
                                  help="Default: quoted fields in CSV, none in TSV (its text holds literal quotes)")
    skip = c3.checkbox("Skip bad lines (and list them)", value=opts.skip_bad_lines, key="data_skip",
                       help="By default a malformed record stops the load with its file, line and field.")

if st.button("Load", type="primary", key="data_load", disabled=path is None):
    same_source = session.source == (path or SAMPLE_PATH)
    unpin(session, path or SAMPLE_PATH)
    session.notice = None
    session.options = LoadOptions(kind=None if kind_choice == "detect" else kind_choice,
                                  mapping=opts.mapping if same_source else None,
                                  skip_bad_lines=skip, header={"detect": None, "yes": True, "no": False}[header_choice],
                                  quoting={"default": None, "yes": True, "no": False}[quoting_choice])
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
for notice in info.notices:
    st.info(notice)
if info.skipped:
    st.warning(f"{len(info.skipped):,} records were skipped because they could not be read:")
    st.dataframe(pd.DataFrame([s.to_dict() for s in info.skipped]), hide_index=True)

# ---------------------------------------------------------------- text column (issue 13.2): automatic, overridable
# An unmapped table has no text to analyse. When its text clearly sits in one column (analysis/io/text_guard.py),
# that column is mapped at once and said so here, with a choice of another column (or none) to override it.
AUTO_KEY = "data_auto_mapping"  # {"source", "role", "column", "why"}: the mapping Sift chose for this source
DECLINED_KEY = "data_auto_declined"  # sources whose automatic mapping the user turned off
CHOSEN_KEY = "data_text_chosen"  # sources whose text column the user chose (the notice is then not Sift's)
auto = st.session_state.get(AUTO_KEY)
if auto is not None and auto["source"] != session.source:
    auto = None
if info.kind == "table" and opts.mapping is None and opts.kind is None \
        and session.source not in st.session_state.get(DECLINED_KEY, set()):
    found = suggest_text_column(records_of(ws.dataset.rows))
    if found is not None:
        st.session_state[AUTO_KEY] = {"source": session.source, "role": found.role, "column": found.column,
                                      "why": found.why}
        session.options = LoadOptions(kind=opts.kind, mapping=found.mapping, skip_bad_lines=opts.skip_bad_lines,
                                      header=opts.header, format=opts.format)
        reset_page_state()
        st.rerun()
text_cols = sorted({k for rec in records_of(ws.dataset.rows, 200) for k, v in rec.items()
                    if isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))})
chosen_by_user = session.source in st.session_state.get(CHOSEN_KEY, set())
if auto is not None and opts.mapping == {auto["role"]: auto["column"]} and not chosen_by_user:
    st.info(f"No known schema was detected, so Sift reads column `{auto['column']}` as the {auto['role']} "
            f"({auto['why']}). Choose another column below if the text is elsewhere.")
if auto is not None or info.kind == "table":
    none_label = "— none (leave the table unmapped)"
    current_col = next(iter(opts.mapping.values())) if opts.mapping and len(opts.mapping) == 1 else none_label
    choices = [none_label] + text_cols
    t1, t2 = st.columns([3, 1])
    text_choice = t1.selectbox("Text column", choices, key="data_text_column",
                               index=choices.index(current_col) if current_col in choices else 0,
                               help="The column that holds the text to analyse (a question-like name is read as "
                                    "the prompt, a text-like one as text). `sift ... --text COLUMN` does the same.")
    if t2.button("Use this column", key="data_text_apply"):
        declined = set(st.session_state.get(DECLINED_KEY, set()))
        if text_choice == none_label:
            declined.add(session.source)
            mapping = None
        else:
            declined.discard(session.source)
            mapping = {role_for(text_choice): text_choice}
        st.session_state[DECLINED_KEY] = declined
        st.session_state[CHOSEN_KEY] = {*st.session_state.get(CHOSEN_KEY, set()), session.source}
        session.options = LoadOptions(kind=opts.kind, mapping=mapping, skip_bad_lines=opts.skip_bad_lines,
                                      header=opts.header, format=opts.format)
        reset_page_state()
        st.rerun()
# ---------------------------------------------------------------- end of the text column block

st.subheader("Column mapping")
needs_mapping = info.kind == "table"
if needs_mapping:
    st.warning("No known schema was detected and no column is mapped: there is no text to analyse. Choose the text "
               "column above, or map columns to roles here.")
else:
    st.caption("Detection worked; map columns only to override it.")
with st.form("data_mapping"):
    chosen = role_selects(MAP_ROLES, sorted(info.fields), opts.mapping or {}, key="data_map", per_row=4)
    c_apply, c_clear = st.columns(2)
    apply = c_apply.form_submit_button("Apply mapping", type="primary")
    clear = c_clear.form_submit_button("Clear mapping")
if apply or clear:
    unpin(session)
    session.options = LoadOptions(kind=opts.kind, mapping=(chosen or None) if apply else None,
                                  skip_bad_lines=opts.skip_bad_lines, header=opts.header, format=opts.format,
                                  quoting=opts.quoting)
    reset_page_state()
    st.rerun()
