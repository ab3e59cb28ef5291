"""Map page: every row as a point coloured by topic (or kind, file, length, status); lasso to act on a
region; click a point to read it with its nearest neighbours; search by meaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.checks import latest_results, load_result
from analysis.explore.filters import preview_column
from analysis.io import LoadError
from analysis.io.text_guard import no_text_message, records_of, suggest_text_column, text_coverage
from analysis.run.jobs import FAILED, Job
from analysis.space import timings
from analysis.space.embedders import SCOPES
from analysis.space.fast_embedders import ACCURATE, INSTANT, KIND_HELP, KINDS, embedder_name, model_ready, prepare_model
from analysis.space.knn import neighbours, semantic_search
from analysis.space.pipeline import map_work, reference_positions
from components.actions import bulk_actions, show_pending_toast
from components.context import require_workspace
from components.example_view import render_example
from components.map_view import MAX_POINTS, SCOPE_LABELS, scatter, selected_row_ids
from components.state import (
    curation_view,
    frame,
    get_analysis,
    get_embedder,
    get_reference,
    start_upgrade,
    upgrade_job,
)


@st.cache_resource(show_spinner=False)
def _model_builds() -> dict[tuple[str, str | None], Job]:
    """Process-wide (kind, model folder) -> the background job building that embedder's model (export / distil)."""
    return {}


@st.cache_resource(show_spinner=False, max_entries=8)
def _work(fingerprint: str, scope: str, model: str, _rows: pd.DataFrame) -> dict[str, float]:
    """The map's work in measured units (analysis.space.pipeline.map_work), once per dataset, scope and model."""
    del fingerprint
    return map_work(_rows, scope, model)


def _estimate(kind: str) -> str:
    """A new map's time with `kind`, scaled from this machine's last measured run, or "first run: measuring"."""
    model = embedder_name(kind, session.model_path)
    return timings.describe(model, _work(ws.fingerprint, scope, model, df))


def _model_ready(kind: str) -> bool:
    try:
        return model_ready(kind, session.model_path)
    except ValueError:  # not a model folder the fast kinds can read: the loader says so when it runs
        return True


def _build_panel(kind: str, *, polling: bool) -> None:
    """The model build's progress: its elapsed time while it runs (no estimate: it is measured once, here)."""
    job = _model_builds().get((kind, session.model_path))
    status = job.status() if job is not None else None
    if polling and (status is None or not status.active):
        st.rerun()
    if status is not None and status.state == FAILED:
        st.error(f"Building the {kind} model failed: {status.error}")
    elif status is not None and status.active:
        st.progress(0.0, text=f"Building the {kind} embedder's model once for this machine (the install step, "
                    f"`make install`, does it ahead): {status.elapsed():,.0f} s so far; first run: measuring.")


def _ensure_model(kind: str) -> bool:
    """True when `kind`'s model is built; else start (once per process) its build in the background and show it.

    The install step prebuilds every model; this covers a machine where it did not run, visibly, instead of a
    multi-minute distillation hidden inside the first "Compute" click."""
    if _model_ready(kind):
        return True
    builds = _model_builds()
    key = (kind, session.model_path)
    job = builds.get(key)
    if job is None or (job.status().state == FAILED and st.button(f"Retry building the {kind} model")):
        model_path = session.model_path
        builds[key] = job = Job(f"build {kind} model", lambda _progress: prepare_model(kind, model_path)).start()
    if job.status().active:
        st.fragment(run_every=2.0)(_build_panel)(kind, polling=True)
    else:
        _build_panel(kind, polling=False)
    return False

session, ws, store = require_workspace()
df = frame(ws)
show_pending_toast()
st.title("Map")

