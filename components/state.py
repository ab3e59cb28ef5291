"""Session state and caching: the one module that touches `st.cache_*` (ARCHITECTURE.md §6).

The `Session` object holds only small, serialisable choices (which dataset, which filters); big
objects (the canonical table, per-row stats) live in `st.cache_resource` keyed by our own
fingerprints, and curation state is always re-read from SQLite so a refresh or a second tab sees
exactly what is on disk.

A Streamlit session lives as long as one browser tab's page load, so what must survive a reload, a second tab or a
bookmark is written into the URL: `?ws=<workspace id>` (the open dataset) and `?user=<name>` (who the log names).
`read_url` applies them when a session is created (`get_session`), `publish_url` mirrors the session back on every
run (page navigation drops the query string; the next run puts it back). Each session also gets a random `session_id`,
recorded with every action it makes, so "Undo" only ever reaches this tab's own actions.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.explore.filters import CurationView
from analysis.explore.stats import row_stats
from analysis.io import LoadError, LoadInfo, LoadOptions, resolve_paths
from analysis.space.fast_embedders import DEFAULT as DEFAULT_EMBEDDER
from analysis.workspace.folder import (
    CURATION_FILE,
    DATASET_FILE,
    Workspace,
    mark_opened,
    read_meta,
    sift_home,
    workspace_dir_of,
    workspace_id,
    workspaces_root,
)
from analysis.workspace.store import CurationStore

APP_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = str(APP_ROOT / "sample_data" / "*.jsonl")
SESSION_KEY = "sift_session"
MAX_USER_CHARS = 80


@dataclass
class Session:
    """What this browser session is looking at; everything else is derived or on disk."""

    source: str = field(default_factory=lambda: default_source())
    options: LoadOptions = field(default_factory=LoadOptions)
    workspace_dir: str | None = os.environ.get("SIFT_WORKSPACE") or None
    error: str | None = None
    current_row: int | None = None
    chart_filter: dict | None = None  # {"label": str, "column": str, "lo": float, "hi": float}
    reference: str | None = None  # a reference file measured on the Topics page, drawn on the Map
    model_path: str | None = None  # a local sentence-transformers folder; None = the packaged MiniLM
    embedder: str = DEFAULT_EMBEDDER  # space.fast_embedders.KINDS: onnx (the default), minilm, onnx-int8 or static
    user: str = ""
    # One id per browser tab (a Streamlit session): stored with each action so undo stays within this tab.
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # A workspace folder opened as it is on disk (from the URL or the Recent list), not re-read from its source.
    pinned: str | None = None
    notice: str | None = None  # why the URL's dataset is not the one shown; above every page until dismissed
    url_read: bool = False  # the URL is read once, on the first run; afterwards the session is the truth
    marked: str | None = None  # the workspace whose "last opened" this session has recorded


def get_session() -> Session:
    """This browser tab's Session; on its first run the URL's `?ws=` / `?user=` are applied, whichever script
    runs first (app.py, or a page run directly when a deep link reaches a cold server)."""
    if SESSION_KEY not in st.session_state:
        session = Session()
        read_url(session)
        st.session_state[SESSION_KEY] = session
    return st.session_state[SESSION_KEY]


def default_source() -> str:
    """What a session opens when nothing names a dataset: `SIFT_DATA`, else the bundled sample."""
    return os.environ.get("SIFT_DATA") or SAMPLE_PATH


_MD_PUNCT = set("\\`*_{}[]()#+-.!|<>~$:&\"'=^@%;,/?")


def plain_md(text: str) -> str:
    """`text` (a file name, a user name, a URL value) made literal for st.warning/st.toast, which render Markdown:
    every ASCII punctuation mark is backslash-escaped, so no link, image, HTML or `:color[...]` can form."""
    return "".join("\\" + c if c in _MD_PUNCT else c for c in " ".join(str(text).split()))


def clean_user(name: str | None) -> str:
    """A user name as the log stores it: trimmed, one line, at most MAX_USER_CHARS characters."""
    return " ".join((name or "").split())[:MAX_USER_CHARS]


def pin_workspace(session: Session, ws_dir: str | Path) -> None:
    """Open the workspace folder `ws_dir` as it is (Recent list, `?ws=`): its source and loader options become the
    session's, so the Data page shows them and a later Load or mapping starts from them. LoadError when the folder
    is not a finished workspace."""
    ws_dir = Path(ws_dir)
    meta = read_meta(ws_dir)
    if meta is None or not isinstance(meta.get("info"), dict) or not (ws_dir / DATASET_FILE).exists():
        raise LoadError(f"{ws_dir} is not a finished Sift workspace (no meta.json / {DATASET_FILE})")
    info = LoadInfo.from_dict(meta["info"])
    session.pinned = str(ws_dir)
    session.source = info.path
    session.options = info.options
    session.error = None


def unpin(session: Session, source: str | None = None) -> None:
    """Back to reading `source` (default: the session's) from its files, e.g. after Load on the Data page."""
    session.pinned = None
    if source is not None:
        session.source = source


def read_url(session: Session) -> None:
    """Apply `?user=` and `?ws=` on the session's first run. An id that names no workspace leaves one message in
    `session.notice`; the session then opens its default dataset, and `publish_url` rewrites the URL to it."""
    if session.url_read:
        return
    session.url_read = True
    user = clean_user(st.query_params.get("user"))
    if user:
        session.user = user
    ws_id = st.query_params.get("ws")
    if not ws_id:
        return
    try:
        ws_dir = workspace_dir_of(ws_id)
    except LoadError:
        session.notice = (f"The link's workspace id is not valid (`ws=` must be a folder name under "
                          f"{plain_md(str(workspaces_root()))}). {_fallback_line()}")
        return
    if not ws_dir.is_dir():
        session.notice = (f"The link names workspace {plain_md(ws_id)}, which is not under "
                          f"{plain_md(str(workspaces_root()))} (deleted, or the app runs with another SIFT_HOME). "
                          f"{_fallback_line()}")
        return
    try:
        pin_workspace(session, ws_dir)
    except LoadError as exc:
        session.notice = (f"The link names workspace {plain_md(ws_id)}, which cannot be opened "
                          f"({plain_md(exc.message)}). {_fallback_line()}")


def _fallback_line() -> str:
    return (f"Showing {_default_label()} instead; choose a dataset on the Data page, where recent workspaces are "
            "listed.")


def _default_label() -> str:
    return "the bundled sample" if default_source() == SAMPLE_PATH else f"{plain_md(default_source())} (SIFT_DATA)"


def _set_param(key: str, value: str | None) -> None:
    """Set or remove one query parameter, sending nothing to the browser when it already says so."""
    if value:
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    elif key in st.query_params:
        del st.query_params[key]


def publish_url(session: Session, ws: Workspace | None) -> None:
    """Make the URL name what this session shows: `?ws=` the open workspace (removed when none is open, or it
    lives outside $SIFT_HOME/workspaces), `?user=` the name typed in the sidebar."""
    _set_param("ws", workspace_id(ws.dir) if ws is not None else None)
    _set_param("user", clean_user(session.user) or None)


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
    ws = _open_pinned(session) if session.pinned else None
    if ws is None:
        ws = _open_source(session)
    if ws is not None and session.marked != str(ws.dir):
        mark_opened(ws.dir)
        session.marked = str(ws.dir)
    publish_url(session, ws)  # here, not only in app.py: whichever run opens a dataset, the URL names it
    return ws


def _open_pinned(session: Session) -> Workspace | None:
    """The pinned workspace folder, read as it is; when it cannot be read (deleted, damaged) the session falls
    back to its default dataset with a notice saying so, never silently."""
    assert session.pinned is not None
    key = ("pinned", session.pinned)
    cache = _workspaces()
    # the same folder opened by path in another session: share its rows instead of holding them twice
    ws = cache.get(key) or next((w for w in cache.values() if str(w.dir) == session.pinned), None)
    if ws is not None and (Path(session.pinned) / DATASET_FILE).exists():
        session.error = None
        return ws
    try:
        with st.spinner(f"Opening workspace {Path(session.pinned).name} …"):
            ws = Workspace.from_dir(session.pinned)
    except (LoadError, OSError, ValueError, KeyError) as exc:
        cache.pop(key, None)
        session.notice = (f"Workspace {plain_md(Path(session.pinned).name)} could not be opened "
                          f"({plain_md(str(exc))}). {_fallback_line()}")
        session.pinned = None
        session.source, session.options = default_source(), LoadOptions()
        return None
    while len(cache) >= _MAX_OPEN:
        cache.pop(next(iter(cache)))
    cache[key] = ws
    session.error = None
    return ws


def _open_source(session: Session) -> Workspace | None:
    """The workspace of the session's source path and options, built on first use."""
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
    """A fresh connection per script run: SQLite is the source of truth, shared by all tabs. Each action it
    writes carries this tab's session id (what scopes "Undo")."""
    return CurationStore(ws.dir / CURATION_FILE, user=clean_user(session.user) or None, session=session.session_id)


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
