"""Topics page: what the data covers (topics, sizes, diversity), what the current drops remove from each
topic, and the coverage gap against a reference set (production prompts or an eval set)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.explore.filters import preview_column
from analysis.io import LoadError, LoadOptions, load
from analysis.io.text_guard import no_text_message, records_of, suggest_text_column, text_coverage
from analysis.space.embedders import SCOPES
from analysis.space.pipeline import embed_reference, run_coverage
from analysis.space.topics import diversity, topic_shift
from components.context import require_workspace
from components.map_view import SCOPE_LABELS
from components.mapping import role_selects
from components.state import frame, get_analysis, get_embedder, uploads_dir

session, ws, store = require_workspace()
df = frame(ws)
st.title("Topics")
scope = st.selectbox("Embed", SCOPES, index=SCOPES.index("both"), key="topics_scope", format_func=SCOPE_LABELS.get)
text = text_coverage(ws.dataset.rows, scope)
if not text.ok:  # topics of empty strings are one topic: say which mapping to make instead
    info = ws.dataset.info
    found = suggest_text_column(records_of(ws.dataset.rows)) if info.kind == "table" or info.options.mapping else None
    st.error(no_text_message(text, name=Path(info.path).name, kind=info.kind, fields=info.fields, what="topics",
                             suggestion=found, fix="choose the text column on the Data page ({mapping})"
                             + ("" if scope == "both" else ", or embed another scope")))
    st.page_link("pages/data.py", label="Map the text column on the Data page", icon=":material/table_view:")
    store.close()
    st.stop()
analysis = get_analysis(ws, scope, model_path=session.model_path)
if analysis is None:
    st.info("Topics need embeddings: compute them on the Map page (or `sift analyze PATH --embed`).")
    st.page_link("pages/map.py", label="Open the Map", icon=":material/scatter_plot:")
    store.close()
    st.stop()

topic_id = analysis.topics.topic_id
table = analysis.topics.topics
labels = dict(zip(table["id"], table["label"], strict=True))
dropped = df["row_id"].isin(store.dropped_ids()).to_numpy()
div_all, div_kept = diversity(topic_id), diversity(topic_id, keep=~dropped)

m = st.columns(4)
m[0].metric("Topics", f"{div_all['n_topics']:,}")
m[1].metric("Effective topics", f"{div_all['effective_topics']:.1f}",
            delta=f"{div_kept['effective_topics'] - div_all['effective_topics']:+.1f} after drops" if dropped.any()
            else None, help="exp(entropy of topic shares): the number of equally sized topics with the same spread")
m[2].metric("Largest topic", f"{div_all['largest_share']:.1%}")
m[3].metric("Unassigned rows", f"{div_all['unassigned']:,}")

shift = topic_shift(topic_id, dropped, labels)
fig = go.Figure()
fig.add_bar(y=shift["label"], x=shift["before"], name="all rows", orientation="h", marker_color="#BAB0AC")
fig.add_bar(y=shift["label"], x=shift["after"], name="after drops", orientation="h", marker_color="#4C78A8")
fig.update_layout(barmode="overlay", height=max(300, 22 * len(shift)), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                  title="Topic sizes, before and after the current drops", yaxis={"autorange": "reversed"})
st.plotly_chart(fig, key="topics_sizes")
if dropped.any():
    st.caption("Topics that lose the most rows to the current drops:")
    st.dataframe(shift[shift["lost"] > 0].head(10), hide_index=True, key="topics_shift")

st.subheader("Topics")
st.dataframe(table[["id", "label", "size", "share"]], hide_index=True, key="topics_table",
             column_config={"share": st.column_config.ProgressColumn(format="percent")})
choice = st.selectbox("Examples of topic", table["id"].tolist(), format_func=lambda t: f"{t}: {labels[t]}",
                      key="topics_pick")
members = df[topic_id == choice]
ex = table.set_index("id").loc[choice, "examples"]
ex_rows = df[df["row_id"].isin(list(ex))]
st.dataframe(pd.DataFrame({"row": ex_rows["row_id"], "question": preview_column(ex_rows["last_user"], 140),
                           "response": preview_column(ex_rows["response"], 140)}), hide_index=True,
             key="topics_examples")
if st.button(f"Browse all {len(members):,} rows of this topic", key="topics_browse"):
    session.chart_filter = {"label": f"topic {choice}: {labels[choice]}", "row_ids": members["row_id"].tolist()}
    st.switch_page("pages/browse.py")

# ---------------------------------------------------------------- coverage gap
st.subheader("Coverage against a reference set")
st.caption("Load production prompts or an eval set: both are embedded into the same space and clustered together, "
           "so topics the training data lacks show up as under-covered.")
r1, r2 = st.columns([3, 2])
ref_path = r1.text_input("Reference file (any loadable format)", key="topics_ref_path",
                         placeholder="/data/prod_prompts.jsonl")
upload = r2.file_uploader("…or upload one", key="topics_ref_upload",
                          type=["jsonl", "json", "csv", "tsv", "txt", "parquet", "gz"])
if upload is not None:
    data = upload.getvalue()
    target = uploads_dir() / hashlib.sha256(data).hexdigest()[:16] / Path(upload.name).name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    ref_path = str(target)


@st.cache_data(show_spinner=False, max_entries=8)
def _reference_shape(path: str, signature: tuple) -> dict:
    """The reference file's detected kind, columns (those holding strings first) and Sift's automatic mapping."""
    del signature  # part of the cache key only: the file's size and modification time
    ds = load(path)
    recs = records_of(ds.rows, 200)
    texty = sorted({k for r in recs for k, v in r.items()
                    if isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))})
    found = suggest_text_column(recs) if ds.info.kind == "table" else None
    return {"kind": ds.info.kind, "columns": texty or sorted(ds.info.fields),
            "auto": found.mapping if found else None, "why": found.why if found else ""}


# A reference Sift cannot read (no known schema) gets the same treatment as the training data: its text column is
# mapped automatically (said here), and this form maps its columns to roles by hand.
ref_mappings: dict[str, dict[str, str]] = st.session_state.setdefault("topics_ref_mappings", {})
ref_options: LoadOptions | None = None
if ref_path:
    try:
        stat = Path(ref_path).expanduser().stat() if Path(ref_path).expanduser().is_file() else None
        shape = _reference_shape(ref_path, (stat.st_size, stat.st_mtime) if stat else ())
    except (LoadError, ValueError, OSError) as exc:
        st.error(f"Reference: {exc}")
        shape = None
    if shape is not None:
        given = ref_mappings.get(ref_path)
        if given:
            ref_options = LoadOptions(mapping=given)
            st.caption("Reference columns mapped: " + ", ".join(f"{r} = `{c}`" for r, c in given.items()))
        elif shape["auto"]:
            (role, col), = shape["auto"].items()
            st.info(f"The reference has no known schema, so Sift reads its column `{col}` as the {role} "
                    f"({shape['why']}). Map other columns below if the text is elsewhere.")
        elif shape["kind"] == "table":
            st.warning("The reference has no known schema and no column that clearly holds its text: map its "
                       "columns below before measuring coverage.")
        with st.expander("Reference columns", expanded=shape["kind"] == "table" and not shape["auto"] and not given):
            with st.form("topics_ref_map"):
                chosen = role_selects(("prompt", "response", "text"), shape["columns"],
                                      given or shape["auto"] or {}, key="topics_ref_map", per_row=3)
                a1, a2 = st.columns(2)
                apply_map = a1.form_submit_button("Apply reference mapping", type="primary")
                clear_map = a2.form_submit_button("Detect automatically")
            if apply_map:
                if chosen:
                    ref_mappings[ref_path] = chosen
                else:
                    st.error("Map at least one column to prompt, response or text.")
                st.rerun()
            if clear_map:
                ref_mappings.pop(ref_path, None)
                st.rerun()
if st.button("Measure coverage", type="primary", key="topics_cov_go", disabled=not ref_path):
    bar = st.progress(0.0, text="Embedding the reference …")
    try:
        ref = embed_reference(ws, ref_path, get_embedder(session.model_path), scope, options=ref_options,
                              progress=lambda msg, f: bar.progress(min(max(f, 0.0), 1.0), text=msg),
                              text_fix="choose its text column under Reference columns ({mapping})")
        with st.spinner("Clustering training and reference rows together …"):
            report = run_coverage(ws, analysis, ref)
    except (LoadError, ValueError) as exc:
        st.error(f"Reference: {exc}")
    else:
        st.session_state["topics_coverage"] = {"path": ref_path, "dir": str(ref.dir), "report": report,
                                               "notice": ref.notice, "mapping": ref.mapping}
        session.reference = ref_path
    finally:
        bar.empty()

cov = st.session_state.get("topics_coverage")
if cov:
    report = cov["report"]
    st.markdown(f"Reference: `{cov['path']}`" + (" · columns " + ", ".join(
        f"{r} = `{c}`" for r, c in cov["mapping"].items()) if cov.get("mapping") else ""))
    under, over = report.under(), report.over()
    st.markdown(f"**Under-covered** ({len(under)}): the reference asks about these far more than the training data "
                "covers them.")
    st.dataframe(under, hide_index=True, key="topics_under")
    st.markdown(f"**Over-covered** ({len(over)})")
    st.dataframe(over, hide_index=True, key="topics_over")
    st.markdown("**Reference rows farthest from any training row** (what to collect next)")
    st.dataframe(report.farthest, hide_index=True, key="topics_farthest")
    csv_path = Path(cov["dir"]) / "collect_next.csv"
    if csv_path.exists():
        st.download_button("Download what-to-collect-next CSV", data=csv_path.read_bytes(),
                           file_name="collect_next.csv", key="topics_dl")
store.close()