c1, c2 = st.columns([1, 2])
scope = c1.selectbox("Embed", SCOPES, index=SCOPES.index("both"), key="map_scope", format_func=SCOPE_LABELS.get)
session.embedder = c1.selectbox(
    "Embedder", KINDS, index=KINDS.index(session.embedder), key="map_embedder",
    format_func=lambda k: f"{k} ({KIND_HELP[k].split(' · ')[0]})",
    help="  \n".join(f"**{k}**: {KIND_HELP[k]}" for k in KINDS) + "  \nEach keeps its own embeddings in the "
    f"workspace. For a first look at a large set use {INSTANT}, then upgrade to {ACCURATE}.")
with st.expander("Embedding model"):
    folder = st.text_input("A local sentence-transformers folder (empty: the packaged all-MiniLM-L6-v2)",
                           value=session.model_path or "", key="map_model_path").strip()
    if (folder or None) != session.model_path:
        if folder and not (Path(folder).expanduser() / "modules.json").exists() \
                and not (Path(folder).expanduser() / "config.json").exists():
            st.error(f"{folder} is not a sentence-transformers model folder (no modules.json / config.json).")
        else:
            session.model_path = folder or None
model_label = Path(session.model_path).name if session.model_path else "all-MiniLM-L6-v2"
text = text_coverage(ws.dataset.rows, scope)
if not text.ok:  # a map of empty strings is one point: say which mapping to make instead (issue 13.2)
    info = ws.dataset.info
    found = suggest_text_column(records_of(ws.dataset.rows)) if info.kind == "table" or info.options.mapping else None
    st.error(no_text_message(text, name=Path(info.path).name, kind=info.kind, fields=info.fields,
                             what="embeddings and the map", suggestion=found,
                             fix="choose the text column on the Data page ({mapping})"
                             + ("" if scope == "both" else ", or embed another scope")))
    st.page_link("pages/data.py", label="Map the text column on the Data page", icon=":material/table_view:")
    store.close()
    st.stop()


def _upgrade_panel(n_rows: int, *, polling: bool) -> None:
    """Start, watch and switch to the accurate map computed in the background (components.state.start_upgrade).

    Not started automatically: on a large set it keeps both cores busy for minutes to hours, which the user should
    choose knowingly after the first look (the caption gives this machine's measured estimate, when there is one).
    Progress is read from the job's status, never pushed from the
    worker thread (Streamlit calls are only made here, on the script thread).
    """
    job = upgrade_job(ws, scope, model_path=session.model_path)
    status = job.status() if job is not None else None
    if polling and (status is None or not status.active):
        st.rerun()  # finished while polling: redraw the whole page once, which stops the polling fragment
    if status is None or status.state == FAILED:
        if status is not None:
            st.error(f"The upgrade to {ACCURATE} failed: {status.error}")
        build = "" if _model_ready(ACCURATE) else f" It first builds the {ACCURATE} model once for this machine."
        st.caption(f"This map uses the instant embedder: neighbours and topics are rougher than MiniLM's. Upgrading "
                   f"computes {ACCURATE} embeddings, map and topics in the background ({_estimate(ACCURATE)}; "
                   f"resumable) while this map stays usable.{build}")
        if st.button(f"Upgrade to accurate ({ACCURATE}) in the background", key="map_upgrade"):
            start_upgrade(ws, scope, model_path=session.model_path)
            st.rerun()
    elif status.active:
        st.progress(status.fraction, text=f"Upgrading to {ACCURATE} in the background ({status.elapsed():,.0f} s): "
                    f"{status.message or 'starting'} — the map stays usable, and the work goes on if you leave "
                    "this page.")
    else:
        st.success(f"The accurate ({ACCURATE}) map is ready ({status.elapsed():,.0f} s).")
        st.button("Switch to the accurate map", key="map_upgrade_switch", type="primary", on_click=_switch_to_accurate)


def _switch_to_accurate() -> None:
    """A callback runs before the rerun, the one moment a widget's value may be set: deleting the selectbox's
    state instead left the browser showing (and sending back) the instant embedder."""
    session.embedder = ACCURATE
    st.session_state["map_embedder"] = ACCURATE


