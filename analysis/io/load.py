"""Load files, folders and globs into one canonical `Dataset` (ARCHITECTURE.md §2).

Strict by default: the first malformed record stops the load with a `LoadError` naming the file,
line and field, because silently dropping rows from a training set is worse than stopping. With
`skip_bad_lines=True` every bad record is left out and reported in `Dataset.info.skipped`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.io.errors import SKIP_HINT, FieldError, LoadError, NotADataset, SkippedRecord
from analysis.io.normalize import (
    KINDS,
    MIXED,
    Detection,
    detect,
    normalize,
    other_reading,
    required_fields,
    richer_reading,
)
from analysis.io.readers import (
    DEFAULT_MAX_EXPANSION,
    FORMATS,
    TOO_DEEP,
    BadRecord,
    RawRecord,
    iter_records,
    sniff_format,
)
from analysis.util.memory import release_free_memory
from analysis.util.progress import counts_rows, report

DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq")
EXPORT_MANIFEST = "manifest.json"  # in a Sift export folder: lists its data files (analysis.curation.export)
EXPORT_MARKER = "sift_export"  # the manifest key that says "this folder is a Sift export"
CANONICAL_COLUMNS = ["row_id", "kind", "messages", "prompt", "response", "chosen", "rejected", "score", "tools",
                     "source", "source_file", "source_index", "source_line"]
DETECT_SAMPLE = 1000
_STRING_COLUMNS = ("kind", "prompt", "response", "chosen", "rejected", "tools", "source", "source_file")
_STR_DTYPE = pd.Series(["x"]).dtype  # pandas' default string dtype (`str` in pandas 3, object before)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class LoadOptions:
    """Everything that changes how bytes become rows; part of the workspace fingerprint."""

    kind: str | None = None
    mapping: dict[str, str] | None = None
    skip_bad_lines: bool = False
    header: bool | None = None
    format: str | None = None
    quoting: bool | None = None  # CSV/TSV quote processing; None: on for CSV, off for TSV (TSV has no quoting)
    max_expansion: float = DEFAULT_MAX_EXPANSION  # gunzipped bytes per compressed byte before a gzip is refused

    def __post_init__(self) -> None:
        if not (isinstance(self.max_expansion, int | float) and self.max_expansion >= 1):
            raise LoadError(f"max_expansion must be a number >= 1 (gunzipped bytes per gzip byte), "
                            f"got {self.max_expansion!r}")
        if self.kind is not None and self.kind not in KINDS:
            raise LoadError(f"unknown kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.format is not None and self.format not in FORMATS:
            raise LoadError(f"unknown format {self.format!r}; expected one of {', '.join(FORMATS)}")

    def to_dict(self) -> dict[str, Any]:
        """Options that change rows; options added later are left out at their default, so the fingerprint of
        a workspace made before they existed still matches."""
        d = asdict(self)
        for k, default in _LATER_DEFAULTS.items():
            if d[k] == default:
                del d[k]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadOptions:
        return cls(**{k: data.get(k) for k in ("kind", "mapping", "header", "format")},
                   **{k: data.get(k, default) for k, default in _LATER_DEFAULTS.items()},
                   skip_bad_lines=bool(data.get("skip_bad_lines", False)))


_LATER_DEFAULTS: dict[str, Any] = {"quoting": None, "max_expansion": DEFAULT_MAX_EXPANSION}


@dataclass
class FileInfo:
    path: str
    format: str
    kind: str
    detection: str
    fields: dict[str, int]
    rows: int
    records: int


@dataclass
class LoadInfo:
    """What was loaded and how: shown on the Data page and printed by `sift info`."""

    path: str
    files: list[FileInfo]
    options: LoadOptions
    skipped: list[SkippedRecord] = field(default_factory=list)
    fingerprint: str = ""
    notices: list[str] = field(default_factory=list)  # files left out, ragged rows: read, but worth saying

    @property
    def format(self) -> str:
        formats = {f.format for f in self.files}
        return formats.pop() if len(formats) == 1 else "mixed"

    @property
    def kind(self) -> str:
        kinds = {f.kind for f in self.files}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def fields(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.fields)
        return dict(total)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "format": self.format, "kind": self.kind, "rows": self.rows,
            "fields": sorted(self.fields), "field_counts": self.fields,
            "skipped_lines": [s.to_dict() for s in self.skipped],
            "files": [asdict(f) for f in self.files], "options": self.options.to_dict(),
            "fingerprint": self.fingerprint, "notices": list(self.notices),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadInfo:
        files = [FileInfo(**f) for f in data["files"]]
        skipped = [SkippedRecord(s["file"], s["line"], None, s["error"]) for s in data.get("skipped_lines", [])]
        return cls(data["path"], files, LoadOptions.from_dict(data.get("options", {})), skipped,
                   data.get("fingerprint", ""), list(data.get("notices", [])))


@dataclass
class Dataset:
    """The canonical table plus how it was made. `rows` is indexed by position, keyed by `row_id`."""

    rows: pd.DataFrame
    info: LoadInfo

    def __len__(self) -> int:
        return len(self.rows)


def resolve_paths(path: str | Path) -> list[Path]:
    """A file, a folder (its data files, recursively) or a glob -> sorted list of files, each real file once."""
    return resolve_files(path)[0]


NOT_DATA_NAMES = ("license", "licence", "readme", "copying", "citation")


def resolve_files(path: str | Path) -> tuple[list[Path], list[str]]:
    """`resolve_paths` plus notices: the files a folder or glob left out and why.

    Symlinked folders are not followed by `**` (a link loop would list the same file dozens of times), and a
    file reached twice (a symlink to it, overlapping patterns) is read once, by its real path. A folder's
    LICENSE/README-like files are documentation, not data, whatever their suffix."""
    p = Path(path).expanduser()
    _check_name(p)
    notices: list[str] = []
    if p.is_file():
        return [p], notices
    files = _find(p, path, notices)
    for f in files:
        _check_name(f)
    return files, notices


def _find(p: Path, path: str | Path, notices: list[str]) -> list[Path]:
    if p.is_dir():
        exported = export_data_files(p)
        if exported is not None:
            return exported
        files = []
        for f in sorted(p.rglob("*")):
            if not f.is_file() or f.name.startswith(".") or not _is_data_file(f):
                continue
            if f.name.lower().split(".")[0] in NOT_DATA_NAMES:
                notices.append(f"{safe_name(f.relative_to(p))}: left out: documentation, not data")
                continue
            files.append(f)
        if not files:
            raise LoadError(f"the folder has no data files ({', '.join(DATA_SUFFIXES)}, optionally .gz)",
                            path=str(path))
        return _once(files, notices, p)
    glob_root, matches = _glob(p)
    files = [m for m in matches if m.is_file()]
    if files:
        return _once(files, notices, glob_root)
    raise LoadError("no such file, folder or glob match", path=safe_name(path))


def _glob(p: Path) -> tuple[Path, list[Path]]:
    """Glob matches without following symlinked folders under `**` (pathlib's rule), hidden names skipped
    unless the pattern names them (glob's rule)."""
    parts = p.parts
    magic = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[")), len(parts))
    root = Path(*parts[:magic]) if magic else Path(".")
    rest = parts[magic:]
    if not rest:
        return root, [p] if p.exists() else []
    try:
        found = root.glob(str(Path(*rest)))
        return root, sorted(m for m in found if not any(part.startswith(".") and not pat.startswith(".")
                                                  for part, pat in zip(m.relative_to(root).parts, _pad(rest, m),
                                                                       strict=False)))
    except (OSError, ValueError):
        return root, []


def _pad(rest: tuple[str, ...], m: Path) -> list[str]:
    """Pattern parts aligned to a match's parts (`**` spans several)."""
    return list(rest) + [""] * max(0, len(m.parts) - len(rest))


def _once(files: list[Path], notices: list[str], root: Path | None) -> list[Path]:
    seen: dict[str, Path] = {}
    out: list[Path] = []
    for f in files:
        real = os.path.realpath(f)
        if real in seen:
            notices.append(f"{safe_name(display_name(f, root))}: left out: the same file as "
                           f"{safe_name(display_name(seen[real], root))} (read once)")
            continue
        seen[real] = f
        out.append(f)
    return out


def export_data_files(folder: Path) -> list[Path] | None:
    """The data files of a Sift export folder, as its manifest lists them; None when `folder` is not one.

    An export folder also holds its manifest, drop log (the removed records) and recipe: loading those as data
    would count dropped rows as kept ones, so a folder that is an export loads exactly the files it exported.
    """
    manifest = folder / EXPORT_MANIFEST
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else None
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or EXPORT_MARKER not in doc or not isinstance(doc.get("files"), list):
        return None
    files = []
    for entry in doc["files"]:
        if not isinstance(entry, dict) or entry.get("role") != "data":
            continue
        rel = Path(str(entry.get("path", "")))
        f = folder / rel
        if rel.is_absolute() or ".." in rel.parts or not f.is_file():
            raise LoadError(f"this Sift export lists the data file {rel} but it is missing; export again",
                            path=str(folder))
        files.append(f)
    if not files:
        raise LoadError("this Sift export holds no data files (every row was dropped or filtered out)",
                        path=str(folder))
    return files


def _is_data_file(f: Path) -> bool:
    name = f.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(DATA_SUFFIXES)


def safe_name(name: str | Path) -> str:
    """A file name fit to print: bytes that are not UTF-8 shown as \\xNN escapes."""
    return os.fsencode(str(name)).decode("utf-8", "backslashreplace")


def _check_name(f: Path) -> None:
    try:
        str(f).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LoadError("the file name is not valid UTF-8; rename it (e.g. `convmv -f latin1 -t utf8`)",
                        path=safe_name(f)) from exc


def fingerprint(files: Iterable[Path], options: LoadOptions, *, root: Path | None = None) -> str:
    """sha256 of each file's name and bytes plus the loader options (ARCHITECTURE.md §3)."""
    h = hashlib.sha256()
    for f in files:
        name = str(f.relative_to(root)) if root is not None and f.is_relative_to(root) else f.name
        h.update(name.encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    h.update(json.dumps(options.to_dict(), sort_keys=True).encode())
    return h.hexdigest()


def display_name(f: Path, root: Path | None) -> str:
    if root is not None and f.is_relative_to(root):
        return str(f.relative_to(root))
    return f.name


def load(path: str | Path, options: LoadOptions | None = None, *, progress: Progress | None = None) -> Dataset:
    """Load `path` into the canonical table; raises LoadError with a located message."""
    options = options or LoadOptions()
    files, notices = resolve_files(path)
    p = Path(path).expanduser()
    root = p if p.is_dir() else None
    # A glob may match same-named files in different folders: name them relative to their common parent.
    shown_root = root if root is not None or len(files) < 2 else Path(os.path.commonpath(files))
    columns: dict[str, list[Any]] = {c: [] for c in CANONICAL_COLUMNS}
    infos: list[FileInfo] = []
    skipped: list[SkippedRecord] = []
    left_out: list[str] = []
    offset = 0
    with _gc_paused():
        for i, f in enumerate(files):
            shown = display_name(f, shown_root) if len(files) > 1 else str(f)
            tick = _file_ticker(progress, f.name, i, len(files)) if progress else None
            try:
                info, n_records = _load_file(f, shown, options, offset, columns, skipped, tick, notices,
                                             alone=len(files) == 1)
            except NotADataset as exc:
                if len(files) == 1:
                    raise
                left_out.append(f"{shown}: left out: {exc.message}")
                continue
            except RecursionError as exc:  # a safety net: the readers turn deep nesting into a located error
                raise LoadError(TOO_DEEP, path=shown) from exc
            infos.append(info)
            offset += n_records
    notices += left_out
    if not infos:
        raise LoadError("none of the files holds records: " + "; ".join(left_out), path=str(path))
    if not columns["row_id"]:
        raise LoadError("no records could be loaded" + (f" ({len(skipped)} skipped)" if skipped else ""),
                        path=str(path))
    rows = canonical_dtypes(pd.DataFrame(columns))
    del columns  # the parsed Python strings now live in Arrow: free them, and give their pages back
    release_free_memory()
    if progress and not counts_rows(progress):  # a row-counting sink already saw each file's steps end
        progress("loaded", 1.0)
    info = LoadInfo(os.path.abspath(os.path.expanduser(str(path))), infos, options, skipped,
                    fingerprint(files, options, root=root), notices)
    return Dataset(rows, info)


def canonical_dtypes(rows: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns' dtypes, the same whichever loader built the rows."""
    for c in _STRING_COLUMNS:
        # An all-None column (e.g. `tools` in a file without tools) would otherwise be `object` here but
        # the default string dtype after a workspace round trip through Parquet.
        rows[c] = rows[c].astype(_STR_DTYPE)
    rows["row_id"] = rows["row_id"].astype("int64")
    rows["score"] = rows["score"].astype("float64")
    rows["source_index"] = rows["source_index"].astype("int64")
    rows["source_line"] = rows["source_line"].astype("Int64")
    return rows


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The loader allocates millions of small containers that all stay alive: the cyclic GC's passes over them
    find nothing and cost ~25% of a 1M-row load (bench/README.md, 1M rows). Collection resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_TICK_EVERY = 20_000
_PARSE_SHARE = 0.35  # of a file's load time, roughly, spent parsing before normalising


def _file_ticker(progress: Progress, name: str, i: int, n_files: int) -> Callable[[str, int, int | None], None]:
    """Progress for one file: `(phase, done, total)` -> overall fraction, with records/s in the message."""
    start = time.monotonic()

    def tick(phase: str, done: int, total: int | None) -> None:
        within = 0.0 if total is None else _PARSE_SHARE + (1 - _PARSE_SHARE) * done / max(total, 1)
        rate = done / max(time.monotonic() - start, 1e-6)
        of = f" of {total:,}" if total is not None else ""
        # for a row-counting sink: two steps per file, "load" (records parsed, total unknown) and "normalise"
        ends = phase == "parsed" or (total is not None and done >= total)
        report(progress, f"{phase} {name}: {done:,}{of} records ({rate:,.0f}/s)", (i + within) / n_files,
               step=f"{'load' if total is None else 'normalise'} {name}", done=done, total=total,
               step_fraction=1.0 if ends else (0.0 if total is None else done / max(total, 1)))

    return tick


def _load_file(f: Path, shown: str, options: LoadOptions, offset: int, columns: dict[str, list[Any]],
               skipped: list[SkippedRecord], tick: Callable[[str, int, int | None], None] | None = None,
               notices: list[str] | None = None, *, alone: bool = True) -> tuple[FileInfo, int]:
    fmt = options.format or sniff_format(f)
    good: list[RawRecord] = []
    n_records = 0
    if tick:
        tick("reading", 0, None)
    said: list[str] = []
    for rec in iter_records(f, fmt, header=options.header, quoting=options.quoting, notices=said,
                            max_expansion=options.max_expansion, lone_object=alone):
        n_records = max(n_records, rec.index + 1)
        if tick and n_records % _TICK_EVERY == 0:
            tick("parsing", n_records, None)
        if isinstance(rec, BadRecord):
            if not options.skip_bad_lines:
                raise LoadError(rec.error + SKIP_HINT, path=shown, line=rec.line, index=rec.index, byte=rec.byte)
            where = f"record {rec.index} (byte {rec.byte}): " if rec.byte is not None else ""
            skipped.append(SkippedRecord(shown, rec.line, rec.index, where + rec.error))
        else:
            good.append(rec)
    if notices is not None:
        notices.extend(f"{shown}: {m}" for m in said)
    if tick:
        tick("parsed", n_records, None)
    field_counts: Counter[str] = Counter()
    for rec in good:
        field_counts.update(map(str, rec.data.keys()))
    if not good:
        return FileInfo(shown, fmt, options.kind or "table", "no loadable records", dict(field_counts), 0,
                        n_records), n_records
    try:
        det = detect((r.data for r in good[:DETECT_SAMPLE]), kind=options.kind, mapping=options.mapping,
                     all_fields=field_counts)
    except ValueError as exc:
        raise LoadError(str(exc), path=shown) from exc
    required = required_fields(det)
    kept = 0
    row_kinds: Counter[str] = Counter()
    for k, rec in enumerate(good):
        if tick and k % _TICK_EVERY == 0:
            tick("normalising", k, len(good))
        try:
            norm = normalize_record(rec, det, required)
            source = source_text(rec)
        except RecursionError:
            exc = FieldError(None, TOO_DEEP)
            if not options.skip_bad_lines:
                raise LoadError(exc.message, path=shown, line=rec.line, index=rec.index) from None
            skipped.append(SkippedRecord(shown, rec.line, rec.index, exc.message))
            continue
        except FieldError as exc:
            if not options.skip_bad_lines:
                raise LoadError(exc.message + SKIP_HINT, path=shown, line=rec.line, index=rec.index,
                                field=exc.field) from exc
            where = f"field '{exc.field}': " if exc.field else ""
            skipped.append(SkippedRecord(shown, rec.line, rec.index, where + exc.message))
            continue
        append_row(columns, rec, norm, det, offset, shown, source)
        row_kinds[norm.kind or det.kind] += 1
        kept += 1
    if tick:
        tick("normalised", len(good), len(good))
    kind, reason = file_kind(det, row_kinds)
    return FileInfo(shown, fmt, kind, reason, dict(field_counts), kept, n_records), n_records


def file_kind(det: Detection, row_kinds: Counter[str]) -> tuple[str, str]:
    """A file's kind and how it was read: its detection's, or "mixed" with the rows per kind when records of
    another shape were read as that shape (`analysis.io.normalize.other_reading`)."""
    if set(row_kinds) <= {det.kind}:
        return det.kind, det.reason
    if len(row_kinds) == 1:  # every record of the sample's reading was bad: the rows are all of another shape
        (only, n), = row_kinds.items()
        return only, f"all {n:,} loaded records read as {only}; none as the sample's reading ({det.reason})"
    counts = ", ".join(f"{n:,} {k}" for k, n in row_kinds.most_common())
    return MIXED, f"records of several shapes, each read as its own ({counts}); most: {det.reason}"


def normalize_record(rec: RawRecord, det: Detection, required: list[str]) -> Any:
    """One record in canonical form (its `kind` set when read otherwise than the file), or FieldError naming the
    field. A record of another clear shape is read as that shape; one that merely lacks a field is bad."""
    richer = richer_reading(rec.data, det) if det.kind == "prompt" else None
    if richer is not None:
        return replace(normalize(rec.data, richer), kind=richer.kind)
    # A null counts as absent here: a Parquet or CSV row has every column, null where its shape has no such field.
    if any(rec.data.get(fname) is None for fname in required):
        own = other_reading(rec.data, det)
        if own is not None:
            return replace(normalize(rec.data, own), kind=own.kind)
        missing = [fname for fname in required if fname not in rec.data]
        if missing:
            have = ", ".join(map(str, rec.data)) or "none"
            raise FieldError(missing[0], f"missing: the file was read as {det.kind} ({det.reason}) but this "
                                         f"record has fields {have} and no other reading")
    return normalize(rec.data, det)


def source_text(rec: RawRecord) -> str:
    """The record as its `source` column holds it: the exact JSONL line, else the record as JSON."""
    return rec.raw if rec.raw is not None else json.dumps(rec.data, ensure_ascii=False, default=str)


def append_row(columns: dict[str, list[Any]], rec: RawRecord, norm: Any, det: Detection, offset: int,
               shown: str, source: str | None = None) -> None:
    """Add one normalised record to the canonical columns (row_id = offset + the record's index in its file).

    `source` is `source_text(rec)` computed beforehand, so nothing that can fail runs between the appends."""
    columns["row_id"].append(offset + rec.index)
    columns["kind"].append(norm.kind or det.kind)
    columns["messages"].append(norm.messages)
    columns["prompt"].append(norm.prompt)
    columns["response"].append(norm.response)
    columns["chosen"].append(norm.chosen)
    columns["rejected"].append(norm.rejected)
    columns["score"].append(norm.score if not math.isnan(norm.score) else math.nan)
    columns["tools"].append(norm.tools)
    columns["source"].append(source if source is not None else source_text(rec))
    columns["source_file"].append(shown)
    columns["source_index"].append(rec.index)
    columns["source_line"].append(rec.line)
