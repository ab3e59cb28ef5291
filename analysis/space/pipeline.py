"""The analysis pipeline behind `sift analyze` and the app's Map/Topics pages: one function per step.

Every step reads and writes the workspace (embeddings, kNN index, 2-D projection, topics, coverage
against a reference), so the CLI can precompute what the app then opens without recomputing, and a
re-run only does what is missing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.io import LoadOptions, load
from analysis.io.text_guard import NoTextError, no_text_message, records_of, suggest_text_column, text_coverage
from analysis.space import timings
from analysis.space.embedders import (
    Embedder,
    embed_rows,
    keyword_texts,
    load_embedder,
    load_embeddings,
    model_name,
    scope_texts,
)
from analysis.space.knn import KnnIndex, workspace_index
from analysis.space.projection import ProjectionParams, workspace_projection
from analysis.space.topics import TopicParams, TopicResult, fit_topics, read_topics, write_topics
from analysis.util.files import atomic_path, atomic_write_text
from analysis.util.progress import counts_rows, heartbeat, report
from analysis.workspace.folder import Workspace

Progress = Callable[[str, float], None]
REFERENCE_DIR = "reference"
# When the map's UMAP and the topics' k-means are fitted on a sample (space/projection.py, space/topics.py;
# bench/README.md "First map of 100k rows"). The instant embedder is for a first look in seconds, so it samples
# above INSTANT_SAMPLE_ABOVE rows; an accurate map stays exact up to the app's interactive limit of 100k rows
# (its embeddings take far longer than its UMAP there) and samples above it, where a full UMAP takes many minutes.
INSTANT_SAMPLE_ABOVE = 20_000
ACCURATE_SAMPLE_ABOVE = 100_000
MAP_FIT_SAMPLE = 10_000
TOPIC_FIT_SAMPLE = 20_000
TEXT_FIX = "`sift analyze PATH --map {mapping}` (or `--text COLUMN`; in the app, the Data page's Column mapping)"


def require_text(rows: pd.DataFrame, info: Any, scope: str, what: str, *, fix: str = TEXT_FIX) -> None:
    """Raise NoTextError naming the mapping to make when too few `rows` have `scope` text (io/text_guard.py):
    embeddings of empty strings are one point, and a map, topics or coverage of them is a wrong answer."""
    cov = text_coverage(rows, scope)
    if cov.ok:
        return
    mapped = info.kind == "table" or bool(getattr(info.options, "mapping", None))  # a column choice would help
    suggestion = suggest_text_column(records_of(rows)) if mapped else None
    if scope != "both":
        fix += ", or another scope (both)"
    raise NoTextError(no_text_message(cov, name=Path(info.path).name, kind=info.kind, fields=info.fields, what=what,
                                      suggestion=suggestion, fix=fix))


@dataclass
class Step:
    name: str
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnalyzeOptions:
    """What `sift analyze` computes; defaults are what the app computes on the Map page."""

    embed: bool = True
    scope: str = "both"
    model_path: str | None = None
    topics: TopicParams = field(default_factory=TopicParams)
    projection: ProjectionParams = field(default_factory=ProjectionParams)
    reference: str | None = None
    reference_options: LoadOptions = field(default_factory=LoadOptions)
    # None: sample-and-place above the size for the embedder (INSTANT_SAMPLE_ABOVE / ACCURATE_SAMPLE_ABOVE);
    # 0: fit UMAP and k-means on every row; N: fit UMAP on N sampled rows (and k-means on max(N, 20k)) above N rows
    map_sample: int | None = None
    # how the user applies a column mapping, said when the rows have no text ({mapping} = role=column)
    text_fix: str = TEXT_FIX


@dataclass
class Analysis:
    """Everything the Map page needs for one (model, scope), loaded or computed."""

    model: str
    scope: str
    vectors: np.ndarray
    index: KnnIndex
    projection: pd.DataFrame
    topics: TopicResult


def _timed(steps: list[Step], name: str, fn: Callable[[], Any], *, progress: Progress | None = None,
           step: str = "", rows: int | None = None, **detail: Any) -> Any:
    """Run one step and record its time; a row-counting sink also sees it start, a heartbeat while it runs, and its
    end as `step` (for steps with no loop of their own to report from). Plain sinks (the app's bars) are left alone."""
    sink = progress if step and counts_rows(progress) else None
    t = time.perf_counter()
    with heartbeat(sink, f"{step}: {rows or 0:,} rows", step=step):
        out = fn()
    steps.append(Step(name, round(time.perf_counter() - t, 3), {**detail, **({"rows": rows} if rows else {})}))
    report(sink, f"{step}: done", 1.0, step=step, done=rows, total=rows)
    return out


def cached_vectors(ws: Workspace, model: str, scope: str) -> np.ndarray | None:
    """Embeddings already in the workspace for (model, scope), or None: costs no model call."""
    found = load_embeddings(ws.dir, model, scope, ws.dataset.rows["row_id"].to_numpy())
    return None if found is None else np.asarray(found)


def topics_for(ws: Workspace, model: str, scope: str, vectors: np.ndarray, params: TopicParams) -> TopicResult:
    """topics.parquet when it was made from the same model, scope and parameters; else fit and write it."""
    meta_path = ws.dir / "topics.json"
    existing = read_topics(ws.dir)
    if existing is not None and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        wanted = _params_dict(params)  # the stored params also hold results (k_used, n_topics, ...): compare inputs
        same = {k: existing.params.get(k) for k in wanted} == wanted
        if meta.get("model") == model and meta.get("scope") == scope and same \
                and len(existing.topic_id) == len(ws.dataset.rows):
            return existing
    rows = ws.dataset.rows
    result = fit_topics(vectors, keyword_texts(rows, scope), rows["row_id"].to_numpy(), params)
    write_topics(ws.dir, rows["row_id"].to_numpy(), result, model=model, scope=scope)
    return result


def _params_dict(params: TopicParams) -> dict[str, Any]:
    return asdict(params)


def is_instant(model: str) -> bool:
    """The instant (static) embedder's cache names end in -static (analysis.space.fast_embedders)."""
    return model.endswith("-static")


def fit_samples(n: int, model: str, map_sample: int | None) -> tuple[int | None, int | None]:
    """(UMAP fit_sample, k-means fit_sample) for n rows of `model`'s vectors; None = fit on every row.

    A sample size is only set when n exceeds it, so a map small enough to fit whole keeps its exact cache key.
    """
    if map_sample is None:
        above = INSTANT_SAMPLE_ABOVE if is_instant(model) else ACCURATE_SAMPLE_ABOVE
        if n <= above:
            return None, None
        map_n, topic_n = MAP_FIT_SAMPLE, TOPIC_FIT_SAMPLE
    elif map_sample <= 0:
        return None, None
    else:
        map_n, topic_n = map_sample, max(map_sample, TOPIC_FIT_SAMPLE)
    return (map_n if n > map_n else None), (topic_n if n > topic_n else None)


def map_work(rows: pd.DataFrame, scope: str, model: str, map_sample: int | None = None) -> dict[str, float]:
    """The work of a new map of `rows` with `model`, in analysis.space.timings' units: the texts' embedding cost, then
    rows (kNN index) and rows fitted (map, topics), so `timings.estimate(model, map_work(...))` scales a measured
    run to these rows."""
    map_fit, topic_fit = fit_samples(len(rows), model, map_sample)
    return {"embed": timings.text_cost(scope_texts(rows, scope)), "knn_index": float(len(rows)),
            "projection": float(map_fit or len(rows)), "topics": float(topic_fit or len(rows))}


def run_analysis(ws: Workspace, opts: AnalyzeOptions, *, embedder: Embedder | None = None,
                 progress: Progress | None = None) -> tuple[Analysis, list[Step]]:
    """Embed → kNN index → 2-D projection → topics for one scope; each step cached in the workspace."""
    steps: list[Step] = []
    rows = ws.dataset.rows
    require_text(rows, ws.dataset.info, opts.scope, "embeddings, the map and topics", fix=opts.text_fix)
    model = embedder.name if embedder is not None else model_name(opts.model_path)
    vectors = cached_vectors(ws, model, opts.scope)
    embedded = vectors is None
    if vectors is None:
        if not opts.embed:
            raise ValueError(f"no {opts.scope} embeddings in {ws.dir} yet: run with --embed")
        if embedder is None:
            embedder = _timed(steps, "load_model", lambda: load_embedder(opts.model_path))
        vectors = _timed(steps, f"embed:{opts.scope}",
                         lambda: embed_rows(ws.dir, rows, embedder, scope=opts.scope, progress=progress),
                         rows=len(rows))
        model = embedder.name
    index = _timed(steps, f"knn_index:{opts.scope}", lambda: workspace_index(ws.dir, model, opts.scope, vectors),
                   progress=progress, step=f"kNN index {opts.scope}", rows=len(rows))
    map_fit, topic_fit = fit_samples(len(rows), model, opts.map_sample)
    map_params = opts.projection if opts.projection.fit_sample is not None \
        else replace(opts.projection, fit_sample=map_fit)
    topic_params = opts.topics if opts.topics.fit_sample is not None or opts.topics.method != "kmeans" \
        else replace(opts.topics, fit_sample=topic_fit)
    projection = _timed(steps, f"projection:{opts.scope}", lambda: workspace_projection(
        ws.dir, model, opts.scope, vectors, rows["row_id"].to_numpy(), map_params, progress=progress),
        fit_sample=map_fit)
    topics = _timed(steps, "topics", lambda: topics_for(ws, model, opts.scope, vectors, topic_params),
                    progress=progress, step=f"topics {opts.scope}", rows=len(rows), fit_sample=topic_fit)
    if embedded:  # a whole new map: its steps are this machine's measurement for the next estimate
        secs = {s.name.split(":")[0]: s.seconds for s in steps}
        timings.record(model, [timings.StepWork(name, secs[name], units) for name, units in
                               (("knn_index", len(rows)), ("projection", map_fit or len(rows)),
                                ("topics", topic_fit or len(rows)))])
    return Analysis(model, opts.scope, vectors, index, projection, topics), steps


# ---------------------------------------------------------------- reference sets

@dataclass
class Reference:
    """A second dataset (production prompts, an eval set) embedded into the training set's space.

    `mapping`: the column mapping it was read with (None: detected); `notice`: set when Sift chose that mapping
    itself (an unmapped table whose text sits in one column), to be shown to the user with a way to override it.
    """

    path: str
    fingerprint: str
    rows: pd.DataFrame
    vectors: np.ndarray
    dir: Path
    mapping: dict[str, str] | None = None
    notice: str | None = None


def reference_dir(ws_dir: Path, fingerprint: str) -> Path:
    return ws_dir / REFERENCE_DIR / fingerprint[:16]


REFERENCE_FIX = "map the reference file's columns ({mapping})"


def load_reference(path: str, options: LoadOptions | None = None) -> tuple[Any, str | None]:
    """Load a reference file; an unmapped table whose text clearly sits in one column is read with that column
    mapped (the returned notice says so). Returns (Dataset, notice or None)."""
    ds = load(path, options or LoadOptions())
    if (options is None or (options.mapping is None and options.kind is None)) and ds.info.kind == "table":
        found = suggest_text_column(records_of(ds.rows))
        if found is not None:
            base = options or LoadOptions()
            ds = load(path, LoadOptions(mapping=found.mapping, skip_bad_lines=base.skip_bad_lines,
                                        header=base.header, format=base.format))
            return ds, (f"{Path(path).name} has no known schema; read column '{found.column}' as the "
                        f"{found.role} ({found.why})")
    return ds, None


def embed_reference(ws: Workspace, path: str, embedder: Embedder, scope: str, *,
                    options: LoadOptions | None = None, progress: Progress | None = None,
                    text_fix: str = REFERENCE_FIX) -> Reference:
    """Load and embed a reference file with the same model and scope; cached under <ws>/reference/<fp>/.

    Stops with NoTextError (naming the mapping to make) when the reference has no text in `scope`, before
    anything is embedded: its rows would all sit at one point and coverage would be a wrong answer."""
    ds, notice = load_reference(path, options)
    require_text(ds.rows, ds.info, scope, "coverage against it", fix=text_fix)
    ref_dir = reference_dir(ws.dir, ds.info.fingerprint)
    ref_dir.mkdir(parents=True, exist_ok=True)
    vectors = embed_rows(ref_dir, ds.rows, embedder, scope=scope, progress=progress)
    atomic_write_text(ref_dir / "reference.json", json.dumps({"path": str(path), "fingerprint": ds.info.fingerprint,
                                                              "rows": len(ds.rows), "scope": scope,
                                                              "model": embedder.name,
                                                              "mapping": ds.info.options.mapping}))
    return Reference(str(path), ds.info.fingerprint, ds.rows, np.asarray(vectors), ref_dir,
                     ds.info.options.mapping, notice)


def reference_positions(analysis: Analysis, ref: Reference, *, k: int = 5) -> pd.DataFrame:
    """Place reference rows on the training map: the similarity-weighted mean position of their k nearest
    training rows. (Re-fitting UMAP would move every training point; this keeps the map the user knows.)"""
    pos, sims = analysis.index.search(np.ascontiguousarray(ref.vectors, dtype=np.float32), k)
    xy = analysis.projection[["x", "y"]].to_numpy(dtype=np.float64)
    valid = pos >= 0
    w = np.where(valid, np.clip(sims, 1e-6, None), 0.0)
    px = (xy[np.where(valid, pos, 0), 0] * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)
    py = (xy[np.where(valid, pos, 0), 1] * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)
    texts = keyword_texts(ref.rows, analysis.scope)
    return pd.DataFrame({"row_id": ref.rows["row_id"].to_numpy(), "x": px, "y": py,
                         "text": [t[:90] for t in texts], "nearest_similarity": sims[:, 0]})


def run_coverage(ws: Workspace, analysis: Analysis, ref: Reference, *, params: TopicParams | None = None) -> Any:
    """Coverage of the training rows against a reference; the report is written beside the reference."""
    from analysis.space.coverage import coverage_gap

    train_rows = ws.dataset.rows
    report = coverage_gap(analysis.vectors, keyword_texts(train_rows, analysis.scope), train_rows["row_id"].to_numpy(),
                          ref.vectors, keyword_texts(ref.rows, analysis.scope), ref.rows["row_id"].to_numpy(),
                          topic_params=params or TopicParams())
    with atomic_path(ref.dir / "coverage.parquet") as tmp:
        report.per_topic.to_parquet(tmp)
    report.farthest_csv(ref.dir / "collect_next.csv")
    return report