def _upgrade(n_rows: int) -> None:
    """The upgrade panel; while the job runs it is a fragment re-run every 2 s, so only it redraws."""
    job = upgrade_job(ws, scope, model_path=session.model_path)
    if job is not None and job.status().active:
        st.fragment(run_every=2.0)(_upgrade_panel)(n_rows, polling=True)
    else:
        _upgrade_panel(n_rows, polling=False)


background = upgrade_job(ws, scope, model_path=session.model_path, kind=session.embedder)  # first: a finished
analysis = get_analysis(ws, scope, model_path=session.model_path)  # job's map is then taken from memory
if analysis is None and background is not None and background.status().active:
    st.info(f"The {session.embedder} map is being computed in the background; it appears here when it is done.")
    _upgrade(len(df))
    store.close()
    st.stop()
if analysis is None:
    n = len(df)
    if not _ensure_model(session.embedder):
        store.close()
        st.stop()
    st.info(f"The map needs embeddings of the {n:,} rows ({scope}) with {model_label} ({session.embedder}), then a "
            f"kNN index, the 2-D map and topics: {_estimate(session.embedder)}. Computed once and kept in the "
            "workspace (a stopped run resumes where it left off). `sift analyze PATH --embed --embedder "
            f"{session.embedder}` does the same from the command line."
            + (f" With the instant embedder ({INSTANT}): {_estimate(INSTANT)}."
               if n > 20_000 and session.embedder != INSTANT else ""))
    if st.button("Compute embeddings, map and topics", type="primary", key="map_compute"):
        get_analysis(ws, scope, model_path=session.model_path, compute=True)
        st.rerun()
    store.close()
    st.stop()

cur = curation_view(store)
labels = dict(zip(analysis.topics.topics["id"], analysis.topics.topics["label"], strict=True))
proj = analysis.projection.set_index("row_id").reindex(df["row_id"]).reset_index()
findings = latest_results(ws.dir)
colour_options = ["topic", "kind", "source file", "status", "response length", "turns"] + \
    [f"check: {name}" for name in findings]
colour_by = c2.radio("Colour by", colour_options, horizontal=True, key="map_colour")
ids = df["row_id"].astype(int)


def _colour(name: str) -> tuple[pd.Series, bool] | None:
    """Only the chosen colouring is computed: at 1M rows building all of them (every check's result read back)
    made each rerun of this page ~25 s."""
    if name == "topic":
        return pd.Series([f"{t}: {labels.get(t, 'unassigned')}" for t in analysis.topics.topic_id]), True
    if name == "kind":
        return df["kind"].astype(str).reset_index(drop=True), True
    if name == "source file":
        return df["source_file"].astype(str).str.rsplit("/", n=1).str[-1].reset_index(drop=True), True
    if name == "status":
        return pd.Series(np.where(ids.isin(cur.dropped), "dropped",
                                  np.where(ids.isin(cur.flagged), "flagged", "kept"))), True
    if name in ("response length", "turns"):
        return df["response_chars" if name == "response length" else "turns"].reset_index(drop=True), False
    check = name.removeprefix("check: ")
    res = load_result(ws.dir, check, findings[check]["params"], df["row_id"].to_numpy()) if check in findings else None
    if res is None:
        return None
    codes = np.where(res.is_issue, res.reason.astype(str), "no issue")
    return pd.Series([c.split(":")[0] for c in codes]), True


@st.cache_resource(show_spinner=False, max_entries=2)
def _hover(fingerprint: str, _df: pd.DataFrame) -> list[str]:
    """The hover text of every row, once per dataset (1M previews take seconds)."""
    del fingerprint
    return preview_column(_df["last_user"].where(_df["last_user"].fillna("") != "", _df["response"]), 90).tolist()


picked_colour = _colour(colour_by)
if picked_colour is None:
    colour_by, picked_colour = "topic", _colour("topic")
colour, categorical = picked_colour
hover = _hover(ws.fingerprint, df)
if len(df) > MAX_POINTS:
    st.caption(f"{len(df):,} rows: the map draws a density layer and a uniform sample of {MAX_POINTS:,} points; "
               "selections cover the sampled points.")
