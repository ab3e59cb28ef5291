"""`--engine ray`: the same load, check and embed steps as Ray Data stages, writing the same workspace (issue 6).

Nothing here re-implements an analysis: every stage calls the pure step functions the local runner calls
(`analysis.io.normalize.normalize`, each check's `run`, `exact_duplicate.normalize`/`keep_rank`, the MinHash
functions of `near_duplicate`, the embedder), so the Ray runner's findings equal the local runner's row by row
(tests/analysis/test_ray_runner.py asserts it). docs/scale.md has the stage table and the measured costs.

Stages (driver = the process running `sift`; workers = Ray tasks or actors, anywhere in the cluster):

1. **read + normalise** (`from_items(chunk specs)` -> `map_batches`): the driver cuts each JSONL file into byte
   ranges on line boundaries and each Parquet file into row groups; a worker reads its range, parses it exactly as
   `analysis.io.readers` does and normalises every record under the file's `Detection`. Detection itself runs on
   the driver on the first 1,000 good records of each file, as the local loader does. Ray's own `read_json` is not
   used: it re-types records through Arrow's schema inference (a key missing on some lines becomes null, mixed
   types fail) and drops the exact source line and its line number, which the canonical table keeps. JSON arrays,
   CSV/TSV and gzipped Parquet are read on the driver with the local reader (their parsing is sequential anyway)
   and only normalised on the workers.
2. **row-local checks** (`map_batches`): each batch becomes a `CheckContext` and every check whose class says
   `row_local = True` runs on it; per-row arrays are concatenated in row order.
3. **exact_duplicate** (`map_batches` -> `groupby(partition).map_groups`): per-batch normalised-text hash and
   keep-rank, then a hash-partitioned group-by forms the duplicate groups and applies the keep rule.
4. **near_duplicate** (`map_batches` -> `groupby` -> `map_batches` -> `groupby`): per-batch shingles, MinHash and
   LSH band keys; a group-by on the shingle-set digest collapses identical sets, a group-by on the band keys emits
   candidate pairs; verification (true Jaccard), union-find and the keep rule run on the driver (pairs are few).
5. **embeddings** (`map_batches` with `ActorPoolStrategy`): the model lives in an actor pool; vectors are written
   to `embeddings/<model>@<scope>.npy` exactly where `embed_rows` writes them.

Every other check (length with its per-file statistics, repeated_passage, conflicting_response, ...) runs on the
driver over the collected canonical table, and its summary says `"engine": "ray (driver)"`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.checks import REGISTRY
from analysis.checks.base import (
    Check,
    CheckContext,
    CheckResult,
    load_result,
    make_result,
    params_from,
    record_requested,
    save_result,
)
from analysis.io import Dataset, FileInfo, LoadError, LoadInfo, LoadOptions, SkippedRecord
from analysis.io.errors import SKIP_HINT, FieldError, NotADataset
from analysis.io.load import (
    CANONICAL_COLUMNS,
    DETECT_SAMPLE,
    append_row,
    canonical_dtypes,
    display_name,
    file_kind,
    fingerprint,
    normalize_record,
    required_fields,
    resolve_files,
)
from analysis.io.normalize import Detection, detect
from analysis.io.readers import (
    GZIP_ERRORS,
    BadRecord,
    RawRecord,
    is_gzip,
    iter_records,
    open_data,
    parse_jsonl_line,
    sniff_format,
)
from analysis.workspace.folder import SCHEMA, Workspace

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]

CHUNK_BYTES = 32 << 20  # JSONL byte range per read task
RECORDS_PER_TASK = 20_000  # records per normalise task for formats read on the driver
BATCH_ROWS = 2_000  # canonical rows per check / embed batch
MAX_BLOCK_ROWS = 20_000  # canonical rows per Ray block (the unit of parallelism of the check stages)
ENGINE_WORKERS, ENGINE_DRIVER = "ray", "ray (driver)"
_EXTRA = [("_file", pa.int64()), ("_chunk", pa.int64()), ("_index", pa.int64()), ("_line", pa.int64()),
          ("_stats", pa.string())]
_OUT_SCHEMA = pa.schema(list(SCHEMA) + [pa.field(n, t) for n, t in _EXTRA])


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # the `scale` extra
        raise ValueError("--engine ray needs Ray Data: pip install 'sift[scale]' (ray[data])") from exc
    return ray


def init_ray(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Start a local Ray (all CPUs unless `num_cpus`) or join a cluster (`auto`, `ray://host:10001`).

    Joining a cluster ships the `analysis` package to the workers (`runtime_env.py_modules`), so they need only
    the same third-party packages, not a checkout.
    """
    ray = _ray()
    if not ray.is_initialized():
        if address:
            pkg = str(Path(__file__).resolve().parent)
            ray.init(address=address, runtime_env={"py_modules": [pkg]}, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False


def _cpus() -> int:
    return max(int(_ray().cluster_resources().get("CPU", 1)), 1)


def _drain(ds: Any, stage: str, progress: Progress | None, *, total: int | None = None) -> list[pa.Table]:
    """Run a dataset to the driver block by block, reporting rows done and rows/s on `progress`."""
    tables: list[pa.Table] = []
    start = time.monotonic()
    done = 0
    for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        tables.append(batch)
        done += batch.num_rows
        if progress:
            rate = done / max(time.monotonic() - start, 1e-6)
            of = f" of {total:,}" if total else ""
            progress(f"ray {stage}: {done:,}{of} rows ({rate:,.0f} rows/s)", min(done / total, 0.99) if total else 0.0)
    if progress:
        secs = time.monotonic() - start
        progress(f"ray {stage}: {done:,} rows in {secs:.1f}s ({done / max(secs, 1e-6):,.0f} rows/s)", 1.0)
    return tables


def _concat(tables: list[pa.Table], schema: pa.Schema | None = None) -> pa.Table:
    if not tables:
        return schema.empty_table() if schema is not None else pa.table({})
    return pa.concat_tables(tables, promote_options="default")


# ---------------------------------------------------------------- stage 1: read + normalise

@dataclass
class _File:
    path: Path
    shown: str
    fmt: str
    det: Detection | None = None
    n_records: int = 0  # known up front except for JSONL
    parse_errors: list[BadRecord] | None = None  # found on the driver (formats read there)
    notices: list[str] = field(default_factory=list)  # what the reader said (ragged rows)


def _parse_line(raw: bytes, index: int, line: int) -> RawRecord | BadRecord | None:
    """One JSONL line exactly as `readers.iter_jsonl` reads it (None for a blank line)."""
    return parse_jsonl_line(raw, index, line)


def _jsonl_head(path: Path, n: int, max_expansion: float) -> tuple[list[RawRecord], BadRecord | None, bool]:
    """The first `n` good records of a JSONL file, streamed (never the whole file): (good, first bad, any line)."""
    good: list[RawRecord] = []
    first_bad: BadRecord | None = None
    index, seen = 0, False
    with open_data(path, max_expansion) as fh:
        try:
            for line_no, raw in enumerate(fh, start=1):
                if line_no == 1:
                    if b"\x00" in raw[:8192]:
                        raise LoadError("this looks like a binary file (NUL bytes in the first 8 KB), not JSONL text",
                                        path=str(path))
                    raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
                rec = _parse_line(raw.rstrip(b"\n"), index, line_no)
                if rec is None:
                    continue
                seen = True
                index += 1
                if isinstance(rec, BadRecord):
                    first_bad = first_bad or rec
                else:
                    good.append(rec)
                    if len(good) >= n:
                        break
        except GZIP_ERRORS as exc:  # a cut .gz: the head so far; the read task reports the cut where it is
            if not seen:
                raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc
    return good, first_bad, seen


def _jsonl_chunks(path: Path, chunk_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges on line boundaries (the driver only seeks; workers read)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        start = 3 if fh.read(3) == b"\xef\xbb\xbf" else 0
        bounds = [start]
        pos = start + chunk_bytes
        while pos < size:
            fh.seek(pos)
            fh.readline()
            nxt = fh.tell()
            if nxt >= size:
                break
            if nxt > bounds[-1]:
                bounds.append(nxt)
            pos = nxt + chunk_bytes
    bounds.append(size)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _plan(path: str | Path, options: LoadOptions, chunk_bytes: int
          ) -> tuple[list[_File], list[dict[str, Any]], Path | None, list[Path], list[str]]:
    """Per file: format, display name and detection (on the driver, from a sample); the read tasks' specs."""
    files, notices = resolve_files(path)
    p = Path(path).expanduser()
    root = p if p.is_dir() else None
    shown_root = root if root is not None or len(files) < 2 else Path(os.path.commonpath(files))
    plans: list[_File] = []
    specs: list[dict[str, Any]] = []
    left_out: list[str] = []
    for f in files:
        fno = len(plans)  # a file left out takes no number: specs and plans stay aligned
        file_specs: list[dict[str, Any]] = []
        try:
            shown = display_name(f, shown_root) if len(files) > 1 else str(f)
            fmt = options.format or sniff_format(f)
            plan = _File(f, shown, fmt)
            gz = f.stat().st_size >= 2 and is_gzip(f)
            if fmt == "jsonl":
                if f.stat().st_size == 0:
                    raise NotADataset("the file is empty: no records to load", path=str(f))
                head, bad, seen = _jsonl_head(f, DETECT_SAMPLE, options.max_expansion)
                if not seen:
                    raise NotADataset("the file is empty: no records to load", path=str(f))
                if bad is not None and not options.skip_bad_lines:
                    raise LoadError(bad.error + SKIP_HINT, path=shown, line=bad.line, index=bad.index)
                plan.det = _detect(head, options, shown, None)
                ranges = [(0, 0)] if gz else _jsonl_chunks(f, chunk_bytes)
                file_specs += [{"file": fno, "chunk": c, "kind": "jsonl", "path": str(f), "start": a, "end": b,
                                "gz": gz, "payload": b"", "max_expansion": options.max_expansion}
                               for c, (a, b) in enumerate(ranges)]
            elif fmt == "parquet" and not gz:
                try:
                    meta = pq.ParquetFile(f).metadata
                except (pa.ArrowInvalid, OSError) as exc:
                    raise LoadError(f"not a readable Parquet file ({exc})", path=str(f)) from exc
                if meta.num_rows == 0:
                    raise LoadError("the Parquet file has no rows", path=str(f))
                plan.n_records = meta.num_rows
                head = pq.ParquetFile(f).iter_batches(batch_size=DETECT_SAMPLE)
                first = next(head).to_pylist()
                plan.det = _detect([RawRecord(i, None, r) for i, r in enumerate(first)], options, shown, None)
                base = 0
                for g in range(meta.num_row_groups):
                    file_specs.append({"file": fno, "chunk": g, "kind": "parquet", "path": str(f), "start": g,
                                       "end": base, "gz": False, "payload": b""})
                    base += meta.row_group(g).num_rows
            else:  # JSON documents, CSV/TSV, gzipped Parquet: the local reader on the driver, normalised on workers
                good: list[RawRecord] = []
                plan.parse_errors = []
                for rec in iter_records(f, fmt, header=options.header, quoting=options.quoting, notices=plan.notices,
                                        max_expansion=options.max_expansion, lone_object=len(files) == 1):
                    plan.n_records = max(plan.n_records, rec.index + 1)
                    if isinstance(rec, BadRecord):
                        if not options.skip_bad_lines:
                            raise LoadError(rec.error + SKIP_HINT, path=shown, line=rec.line, index=rec.index,
                                            byte=rec.byte)
                        plan.parse_errors.append(rec)
                    else:
                        good.append(rec)
                field_counts: Counter[str] = Counter()
                for rec in good:
                    field_counts.update(map(str, rec.data.keys()))
                plan.det = _detect(good[:DETECT_SAMPLE], options, shown, field_counts) if good else None
                for c, lo in enumerate(range(0, len(good), RECORDS_PER_TASK)):
                    payload = pickle.dumps([(r.index, r.line, r.data, r.raw) for r in good[lo:lo + RECORDS_PER_TASK]])
                    file_specs.append({"file": fno, "chunk": c, "kind": "records", "path": str(f), "start": 0, "end": 0,
                                  "gz": False, "payload": payload})
        except NotADataset as exc:  # in a folder or glob, a file with no records is left out and said
            if len(files) == 1:
                raise
            left_out.append(f"{shown}: left out: {exc.message}")
            continue
        plans.append(plan)
        specs += file_specs
    if not plans:
        raise LoadError("none of the files holds records: " + "; ".join(left_out), path=str(path))
    return plans, specs, root, files, notices + left_out


def _detect(sample: list[RawRecord], options: LoadOptions, shown: str, all_fields: Counter[str] | None
            ) -> Detection | None:
    if not sample:
        return None
    if all_fields is None:
        all_fields = Counter()
        for rec in sample:
            all_fields.update(map(str, rec.data.keys()))
    try:
        return detect((r.data for r in sample), kind=options.kind, mapping=options.mapping, all_fields=all_fields)
    except ValueError as exc:
        raise LoadError(str(exc), path=shown) from exc


def _read_spec(spec: dict[str, Any]) -> tuple[list[RawRecord], list[BadRecord], int, int]:
    """A read task's records: (good, bad, records in the range, lines in the range); JSONL indices are local."""
    kind = spec["kind"]
    if kind == "records":
        return [RawRecord(i, ln, d, raw) for i, ln, d, raw in pickle.loads(spec["payload"])], [], 0, 0
    path = Path(spec["path"])
    if kind == "parquet":
        table = pq.ParquetFile(path).read_row_group(int(spec["start"]))
        base = int(spec["end"])
        good = [RawRecord(base + k, None, rec) for k, rec in enumerate(table.to_pylist())]
        return good, [], 0, 0
    good, bad = [], []
    index = 0
    if spec["gz"]:  # one task streams the whole file, as `readers.iter_jsonl` does (bounded, salvaging a cut)
        n_lines = 0
        for rec in iter_records(path, "jsonl", max_expansion=float(spec.get("max_expansion") or 100.0)):
            (bad if isinstance(rec, BadRecord) else good).append(rec)
            index = rec.index + 1
            n_lines = rec.line or n_lines
        return good, bad, index, n_lines
    with open(path, "rb") as fh:
        fh.seek(int(spec["start"]))
        data = fh.read(int(spec["end"]) - int(spec["start"]))
    for k, raw in enumerate(data.split(b"\n")):
        rec = _parse_line(raw, index, k + 1)
        if rec is None:
            continue
        index += 1
        (bad if isinstance(rec, BadRecord) else good).append(rec)
    n_lines = data.count(b"\n")
    return good, bad, index, n_lines


def normalise_records(records: Iterable[RawRecord], det: Detection, shown: str
                      ) -> tuple[dict[str, list[Any]], list[tuple[int, int | None, str, str | None]]]:
    """Canonical columns of good records under a file's Detection, as `analysis.io.load` builds them.

    Returns (columns without row_id, field errors as (index, line, message, field)). Indices and lines are those of
    the records given (the caller makes them global).
    """
    cols: dict[str, list[Any]] = {c: [] for c in CANONICAL_COLUMNS}
    errors: list[tuple[int, int | None, str, str | None]] = []
    required = required_fields(det)
    for rec in records:
        try:
            norm = normalize_record(rec, det, required)
        except FieldError as exc:
            errors.append((rec.index, rec.line, exc.message, exc.field))
            continue
        append_row(cols, rec, norm, det, 0, shown)
    del cols["row_id"]  # made file-global by the driver
    return cols, errors


def _read_normalise_batch(batch: dict[str, np.ndarray], dets: dict[int, Detection | None],
                          shown: dict[int, str]) -> pa.Table:
    """The read+normalise stage: each spec -> its canonical rows plus one `_stats` row (counts, errors, fields)."""
    out: list[pa.Table] = []
    for k in range(len(batch["file"])):
        spec = {key: (v[k].item() if hasattr(v[k], "item") else v[k]) for key, v in batch.items()}
        fno = int(spec["file"])
        good, bad, n_records, n_lines = _read_spec(spec)
        fields: Counter[str] = Counter()
        for rec in good:
            fields.update(map(str, rec.data.keys()))
        det = dets.get(fno)
        cols, field_errors = normalise_records(good, det, shown[fno]) if det is not None else \
            ({c: [] for c in CANONICAL_COLUMNS if c != "row_id"}, [])
        n = len(cols["kind"])
        cols["row_id"] = [0] * n
        cols["_file"] = [fno] * n
        cols["_chunk"] = [int(spec["chunk"])] * n
        cols["_index"] = cols["source_index"]
        cols["_line"] = cols["source_line"]
        cols["_stats"] = [None] * n
        stats = {"n_records": n_records, "n_lines": n_lines, "fields": dict(fields),
                 "bad": [[b.index, b.line, b.error] for b in bad],
                 "field_errors": [list(e) for e in field_errors]}
        table = pa.Table.from_pydict(cols, schema=_OUT_SCHEMA)
        stat_row = {f.name: [None] for f in _OUT_SCHEMA}
        stat_row.update(_file=[fno], _chunk=[int(spec["chunk"])], _stats=[json.dumps(stats)])
        out += [table, pa.Table.from_pydict(stat_row, schema=_OUT_SCHEMA)]
    return pa.concat_tables(out)


def load_ray(path: str | Path, options: LoadOptions | None = None, *, progress: Progress | None = None,
             chunk_bytes: int = CHUNK_BYTES) -> Dataset:
    """`analysis.io.load` with reading and normalisation as Ray tasks; the same `Dataset`, row for row."""
    ray = _ray()
    options = options or LoadOptions()
    plans, specs, root, files, load_notices = _plan(path, options, chunk_bytes)
    dets = {i: p.det for i, p in enumerate(plans)}
    shown = {i: p.shown for i, p in enumerate(plans)}
    ds = ray.data.from_items(specs, override_num_blocks=max(len(specs), 1))
    ds = ds.map_batches(_read_normalise_batch, batch_size=1, fn_kwargs={"dets": dets, "shown": shown})
    table = _concat(_drain(ds, "read+normalise", progress), _OUT_SCHEMA)
    is_stat = pc.is_valid(table.column("_stats"))
    stats_t = table.filter(is_stat)
    rows_t = table.filter(pc.invert(is_stat))
    # chunk offsets (JSONL indices and lines are local to their byte range)
    stats = sorted(((int(f), int(c), json.loads(s)) for f, c, s in zip(
        stats_t.column("_file").to_pylist(), stats_t.column("_chunk").to_pylist(),
        stats_t.column("_stats").to_pylist(), strict=True)), key=lambda t: (t[0], t[1]))
    rec_off: dict[tuple[int, int], int] = {}
    line_off: dict[tuple[int, int], int] = {}
    per_file: dict[int, dict[str, Any]] = {i: {"n": 0, "lines": 0, "fields": Counter(), "bad": [], "ferr": []}
                                          for i in range(len(plans))}
    for fno, c, st in stats:
        acc = per_file[fno]
        rec_off[(fno, c)], line_off[(fno, c)] = acc["n"], acc["lines"]
        relative = plans[fno].fmt == "jsonl"
        ro, lo = (acc["n"], acc["lines"]) if relative else (0, 0)
        acc["bad"] += [(i + ro, ln + lo if ln is not None else None, e) for i, ln, e in st["bad"]]
        acc["ferr"] += [(i + ro, ln + lo if ln is not None and relative else ln, m, fld)
                        for i, ln, m, fld in st["field_errors"]]
        acc["fields"].update(st["fields"])
        acc["n"] += st["n_records"]
        acc["lines"] += st["n_lines"]
    frame = _globalise(rows_t, plans, rec_off, line_off)
    infos, skipped, offsets = [], [], []
    offset = 0
    for fno, plan in enumerate(plans):
        acc = per_file[fno]
        bad = sorted([BadRecord(i, ln, e) for i, ln, e in acc["bad"]] + (plan.parse_errors or []),
                     key=lambda b: b.index)
        ferr = sorted(acc["ferr"], key=lambda e: e[0])
        n_records = acc["n"] if plan.fmt == "jsonl" else plan.n_records
        if not options.skip_bad_lines:
            if bad:
                raise LoadError(bad[0].error + SKIP_HINT, path=plan.shown, line=bad[0].line, index=bad[0].index,
                                byte=bad[0].byte)
            if ferr:
                i, ln, msg, fld = ferr[0]
                raise LoadError(msg + SKIP_HINT, path=plan.shown, line=ln, index=i, field=fld)
        skipped += [SkippedRecord(plan.shown, b.line, b.index, b.error) for b in bad]
        skipped += [SkippedRecord(plan.shown, ln, i, (f"field '{fld}': " if fld else "") + msg)
                    for i, ln, msg, fld in ferr]
        kept = int((frame["_file"] == fno).sum())
        fields = dict(acc["fields"])
        if plan.det is None:
            infos.append(FileInfo(plan.shown, plan.fmt, options.kind or "table", "no loadable records", fields, 0,
                                  n_records))
        else:
            kind, reason = file_kind(plan.det, Counter(frame.loc[frame["_file"] == fno, "kind"].astype(str)))
            infos.append(FileInfo(plan.shown, plan.fmt, kind, reason, fields, kept, n_records))
        offsets.append(offset)
        offset += n_records
    if frame.empty:
        raise LoadError("no records could be loaded" + (f" ({len(skipped)} skipped)" if skipped else ""),
                        path=str(path))
    frame["row_id"] = np.asarray(offsets, dtype=np.int64)[frame["_file"].to_numpy()] + frame["source_index"]
    frame = frame.sort_values("row_id", kind="stable").reset_index(drop=True)
    rows = canonical_dtypes(frame[CANONICAL_COLUMNS].copy())
    if progress:
        progress("loaded", 1.0)
    notices = load_notices + [f"{p.shown}: {m}" for p in plans for m in p.notices]
    info = LoadInfo(os.path.abspath(os.path.expanduser(str(path))), infos, options, skipped,
                    fingerprint(files, options, root=root), notices)
    return Dataset(rows, info)


def _globalise(rows_t: pa.Table, plans: list[_File], rec_off: dict[tuple[int, int], int],
               line_off: dict[tuple[int, int], int]) -> pd.DataFrame:
    """Canonical rows as pandas, with JSONL indices and lines made file-global."""
    frame = rows_t.drop_columns(["messages", "_stats"]).to_pandas()
    frame.insert(2, "messages", rows_t.column("messages").to_pylist())
    if frame.empty:
        return frame
    jsonl = np.array([p.fmt == "jsonl" for p in plans])[frame["_file"].to_numpy()]
    keys = list(zip(frame["_file"].tolist(), frame["_chunk"].tolist(), strict=True))
    ro = np.array([rec_off.get(k, 0) for k in keys], dtype=np.int64)
    lo = np.array([line_off.get(k, 0) for k in keys], dtype=np.int64)
    frame["source_index"] = frame["source_index"].to_numpy(np.int64) + np.where(jsonl, ro, 0)
    lines = frame["source_line"].astype("Int64")
    frame["source_line"] = lines + pd.array(np.where(jsonl, lo, 0), dtype="Int64")
    return frame


def open_workspace(path: str | Path, options: LoadOptions | None = None, *, workspace: str | Path | None = None,
                   progress: Progress | None = None) -> Workspace:
    """`Workspace.open` with the load done by `load_ray`: same fingerprint, same files, reused when it matches."""
    return Workspace.open(path, options, workspace=workspace, progress=progress, loader=load_ray)


# ---------------------------------------------------------------- the canonical table as a Ray dataset

def canonical_table(rows: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(rows[[f.name for f in SCHEMA]], schema=SCHEMA, preserve_index=False)


def rows_of(table: pa.Table) -> pd.DataFrame:
    """A canonical Arrow batch -> the pandas rows checks see (as `Workspace.from_dir` builds them)."""
    rows = table.drop_columns(["messages"]).to_pandas()
    rows.insert(2, "messages", table.column("messages").to_pylist())
    rows["source_line"] = rows["source_line"].astype("Int64")
    return rows


def to_ray(rows: pd.DataFrame) -> Any:
    """The canonical rows as a Ray dataset in blocks of at most MAX_BLOCK_ROWS (2 per CPU at least)."""
    table = canonical_table(rows)
    n = table.num_rows
    size = max(min(MAX_BLOCK_ROWS, math.ceil(n / (2 * _cpus()))), 1)
    return _ray().data.from_arrow([table.slice(lo, size) for lo in range(0, max(n, 1), size)])


def _jsonable(o: Any) -> Any:
    return o.item() if hasattr(o, "item") else str(o)


# ---------------------------------------------------------------- stage 2: row-local checks

def _row_local_batch(table: pa.Table, checks: list[tuple[str, dict[str, Any]]]) -> pa.Table:
    rows = rows_of(table)
    ctx = CheckContext(rows)
    out: dict[str, Any] = {"row_id": rows["row_id"].to_numpy(np.int64)}
    for name, params in checks:
        cls = REGISTRY[name]
        res = cls(params_from(cls, params)).run(ctx)
        out[f"{name}|score"] = res.score.astype(np.float64)
        out[f"{name}|issue"] = res.is_issue.astype(bool)
        out[f"{name}|reason"] = res.reason.astype(str).tolist()
        out[f"{name}|evidence"] = res.evidence.astype(str).tolist() if res.evidence is not None else [None] * len(rows)
        extras = {k: v for k, v in res.summary.items() if k not in _BASE_SUMMARY}
        out[f"{name}|summary"] = [json.dumps(extras, default=_jsonable)] + [None] * (len(rows) - 1)
    return pa.table(out)


_BASE_SUMMARY = {"rows_flagged", "share_flagged", "reasons", "groups", "rows_removable"}


def merge_summaries(parts: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Per-batch summary extras -> one: dicts merged key by key, counts summed, lists joined, parameters kept.

    Exact for counts (`codes`, `problems`, language tallies) and per-row detail; a per-batch cap (e.g. 200 detail
    rows) applies per batch, and a percentile (`dup_share_p99`) becomes the largest batch value, an upper bound.
    """
    keys = list(dict.fromkeys(k for p in parts for k in p))
    return {k: _merge_values(k, [p[k] for p in parts if k in p], params) for k in keys}


def _merge_values(key: str, vals: list[Any], params: dict[str, Any]) -> Any:
    if all(isinstance(v, dict) for v in vals):
        return merge_summaries(vals, {})
    if all(isinstance(v, list) for v in vals):
        return [x for v in vals for x in v]
    if key in params or all(v == vals[0] for v in vals) and not all(isinstance(v, int) for v in vals):
        return vals[0]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return sum(vals)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        return max(vals)
    return vals[0]


def _run_row_local(ds: Any, rows: pd.DataFrame, checks: list[Check], progress: Progress | None
                   ) -> dict[str, CheckResult]:
    spec = [(c.name, c.params_dict()) for c in checks]
    t = time.perf_counter()
    out = ds.map_batches(_row_local_batch, batch_size=BATCH_ROWS, batch_format="pyarrow",
                         fn_kwargs={"checks": spec})
    table = _concat(_drain(out, "row-local checks " + ",".join(c.name for c in checks), progress, total=len(rows)))
    table = table.sort_by("row_id")
    _same_rows(table.column("row_id").to_numpy(), rows)
    secs = round(time.perf_counter() - t, 3)
    results: dict[str, CheckResult] = {}
    n = len(rows)
    for check in checks:
        name = check.name
        ev = table.column(f"{name}|evidence")
        evidence = None if ev.null_count == n else np.asarray(ev.to_pylist(), dtype=object)
        parts = [json.loads(s) for s in table.column(f"{name}|summary").to_pylist() if s is not None]
        summary = merge_summaries(parts, check.params_dict())
        summary.update(engine=ENGINE_WORKERS, batches=len(parts), seconds=secs)
        results[name] = make_result(name, n, check.params_dict(), score=table.column(f"{name}|score").to_numpy(),
                                    is_issue=table.column(f"{name}|issue").to_numpy(zero_copy_only=False),
                                    reason=table.column(f"{name}|reason").to_pylist(), evidence=evidence,
                                    summary=summary)
    return results


def _same_rows(row_ids: np.ndarray, rows: pd.DataFrame) -> None:
    if not np.array_equal(row_ids, rows["row_id"].to_numpy(np.int64)):
        raise RuntimeError("the Ray stage returned other rows than it was given")


# ---------------------------------------------------------------- stage 3: exact_duplicate

def _exact_map(table: pa.Table, params: dict[str, Any], parts: int) -> pd.DataFrame:
    import hashlib

    from analysis.checks.exact_duplicate import keep_rank, scope_texts
    from analysis.checks.exact_duplicate import normalize as norm_text

    rows = rows_of(table)
    ctx = CheckContext(rows)
    norm = [norm_text(t, case_sensitive=params["case_sensitive"]) for t in scope_texts(ctx, params["scope"])]
    digests = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() if t else None for t in norm]
    has = np.array([d is not None for d in digests], dtype=bool)
    frame = pd.DataFrame({"row_id": rows["row_id"].to_numpy(np.int64),
                          "h": [d.hex() if d is not None else "" for d in digests],
                          "rank": keep_rank(ctx, np.arange(len(rows)), params["keep"]).astype(np.float64)})
    frame = frame[has]
    frame["part"] = np.array([int(h[:8], 16) % parts for h in frame["h"]], dtype=np.int64)
    return frame


def _exact_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """One hash partition: groups of >= 2 equal hashes -> (row_id, first row_id of its group, kept row_id)."""
    sizes = frame.groupby("h", sort=False)["row_id"].transform("size")
    m = frame[sizes.to_numpy() >= 2]
    if m.empty:
        return pd.DataFrame({"row_id": np.zeros(0, np.int64), "first": np.zeros(0, np.int64),
                             "kept": np.zeros(0, np.int64)})
    ordered = m.sort_values(["h", "rank", "row_id"], ascending=[True, False, True], kind="stable")
    kept = ordered.groupby("h", sort=False)["row_id"].first()
    first = m.groupby("h", sort=False)["row_id"].min()
    return pd.DataFrame({"row_id": m["row_id"].to_numpy(np.int64),
                         "first": first.reindex(m["h"]).to_numpy(np.int64),
                         "kept": kept.reindex(m["h"]).to_numpy(np.int64)})


def _run_exact(ds: Any, rows: pd.DataFrame, check: Check, progress: Progress | None) -> CheckResult:
    p = check.params_dict()
    t = time.perf_counter()
    parts = 2 * _cpus()
    hashed = ds.map_batches(_exact_map, batch_size=BATCH_ROWS, batch_format="pyarrow",
                            fn_kwargs={"params": p, "parts": parts})
    grouped = hashed.groupby("part").map_groups(_exact_groups, batch_format="pandas")
    members = _concat(_drain(grouped, "exact_duplicate groups", progress)).to_pandas()
    n = len(rows)
    row_ids = rows["row_id"].to_numpy(np.int64)
    group_id = np.full(n, -1, dtype=np.int64)
    keep = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    if len(members):
        pos = np.searchsorted(row_ids, members["row_id"].to_numpy(np.int64))
        gids = np.unique(members["first"].to_numpy(np.int64), return_inverse=True)[1]  # numbered by first member
        group_id[pos] = gids
        kept = members["kept"].to_numpy(np.int64)
        keep[np.searchsorted(row_ids, np.unique(kept))] = True
        for i, k in zip(pos.tolist(), kept.tolist(), strict=True):
            if not keep[i]:
                reason[i] = f"dup_of:{k}"
    issue = reason != ""
    summary = {"rows_in_groups": int((group_id >= 0).sum()), "scope": p["scope"], "keep_rule": p["keep"],
               "engine": ENGINE_WORKERS, "seconds": round(time.perf_counter() - t, 3)}
    return make_result(check.name, n, p, score=issue.astype(float), is_issue=issue, reason=reason,
                       group_id=group_id, keep=keep, summary=summary)


# ---------------------------------------------------------------- stage 4: near_duplicate

def _near_map(table: pa.Table, params: dict[str, Any], bands: int, rows_per_band: int, parts: int) -> dict[str, Any]:
    """Per batch: shingle-set digest, MinHash signature and LSH band keys (the near_duplicate module's functions)."""
    from analysis.checks.exact_duplicate import scope_texts
    from analysis.checks.near_duplicate import minhash_signatures, shingle_sets, splitmix

    rows = rows_of(table)
    n = len(rows)
    hashes, offsets = shingle_sets(scope_texts(CheckContext(rows), params["scope"]), params["ngram"])
    sizes = np.diff(offsets)
    nonempty = sizes > 0
    set_key = np.zeros(n, dtype=np.uint64)
    if nonempty.any():
        with np.errstate(over="ignore"):
            set_key[nonempty] = np.add.reduceat(splitmix(hashes), offsets[:-1][nonempty])
            set_key = splitmix(set_key ^ sizes.astype(np.uint64))
    sig = minhash_signatures(hashes, offsets, params["num_perm"])
    keys = np.empty((n, bands), dtype=np.uint64)
    for band in range(bands):  # as near_duplicate.lsh_candidates keys its buckets
        part = sig[:, band * rows_per_band:(band + 1) * rows_per_band].astype(np.uint64)
        key = np.full(n, np.uint64(band), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for c in range(rows_per_band):
                key = splitmix(key * np.uint64(0x100000001B3) + part[:, c])
        keys[:, band] = key
    sel = np.flatnonzero(nonempty)
    return {"row_id": rows["row_id"].to_numpy(np.int64)[sel], "set_key": set_key[sel],
            "part": (set_key[sel] % np.uint64(parts)).astype(np.int64), "keys": keys[sel]}


def _near_reps(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One set-digest partition: each row's representative = the first row with the same shingle set."""
    frame = pd.DataFrame({"row_id": batch["row_id"], "set_key": batch["set_key"]})
    rep = frame.groupby("set_key", sort=False)["row_id"].transform("min").to_numpy(np.int64)
    return {"row_id": batch["row_id"], "rep": rep, "keys": batch["keys"]}


def _near_band_rows(batch: dict[str, np.ndarray], parts: int) -> dict[str, np.ndarray]:
    """Representatives only, one row per (band, key)."""
    is_rep = batch["row_id"] == batch["rep"]
    keys = np.asarray(batch["keys"])[is_rep]
    rid = batch["row_id"][is_rep]
    bands = keys.shape[1] if keys.ndim == 2 else 0
    flat = keys.reshape(-1)
    return {"band": np.tile(np.arange(bands, dtype=np.int64), len(rid)), "key": flat,
            "row_id": np.repeat(rid, bands), "part": (flat % np.uint64(parts)).astype(np.int64)}


def _near_bucket_pairs(batch: dict[str, np.ndarray], max_pairs: int) -> dict[str, np.ndarray]:
    """One band-key partition: each bucket member paired with its next `max_pairs` members in row order."""
    order = np.lexsort((batch["row_id"], batch["key"], batch["band"]))
    band, key, rid = batch["band"][order], batch["key"][order], batch["row_id"][order]
    a, b = [], []
    for d in range(1, max_pairs + 1):
        same = np.flatnonzero((key[d:] == key[:-d]) & (band[d:] == band[:-d]))
        if not len(same):
            break
        a.append(rid[same])
        b.append(rid[same + d])
    if not a:
        return {"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64)}
    return {"a": np.concatenate(a), "b": np.concatenate(b)}


def _run_near(ds: Any, rows: pd.DataFrame, check: Check, progress: Progress | None) -> CheckResult:
    from analysis.checks import near_duplicate as nd
    from analysis.checks.exact_duplicate import scope_texts

    p = check.params
    params = check.params_dict()
    t = time.perf_counter()
    n = len(rows)
    row_ids = rows["row_id"].to_numpy(np.int64)
    lsh_t = min(p.threshold, p.curve_min)
    bands, rows_per_band = nd.optimal_bands(lsh_t, p.num_perm)
    parts = 2 * _cpus()
    signed = ds.map_batches(_near_map, batch_size=BATCH_ROWS, batch_format="pyarrow",
                            fn_kwargs={"params": params, "bands": bands, "rows_per_band": rows_per_band,
                                       "parts": parts})
    reps_ds = signed.groupby("part").map_groups(_near_reps, batch_format="numpy").materialize()
    rep_t = _concat(_drain(reps_ds.select_columns(["row_id", "rep"]), "near_duplicate set digests", progress))
    pairs_ds = reps_ds.map_batches(_near_band_rows, batch_format="numpy", fn_kwargs={"parts": parts}) \
        .groupby("part").map_groups(_near_bucket_pairs, batch_format="numpy",
                                    fn_kwargs={"max_pairs": nd.MAX_BUCKET_PAIRS})
    pair_t = _concat(_drain(pairs_ds, "near_duplicate LSH buckets", progress))
    # exact pairs (representative, member), in member order, as the local check builds them
    rid = rep_t.column("row_id").to_numpy() if rep_t.num_rows else np.zeros(0, np.int64)
    rep = rep_t.column("rep").to_numpy() if rep_t.num_rows else np.zeros(0, np.int64)
    order = np.argsort(rid, kind="stable")
    member, rep = np.searchsorted(row_ids, rid[order]), np.searchsorted(row_ids, rep[order])
    exact_pairs = np.stack([rep, member], axis=1).astype(np.int64)
    exact_pairs = exact_pairs[exact_pairs[:, 0] != exact_pairs[:, 1]]
    if pair_t.num_rows:
        a = np.searchsorted(row_ids, pair_t.column("a").to_numpy())
        b = np.searchsorted(row_ids, pair_t.column("b").to_numpy())
        uniq = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
        cand_pairs = np.stack([uniq // n, uniq % n], axis=1).astype(np.int64)
    else:
        cand_pairs = np.zeros((0, 2), dtype=np.int64)
    # verification on the driver: shingles of the rows in candidate pairs only
    involved = np.unique(cand_pairs.ravel())
    sub = CheckContext(rows.iloc[involved].reset_index(drop=True))
    hashes, offsets = nd.shingle_sets(scope_texts(sub, p.scope), p.ngram)
    jac = nd.true_jaccard(hashes, offsets, np.searchsorted(involved, cand_pairs))
    ctx = CheckContext(rows)
    result = _near_finish(check, ctx, cand_pairs, exact_pairs, jac, bands, rows_per_band, lsh_t)
    result.summary.update(engine=ENGINE_WORKERS, seconds=round(time.perf_counter() - t, 3))
    return result


def _near_finish(check: Check, ctx: CheckContext, cand_pairs: np.ndarray, exact_pairs: np.ndarray, jac: np.ndarray,
                 bands: int, rows_per_band: int, lsh_t: float) -> CheckResult:
    """Steps 3-4 of `NearDuplicate.run` (threshold, groups, summary) over the pairs the Ray stages found."""
    return check.finish(ctx, cand_pairs, exact_pairs, jac, bands, rows_per_band, lsh_t)


# ---------------------------------------------------------------- all checks

def run_checks_ray(rows: pd.DataFrame, names: Iterable[str], *, ws_dir: Path | None = None,
                   params: dict[str, dict[str, Any]] | None = None, progress: Progress | None = None,
                   extras: dict[str, Any] | None = None) -> dict[str, CheckResult]:
    """`analysis.checks.run_checks` with row-local checks, exact_duplicate and near_duplicate as Ray stages.

    Cached results are read back as the local runner reads them; every result is saved with `save_result`, so
    `sift findings` and the app cannot tell which engine wrote it (except by `summary["engine"]`).
    """
    names = list(names)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; available: {', '.join(sorted(REGISTRY))}")
    row_ids = rows["row_id"].to_numpy(dtype=np.int64)
    checks = {name: REGISTRY[name](params_from(REGISTRY[name], (params or {}).get(name))) for name in names}
    out: dict[str, CheckResult] = {}
    todo: list[Check] = []
    for name, check in checks.items():
        cached = load_result(ws_dir, name, check.params_dict(), row_ids) if ws_dir is not None else None
        if cached is not None:
            out[name] = cached
            if ws_dir is not None:  # findings show what was last asked for
                record_requested(ws_dir, name, check.params_dict())
        else:
            todo.append(check)
    if todo:
        ds = to_ray(rows).materialize()
        done: dict[str, CheckResult] = {}
        local = [c for c in todo if getattr(c, "row_local", False)]
        if local:
            done.update(_run_row_local(ds, rows, local, progress))
        ctx = CheckContext(rows, ws_dir, extras=dict(extras or {}))
        for check in todo:
            if check.name in done:
                continue
            if check.name == "exact_duplicate":
                done[check.name] = _run_exact(ds, rows, check, progress)
            elif check.name == "near_duplicate":
                done[check.name] = _run_near(ds, rows, check, progress)
            else:
                if progress:
                    progress(f"check {check.name} (on the driver)", 0.0)
                t = time.perf_counter()
                res = check.run(ctx)
                res.summary.update(engine=ENGINE_DRIVER, seconds=round(time.perf_counter() - t, 3))
                done[check.name] = res
        for check in todo:
            if ws_dir is not None:
                save_result(ws_dir, done[check.name], row_ids)
                record_requested(ws_dir, check.name, done[check.name].params)
            out[check.name] = done[check.name]
    if progress:
        progress("checks done", 1.0)
    return {name: out[name] for name in names}


# ---------------------------------------------------------------- stage 5: embeddings

class _EmbedActor:
    """Holds one embedder per actor (loaded once), embeds each batch's scope texts."""

    def __init__(self, embedder: Any | None, model_path: str | None) -> None:
        if embedder is None:
            from analysis.space.embedders import load_embedder

            embedder = load_embedder(model_path)
        self.embedder = embedder

    def __call__(self, table: pa.Table, scope: str) -> dict[str, np.ndarray]:
        from analysis.space.embedders import scope_texts

        rows = rows_of(table)
        vecs = np.asarray(self.embedder(scope_texts(rows, scope)), dtype=np.float32)
        return {"row_id": rows["row_id"].to_numpy(np.int64), "vector": vecs}


def embed_ray(ws: Workspace, *, scope: str = "both", embedder: Any | None = None, model_path: str | None = None,
              actors: int | None = None, progress: Progress | None = None) -> np.ndarray:
    """Embed every row in an actor pool and write `embeddings/<model>@<scope>.npy` (+ .json) as `embed_rows` does.

    `embedder` (any `Embedder`, pickled to each actor) or the model folder `model_path` (loaded in each actor).
    """
    from analysis.space.embedders import embeddings_path, load_embeddings, model_name, row_ids_digest
    from analysis.util.files import atomic_path, atomic_write_text

    ray = _ray()
    rows = ws.dataset.rows
    row_ids = rows["row_id"].to_numpy(dtype=np.int64)
    name = embedder.name if embedder is not None else model_name(model_path)
    found = load_embeddings(ws.dir, name, scope, row_ids)
    if found is not None:
        if progress:
            progress(f"embeddings {name}@{scope}: cached", 1.0)
        return np.asarray(found)
    size = actors or max(_cpus() - 1, 1)
    out = to_ray(rows).map_batches(_EmbedActor, batch_size=BATCH_ROWS // 4, batch_format="pyarrow",
                                   compute=ray.data.ActorPoolStrategy(size=size),
                                   fn_constructor_kwargs={"embedder": embedder, "model_path": model_path},
                                   fn_kwargs={"scope": scope})
    tables = _drain(out, f"embed {scope} with {name} ({size} actors)", progress, total=len(rows))
    ids = np.concatenate([t.column("row_id").to_numpy() for t in tables])
    vecs = np.concatenate([np.stack(t.column("vector").to_numpy(zero_copy_only=False)) if t.num_rows else
                           np.zeros((0, 0), np.float32) for t in tables if t.num_rows])
    vectors = np.empty_like(vecs, dtype=np.float32)
    vectors[np.searchsorted(row_ids, ids)] = vecs
    final = embeddings_path(ws.dir, name, scope)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(final) as tmp, open(tmp, "wb") as fh:
        np.save(fh, vectors)
    meta = {"model": name, "scope": scope, "n_rows": len(rows), "row_ids": row_ids_digest(row_ids),
            "dim": int(vectors.shape[1])}
    atomic_write_text(final.with_suffix(".json"), json.dumps(meta))
    return vectors


__all__ = ["embed_ray", "init_ray", "load_ray", "merge_summaries", "normalise_records", "open_workspace",
           "run_checks_ray", "to_ray"]
