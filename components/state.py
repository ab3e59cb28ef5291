"""Session state and caching: the one module that touches `st.cache_*` (ARCHITECTURE.md §6).

The `Session` object holds only small, serialisable choices (which dataset, which filters); big
objects (the canonical table, per-row stats) live in `st.cache_resource` keyed by our own
fingerprints, and curation state is always re-read from SQLite so a refresh or a second tab sees
exactly what is on disk.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.explore.filters import CurationView
from analysis.explore.stats import row_stats
from analysis.io import LoadError, LoadOptions, resolve_paths
from analysis.space.fast_embedders import DEFAULT as DEFAULT_EMBEDDER
from analysis.workspace.folder import CURATION_FILE, Workspace, sift_home
from analysis.workspace.store import CurationStore

APP_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = str(APP_ROOT / "sample_data" / "*.jsonl")
SESSION_KEY = "sift_session"


@dataclass
class Session:
    """What this browser session is looking at; everything else is derived or on disk."""

    source: str = field(default_factory=lambda: os.environ.get("SIFT_DATA") or SAMPLE_PATH)
    options: LoadOptions = field(default_factory=LoadOptions)
    workspace_dir: str | None = os.environ.get("SIFT_WORKSPACE") or None
    error: str | None = None
    current_row: int | None = None
    chart_filter: dict | None = None  # {"label": str, "column": str, "lo": float, "hi": float}
    reference: str | None = None  # a reference file measured on the Topics page, drawn on the Map
    model_path: str | None = None  # a local sentence-transformers folder; None = the packaged MiniLM
    embedder: str = DEFAULT_EMBEDDER  # space.fast_embedders.KINDS: onnx (the default), minilm, onnx-int8 or static
    user: str = ""


def get_session() -> Session:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = Session()
    return st.session_state[SESSION_KEY]


def _files_signature(source: str) -> str:
    """Cheap change detector (names, sizes, mtimes) so an edited file is reloaded, not served stale."""
    try:
        files = resolve_paths(source)
    except LoadError:
        return "missing"
    return json.dumps([(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files])


@st.cache_resource(show_spinner=False)
def _workspaces() -> dict[tuple[str, ...], Workspace]:
    """Process-wide open workspaces. A plain dict (not a cached call) so first loads can show progress."""
    return {}


_MAX_OPEN = 4


def open_workspace(session: Session) -> Workspace | None:
    """The session's workspace, or None with `session.error` set to a message for `st.error`."""
    key = (session.source, json.dumps(session.options.to_dict(), sort_keys=True), session.workspace_dir or "",
           str(sift_home()), _files_signature(session.source))
    cache = _workspaces()
    ws = cache.get(key)
    if ws is None:
        bar = st.progress(0.0, text=f"Loading {session.source} …")

        def progress(message: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        try:
            ws = Workspace.open(session.source, session.options, workspace=session.workspace_dir, progress=progress)
        except LoadError as exc:
            session.error = str(exc)
            return None
        finally:
            bar.empty()
        while len(cache) >= _MAX_OPEN:
            cache.pop(next(iter(cache)))
        cache[key] = ws
    session.error = None
    return ws


@st.cache_resource(show_spinner="Measuring rows …", max_entries=4)
def _frame(fingerprint: str, _ws: Workspace) -> pd.DataFrame:
    """Canonical rows joined with per-row stats: what Browse filters and Overview charts read."""
    del fingerprint
    rows = _ws.dataset.rows
    stats = row_stats(rows).drop(columns=["row_id"])
    stats.index = rows.index
    return rows.join(stats)


def frame(ws: Workspace) -> pd.DataFrame:
    return _frame(ws.fingerprint, ws)


def open_store(ws: Workspace, session: Session) -> CurationStore:
    """A fresh connection per script run: SQLite is the source of truth, shared by all tabs."""
    return CurationStore(ws.dir / CURATION_FILE, user=session.user or None)


def curation_view(store: CurationStore) -> CurationView:
    """The sets Browse filters on, straight from SQL (no 100k-row DataFrame per rerun)."""
    return CurationView(dropped=store.dropped_ids(), flagged=store.flagged_ids(), tagged=store.tag_index(),
                        noted=store.noted_ids())


def reset_page_state() -> None:
    """Forget per-dataset widget state (open row, page, selection) when another dataset is opened."""
    for key in [k for k in st.session_state if str(k).startswith(("browse_", "overview_", "ov_", "export_"))]:
        del st.session_state[key]


def uploads_dir() -> Path:
    return sift_home() / "uploads"


# ---------------------------------------------------------------- embeddings, map, topics (Map/Topics pages)

@st.cache_resource(show_spinner="Loading the embedding model (built first if this machine has none yet) …")
def _embedder(model_path: str | None, kind: str):  # noqa: ANN202 - analysis.space.embedders.Embedder
    from analysis.space.fast_embedders import load_embedder_by_kind

    return load_embedder_by_kind(kind, model_path)


def _kind(kind: str | None) -> str:
    """An explicit embedder kind, or the one this session chose on the Map page (so every page shares one space)."""
    return kind or get_session().embedder


def get_embedder(model_path: str | None = None, kind: str | None = None):  # noqa: ANN201 - analysis.space.embedders.Embedder
    """The embedding model of `kind` (default: the session's): loaded once per process, shared by every session."""
    return _embedder(model_path, _kind(kind))


@st.cache_resource(show_spinner="Loading the tokenizer …", max_entries=4)
def get_tokenizer(spec: str):  # noqa: ANN201 - analysis.tokens.counts.Tokenizer
    """A tokenizer (bundled Qwen BPE or a local tokenizer.json), loaded once per process."""
    from analysis.tokens.counts import load_tokenizer

    return load_tokenizer(spec)


@st.cache_resource(show_spinner=False)
def _analyses() -> dict[tuple[str, str, str, str], object]:
    """Process-wide (workspace dir, fingerprint, model, scope) -> Analysis; only finished ones are stored."""
    return {}


def get_analysis(ws: Workspace, scope: str, *, model_path: str | None = None, compute: bool = False,  # noqa: ANN201
                 kind: str | None = None):
    """The Map's data (analysis.space.pipeline.Analysis) for a scope: from the cache, from the workspace on disk, or
    (compute=True) computed now with a progress bar. None when embeddings are missing and compute is False.
    `kind` is the embedder (analysis.space.fast_embedders.KINDS); None: the session's choice."""
    from analysis.space.fast_embedders import LazyEmbedder, embedder_name
    from analysis.space.pipeline import AnalyzeOptions, cached_vectors, run_analysis

    kind = _kind(kind)
    model = embedder_name(kind, model_path)
    key = (str(ws.dir), ws.fingerprint, model, scope)
    cache = _analyses()
    if key in cache:
        return cache[key]
    if not compute and cached_vectors(ws, model, scope) is None:
        return None
    bar = st.progress(0.0, text="Preparing the map …")

    def progress(message: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    try:
        # not computing: a lazy embedder carries the kind's cache name and loads nothing for a cached map
        embedder = get_embedder(model_path, kind) if compute else LazyEmbedder(kind, model_path)
        with st.spinner("Embedding, indexing, projecting and clustering …"):
            analysis, _ = run_analysis(ws, AnalyzeOptions(scope=scope, model_path=model_path), embedder=embedder,
                                       progress=progress)
    finally:
        bar.empty()
    cache[key] = analysis
    return analysis


@st.cache_resource(show_spinner=False)
def _jobs() -> dict[tuple[str, str, str, str], object]:
    """Process-wide (workspace dir, fingerprint, model, scope) -> analysis.run.jobs.Job: one background computation
    per map whichever session started it, and it keeps running when that page is left or the tab closed."""
    return {}


def _job_key(ws: Workspace, scope: str, model_path: str | None, kind: str) -> tuple[str, str, str, str]:
    from analysis.space.fast_embedders import embedder_name

    return (str(ws.dir), ws.fingerprint, embedder_name(kind, model_path), scope)


def upgrade_job(ws: Workspace, scope: str, *, model_path: str | None = None,  # noqa: ANN201 - analysis.run.jobs.Job
                kind: str | None = None):
    """The background job computing the `kind` map (default: the accurate one) for this workspace and scope, or
    None when none was started in this server process. A finished job's Analysis is put in the analyses cache
    here, on the script thread, so `get_analysis(kind=...)` returns it without reading anything again."""
    from analysis.run.jobs import DONE
    from analysis.space.fast_embedders import ACCURATE

    key = _job_key(ws, scope, model_path, kind or ACCURATE)
    job = _jobs().get(key)
    if job is not None and job.status().state == DONE and key not in _analyses():
        _analyses()[key] = job.result()
    return job


def start_upgrade(ws: Workspace, scope: str, *, model_path: str | None = None,  # noqa: ANN201 - analysis.run.jobs.Job
                  kind: str | None = None):
    """Start computing the `kind` embeddings (default: the accurate ones), kNN index, map and topics in a
    background thread, or return the job already running or done for this map (a failed one is started again).

    The worker loads its own model with `analysis.space.fast_embedders.load_embedder_by_kind`: Streamlit's caches and
    elements must not be touched from another thread. Embedding is resumable, so a server restart mid-way loses
    only the chunk in flight.
    """
    from analysis.run.jobs import FAILED, Job, Progress
    from analysis.space.fast_embedders import ACCURATE, load_embedder_by_kind
    from analysis.space.pipeline import AnalyzeOptions, run_analysis

    kind = kind or ACCURATE
    key = _job_key(ws, scope, model_path, kind)
    jobs = _jobs()
    job = jobs.get(key)
    if job is not None and job.status().state != FAILED:
        return job

    def work(progress: Progress) -> object:
        progress(f"loading the {kind} model", 0.0)
        embedder = load_embedder_by_kind(kind, model_path)
        analysis, _ = run_analysis(ws, AnalyzeOptions(scope=scope, model_path=model_path), embedder=embedder,
                                   progress=progress)
        return analysis

    fresh = Job(f"{kind}@{scope}", work)
    if job is None:
        job = jobs.setdefault(key, fresh)  # atomic: two sessions clicking at once share one job
    else:
        jobs[key] = job = fresh  # the last one failed: try again
    return job.start()  # a no-op for a job another session already started


@st.cache_resource(show_spinner=False)
def _references() -> dict[tuple[str, ...], object]:
    return {}


def get_reference(ws: Workspace, path: str, scope: str, model_path: str | None = None,  # noqa: ANN201
                  kind: str | None = None):
    """A reference set embedded into the workspace's space (analysis.space.pipeline.Reference), parsed and read from
    disk once per file version instead of on every rerun of the Map page."""
    from analysis.space.pipeline import embed_reference

    kind = _kind(kind)
    key = (str(ws.dir), path, scope, model_path or "", kind, _files_signature(path))
    cache = _references()
    if key not in cache:
        cache[key] = embed_reference(ws, path, get_embedder(model_path, kind), scope)
    return cache[key]