reference_xy = None
if session.reference and st.checkbox(f"Show the reference set ({session.reference.rsplit('/', 1)[-1]})", value=True,
                                     key="map_show_ref"):
    try:
        ref = get_reference(ws, session.reference, scope, session.model_path)
        reference_xy = reference_positions(analysis, ref)
    except (LoadError, ValueError) as exc:
        st.error(f"Reference: {exc}")
fig = scatter(proj, colour, hover, categorical=categorical, title=colour_by, reference=reference_xy)
event = st.plotly_chart(fig, key="map_plot", on_select="rerun", selection_mode=("points", "box", "lasso"))
chosen = selected_row_ids(event)
picked = st.multiselect("…or select whole topics", list(labels), format_func=lambda t: f"{t}: {labels[t]}",
                        key="map_topics_pick")
if picked:
    in_topics = df.loc[np.isin(analysis.topics.topic_id, picked), "row_id"].astype(int).tolist()
    chosen = list(dict.fromkeys(chosen + in_topics))
st.caption(f"{len(analysis.topics.topics)} topics · model {analysis.model} · scope {scope} · drag a lasso or a "
           "box to select a region; click a point to open it.")
if session.embedder == INSTANT:
    _upgrade(len(df))

# ---------------------------------------------------------------- selection
if chosen:
    st.markdown(f"##### {len(chosen):,} rows selected on the map")
    sel = df[df["row_id"].isin(chosen)]
    st.dataframe(pd.DataFrame({"row": sel["row_id"], "topic": [labels.get(int(t), "") for t in
                                                              analysis.topics.topic_id[sel.index]],
                               "question": preview_column(sel["last_user"], 120),
                               "response": preview_column(sel["response"], 120)}),
                 hide_index=True, height=min(38 + 35 * len(sel), 300), key="map_selected_table")
    bulk_actions(store, chosen, key="map_bulk", label=f"({len(chosen):,})")
    if len(chosen) == 1:
        st.session_state["map_row"] = chosen[0]

# ---------------------------------------------------------------- semantic search
st.divider()
q = st.text_input("Search by meaning", key="map_query", placeholder="e.g. how do I keep basil alive indoors")
if q.strip():
    qvec = get_embedder(session.model_path, session.embedder)([q])  # the query in the map's own space
    hits = semantic_search(analysis.index, qvec[0], 10)
    rows_hit = df.iloc[[p for p, _ in hits]]
    st.dataframe(pd.DataFrame({"row": rows_hit["row_id"].to_numpy(), "similarity": [round(s, 3) for _, s in hits],
                               "question": preview_column(rows_hit["last_user"], 120).to_numpy(),
                               "response": preview_column(rows_hit["response"], 120).to_numpy()}),
                 hide_index=True, key="map_search_table")

# ---------------------------------------------------------------- one example + neighbours
st.divider()
row_id = st.number_input("Open row id", min_value=int(ids.min()), max_value=int(ids.max()), step=1, value=None,
                         key="map_row", placeholder="click a point, or type a row id")
if row_id is not None:
    hit = df.index[df["row_id"] == int(row_id)]
    if len(hit):
        pos = int(df.index.get_loc(hit[0]))
        left, right = st.columns([3, 2])
        with left:
            render_example(df.loc[hit[0]], store, key="map_ex")
        with right:
            st.markdown("##### Nearest neighbours")
            nb = neighbours(analysis.index, analysis.vectors, pos, 10)
            nrows = df.iloc[[p for p, _ in nb]]
            st.dataframe(pd.DataFrame({"row": nrows["row_id"].to_numpy(), "cosine": [round(s, 3) for _, s in nb],
                                       "topic": [labels.get(int(t), "") for t in
                                                 analysis.topics.topic_id[[p for p, _ in nb]]],
                                       "question": preview_column(nrows["last_user"], 80).to_numpy()}),
                         hide_index=True, key="map_neighbours")
    else:
        st.warning(f"There is no row {int(row_id)} in this dataset.")
store.close()
