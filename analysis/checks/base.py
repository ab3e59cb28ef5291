"""The check framework (ARCHITECTURE.md §4): one module per check, one result shape, a registry by name.

A check is a small class with a frozen parameter dataclass (documented defaults) and `run(ctx)`; it
returns a `CheckResult` with per-row score / is_issue / reason / group_id, so the Findings page, the
Browse filters and the CLI render any check generically. Shared inputs (scope texts, the canonical rows)
come through a `CheckContext` and are computed once per run. Results are cached in the workspace under
`results/<check>@<params-hash>.parquet`, so changing one parameter re-runs one check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from itertools import chain, islice
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from analysis.util.files import atomic_path, atomic_write_text
from analysis.util.memory import release_free_memory
from analysis.util.progress import counts_rows, report

log = logging.getLogger(__name__)
RESULTS_DIR = "results"
Progress = Callable[[str, float], None]
RowSink = Callable[[int, int | None, str | None], None]  # (done, total, label) of a check's tracked loop
T = TypeVar("T")
_TRACK_CHUNK = 1024  # items between two looks at the clock in `CheckContext.track`


@dataclass(frozen=True)
class CheckResult:
    """What every check returns; arrays are aligned with the dataset's row order."""

    name: str
    score: np.ndarray  # float in [0, 1], higher = more severe
    is_issue: np.ndarray  # bool
    reason: np.ndarray  # str: a stable reason code, "" when no issue
    group_id: np.ndarray  # int, -1 = no group
    keep: np.ndarray | None  # bool for group checks: the member kept by the keep-rule
    summary: dict[str, Any]
    params: dict[str, Any]
    evidence: np.ndarray | None = None  # str: the offending span as it appears in the row's text, "" when none

    @property
    def rows_flagged(self) -> int:
        return int(self.is_issue.sum())

    def reasons(self) -> dict[str, int]:
        codes, counts = np.unique(self.reason[self.is_issue], return_counts=True)
        return {str(c): int(n) for c, n in zip(codes, counts, strict=True)}

    def removable(self) -> np.ndarray:
        """Rows a "drop all flagged" decision removes: flagged rows minus each group's kept member."""
        if self.keep is None:
            return self.is_issue.copy()
        return self.is_issue & ~self.keep

    def to_frame(self, row_ids: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64), "score": self.score.astype(np.float32),
                             "is_issue": self.is_issue.astype(bool), "reason": _text_column(self.reason),
                             "group_id": self.group_id.astype(np.int64),
                             "keep": (self.keep if self.keep is not None else np.zeros(len(self.score), bool)),
                             "evidence": _text_column(self.evidence_or_empty())})

    def evidence_or_empty(self) -> np.ndarray:
        return self.evidence if self.evidence is not None else np.full(len(self.score), "", dtype=object)


def _text_column(values: np.ndarray) -> pd.Series:
    """Strings as an Arrow-backed column: numpy's `astype(str)` would make a fixed-width array as wide as the longest
    value (1M rows x one 1,000-character span = 4 GB)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object).astype("str")


def make_result(name: str, n: int, params: dict[str, Any], *, score: np.ndarray | None = None,
                is_issue: np.ndarray | None = None, reason: Iterable[str] | None = None,
                group_id: np.ndarray | None = None, keep: np.ndarray | None = None,
                summary: dict[str, Any] | None = None, evidence: Iterable[str] | None = None) -> CheckResult:
    """Fill defaults and derive the common summary numbers, so checks only state what they found."""
    reason_arr = np.asarray(list(reason) if reason is not None else [""] * n, dtype=object)
    issue = np.asarray(is_issue, dtype=bool) if is_issue is not None else reason_arr != ""
    score_arr = np.clip(np.asarray(score, dtype=np.float64), 0, 1) if score is not None else issue.astype(float)
    groups = np.asarray(group_id, dtype=np.int64) if group_id is not None else np.full(n, -1, dtype=np.int64)
    spans = np.asarray(list(evidence), dtype=object) if evidence is not None else None
    if not (len(reason_arr) == len(issue) == len(score_arr) == len(groups) == n) or (
            spans is not None and len(spans) != n):
        raise ValueError(f"check {name}: per-row arrays must all have {n} entries")
    result = CheckResult(name, score_arr, issue, reason_arr, groups, keep, {}, params, spans)
    base = {"rows_flagged": result.rows_flagged, "share_flagged": result.rows_flagged / n if n else 0.0,
            "reasons": result.reasons(), "groups": int(len(np.unique(groups[groups >= 0]))),
            "rows_removable": int(result.removable().sum())}
    return CheckResult(name, score_arr, issue, reason_arr, groups, keep, {**base, **(summary or {})}, params, spans)


@dataclass
class CheckContext:
    """Inputs shared by every check of a run, computed at most once."""

    rows: pd.DataFrame
    ws_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    progress_sink: RowSink | None = field(default=None, repr=False, compare=False)  # set by run_checks per check

    def __len__(self) -> int:
        return len(self.rows)

    def track(self, items: Iterable[T], total: int | None = None, label: str | None = None) -> Iterable[T]:
        """`items` unchanged, counted for the running check's progress (every ~1% or 0.5 s), so a check that
        loops in Python for minutes shows rows done, rate and ETA. Without a sink it returns `items` itself
        (free). With one it pulls up to 1,024 items ahead and looks at the clock once per chunk, never per item.
        `total` defaults to len(items); `label` names the unit when the loop is not over rows (e.g. "pairs")."""
        sink = self.progress_sink
        if sink is None:
            return items
        if total is None and isinstance(items, Sized):
            total = len(items)
        return chain.from_iterable(_counted_chunks(iter(items), total, label, sink))

    @cached_property
    def prompts(self) -> list[str]:
        return self.rows["prompt"].fillna("").astype(str).tolist()

    @cached_property
    def responses(self) -> list[str]:
        return self.rows["response"].fillna("").astype(str).tolist()

    @cached_property
    def messages(self) -> list[list[dict[str, Any]]]:
        return [list(m) if m is not None else [] for m in self.rows["messages"]]

    def texts(self, scope: str) -> list[str]:
        """prompt / response / both (the turns' contents) / first_turn (the first user turn) / record (the whole
        source record)."""
        if scope == "prompt":
            return self.prompts
        if scope == "response":
            return self.responses
        if scope == "both":
            return ["\n".join(str(t.get("content") or "") for t in m) for m in self.messages]
        if scope == "record":
            return self.rows["source"].astype(str).tolist()
        if scope == "first_turn":  # the opening request: templated datasets vary what follows, not this
            return [next((str(t.get("content") or "") for t in m if t.get("role") == "user"), "")
                    for m in self.messages]
        raise ValueError(f"unknown scope {scope!r}; expected prompt, response, both, first_turn or record")


def _counted_chunks(it: Iterator[T], total: int | None, label: str | None, sink: RowSink) -> Iterator[list[T]]:
    """Chunks of `it` for `chain.from_iterable` (the per-item loop stays in C); between chunks, count and tell
    `sink` when ~1% more is done or 0.5 s have passed."""
    size = max(1, min(_TRACK_CHUNK, total // 100)) if total else _TRACK_CHUNK
    every = max(1, total // 100) if total else 0
    done = told = 0
    last = time.monotonic()
    sink(0, total, label)
    while chunk := list(islice(it, size)):
        yield chunk
        done += len(chunk)
        now = time.monotonic()
        if (every and done - told >= every) or now - last >= 0.5:
            sink(done, total, label)
            told, last = done, now
    if done != told:
        sink(done, total, label)


class Check:
    """Base class: subclasses set `name`, `Params` (a frozen dataclass) and implement `run`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Params: ClassVar[type] = object
    # Declared limits of the parameters (`Bound` per name): checked with the types by `params_from`, so
    # `--check-param`, recipes and the app all refuse `num_perm=1e9` before anything allocates.
    bounds: ClassVar[dict[str, Bound]] = {}
    row_local: ClassVar[bool] = False  # True: each row's result depends on that row alone (Ray runs it per batch)

    def __init__(self, params: Any | None = None) -> None:
        self.params = params if params is not None else self.Params()

    @classmethod
    def missing_inputs(cls, ws_dir: Path | None, rows: pd.DataFrame) -> str | None:
        """Why this check cannot run on this workspace yet (e.g. no embeddings), or None when it can."""
        del ws_dir, rows
        return None

    def run(self, ctx: CheckContext) -> CheckResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def params_dict(self) -> dict[str, Any]:
        return asdict(self.params) if hasattr(self.params, "__dataclass_fields__") else {}

    def result(self, ctx: CheckContext, **kwargs: Any) -> CheckResult:
        return make_result(self.name, len(ctx), self.params_dict(), **kwargs)


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make a check available by its stable name."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"two checks are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


@dataclass(frozen=True)
class Bound:
    """Limits of one check parameter: `lo`/`hi` inclusive for a number (for a tuple parameter, each element),
    `choices` for a string. Declared on the check (`bounds = {"num_perm": Bound(16, 4096)}`) so the CLI's
    `--check-param`, recipe validation and the app share one definition."""

    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()

    def problem(self, value: Any) -> str | None:
        if self.choices and value not in self.choices:
            return f"expected one of {', '.join(self.choices)}, found {value!r}"
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and ((self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi)):
            span = f"between {self.lo:g} and {self.hi:g}" if self.lo is not None and self.hi is not None \
                else (f"at least {self.lo:g}" if self.lo is not None else f"at most {self.hi:g}")
            return f"expected a number {span}, found {value!r}"
        return None


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _typed(expected: Any, value: Any) -> tuple[Any, str | None]:
    """`value` as the type of a parameter's default (`expected`): (value, None) or (value, problem)."""
    if isinstance(expected, bool):
        return (value, None) if isinstance(value, (bool, np.bool_)) else (value, f"expected true or false, found "
                                                                                  f"{_kind(value)} {value!r}")
    if isinstance(expected, (int, float)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return value, f"expected a number, found {_kind(value)} {value!r}"
        if not np.isfinite(float(value)):
            return value, f"expected a finite number, found {value!r}"
        if isinstance(expected, int):
            if float(value) != int(value):
                return value, f"expected a whole number, found {value!r}"
            return int(value), None
        return value, None
    if isinstance(expected, str):
        return (value, None) if isinstance(value, str) else (value, f"expected a string, found {_kind(value)} "
                                                                    f"{value!r}")
    return value, None


def param_problems(cls: type[Check], values: dict[str, Any] | None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check parameters against the Params dataclass (names, types of the defaults) and the check's `bounds`:
    (the values, integral floats made ints; [(parameter, problem), ...]). Shared by `params_from` and recipe
    validation, which locates each problem in the file."""
    if not isinstance(values, dict):
        return {}, [("", f"expected an object of parameters, found {_kind(values)} {values!r}")]
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    specs = {f.name: f for f in fields(cls.Params)}
    for key, value in values.items():
        spec = specs.get(key)
        if spec is None:
            problems.append((str(key), f"unknown parameter of check {cls.name}; parameters are "
                                       f"{', '.join(sorted(specs))}"))
            continue
        default = spec.default
        bound = cls.bounds.get(key)
        if isinstance(default, tuple):  # a list parameter: each element typed like the annotation says
            if not isinstance(value, (list, tuple)):
                problems.append((key, f"expected a list, found {_kind(value)} {value!r}"))
                continue
            elem = 0 if "int" in str(spec.type) else ""
            items = []
            for i, item in enumerate(value):
                item, problem = _typed(elem, item)
                problem = problem or (bound.problem(item) if bound else None)
                if problem:
                    problems.append((f"{key}[{i}]", problem))
                items.append(item)
            out[key] = tuple(items) if isinstance(value, tuple) else items
            continue
        value, problem = _typed(default, value)
        problem = problem or (bound.problem(value) if bound else None)
        if problem:
            problems.append((key, problem))
        out[key] = value
    if not problems:  # the check's own cross-field rules (`__post_init__`), still before anything runs
        try:
            cls.Params(**out)
        except (ValueError, TypeError) as exc:
            problems.append(("", str(exc)))
    return out, problems


def params_from(cls: type[Check], values: dict[str, Any] | None) -> Any:
    """Build a check's Params from a dict: unknown names, wrong types and values outside the check's `bounds`
    are refused with one clear message."""
    clean, problems = param_problems(cls, values or {})
    if problems:
        if any(p[1].startswith("unknown parameter") for p in problems):
            unknown = sorted(k for k, p in problems if p.startswith("unknown parameter"))
            raise ValueError(f"check {cls.name}: unknown parameter(s) {', '.join(unknown)}; "
                             f"parameters are {', '.join(sorted(f.name for f in fields(cls.Params)))}")
        raise ValueError(f"check {cls.name}: " + "; ".join(f"{k}: {p}" if k else p for k, p in problems))
    return cls.Params(**clean)


RESULTS_FORMAT = 2  # bumped when the stored result shape changes (2: per-row evidence), so old caches re-run


def params_key(params: dict[str, Any]) -> str:
    blob = json.dumps([RESULTS_FORMAT, params], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def result_path(ws_dir: Path, name: str, params: dict[str, Any]) -> Path:
    return Path(ws_dir) / RESULTS_DIR / f"{name}@{params_key(params)}.parquet"


def save_result(ws_dir: Path, result: CheckResult, row_ids: np.ndarray) -> Path:
    path = result_path(ws_dir, result.name, result.params)
    with atomic_path(path) as tmp:
        result.to_frame(row_ids).to_parquet(tmp)
    atomic_write_text(path.with_suffix(".json"), json.dumps({"name": result.name, "params": result.params,
                                                             "summary": result.summary}, default=str))
    return path


def load_result(ws_dir: Path, name: str, params: dict[str, Any], row_ids: np.ndarray) -> CheckResult | None:
    """A cached result for exactly these parameters and rows, or None."""
    path = result_path(ws_dir, name, params)
    meta = path.with_suffix(".json")
    if not path.exists() or not meta.exists():
        return None
    frame = pd.read_parquet(path)
    if len(frame) != len(row_ids) or not np.array_equal(frame["row_id"].to_numpy(), np.asarray(row_ids)):
        return None
    info = json.loads(meta.read_text())
    keep = frame["keep"].to_numpy(bool) if frame["group_id"].ge(0).any() else None
    return CheckResult(name, frame["score"].to_numpy(np.float64), frame["is_issue"].to_numpy(bool),
                       frame["reason"].to_numpy(object), frame["group_id"].to_numpy(np.int64), keep,
                       info["summary"], info["params"],
                       frame["evidence"].to_numpy(object) if "evidence" in frame.columns else None)


REQUESTED_DIR = "requested"  # results/requested/<check>.json: the parameters last asked for, one file per check


def record_requested(ws_dir: Path, name: str, params: dict[str, Any]) -> None:
    """Remember that `params` are what was last asked of check `name` (a fresh run or a cache hit alike).

    Findings show this result, not the newest file: after runs with benchmark A, B, then A again (a cache hit that
    writes nothing), the newest file is B's though the user last asked for A. One file per check, written
    atomically, so the app and the CLI recording different checks at once never lose each other's entry.
    """
    atomic_write_text(Path(ws_dir) / RESULTS_DIR / REQUESTED_DIR / f"{name}.json",
                      json.dumps({"name": name, "params": params, "key": params_key(params)}, default=str))


def latest_results(ws_dir: Path) -> dict[str, dict[str, Any]]:
    """name -> {"params", "summary", "path"} of the result each check was last asked for (`record_requested`);
    a check with no such record (a workspace from before it existed) falls back to its most recently written
    result."""
    results = Path(ws_dir) / RESULTS_DIR
    out: dict[str, tuple[float, dict[str, Any]]] = {}
    for meta in results.glob("*.json"):
        info = json.loads(meta.read_text())
        mtime = meta.stat().st_mtime
        if info["name"] not in out or mtime > out[info["name"]][0]:
            out[info["name"]] = (mtime, {**info, "path": str(meta.with_suffix(".parquet"))})
    for req in results.glob(f"{REQUESTED_DIR}/*.json"):
        try:
            asked = json.loads(req.read_text())
            meta = results / f"{asked['name']}@{asked['key']}.json"
            if meta.exists() and meta.with_suffix(".parquet").exists():
                out[asked["name"]] = (0.0, {**json.loads(meta.read_text()), "path": str(meta.with_suffix(".parquet"))})
        except (OSError, ValueError, KeyError):  # a record from a future/older format: the newest file decides
            continue
    return {k: v for k, (_, v) in sorted(out.items())}


def run_checks(rows: pd.DataFrame, names: Iterable[str], *, ws_dir: Path | None = None,
               params: dict[str, dict[str, Any]] | None = None, ctx: CheckContext | None = None,
               progress: Progress | None = None) -> dict[str, CheckResult]:
    """Run (or read from the cache) each named check; unknown names raise ValueError listing the known ones."""
    names = list(names)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; available: {', '.join(sorted(REGISTRY))}")
    ctx = ctx or CheckContext(rows, ws_dir)
    row_ids = rows["row_id"].to_numpy(dtype=np.int64)
    out: dict[str, CheckResult] = {}
    n_checks, n = max(len(names), 1), len(rows)
    for i, name in enumerate(names):
        cls = REGISTRY[name]
        check = cls(params_from(cls, (params or {}).get(name)))
        cached = load_result(ws_dir, name, check.params_dict(), row_ids) if ws_dir is not None else None
        step = f"check {name}"
        if cached is not None:
            report(progress, f"{step} (cached)", i / n_checks, step=step, step_fraction=1.0)
            out[name] = cached
            if ws_dir is not None:
                record_requested(ws_dir, name, check.params_dict())
            continue
        report(progress, step, i / n_checks, step=step, done=0, total=n)
        ctx.progress_sink = _check_sink(progress, step, i, n_checks) if progress else None
        t = time.perf_counter()
        try:
            result = check.run(ctx)
        finally:
            ctx.progress_sink = None
        result.summary["seconds"] = round(time.perf_counter() - t, 3)
        if ws_dir is not None:
            save_result(ws_dir, result, row_ids)
            record_requested(ws_dir, name, result.params)  # the parameters its file is keyed by
        report(progress, step, (i + 1) / n_checks, step=step, done=n, total=n)
        out[name] = result
        release_free_memory()  # the check's temporaries are gone: keep the next one's peak from stacking on them
    if progress and not counts_rows(progress):
        progress("checks done", 1.0)
    return out


def _check_sink(progress: Progress, step: str, i: int, n_checks: int) -> RowSink:
    """What `ctx.track` tells: rows done within check `i` (a plain sink sees the whole run's fraction, never going
    back when a check has two loops; the step itself ends only when run_checks says so)."""
    best = i / n_checks

    def sink(done: int, total: int | None, label: str | None) -> None:
        nonlocal best
        share = min(done / total, 0.999) if total else 0.0
        best = max(best, (i + share) / n_checks)
        unit = label or "rows"
        of = f"/{total:,}" if total else ""
        report(progress, f"{step}: {done:,}{of} {unit}", best, step=step, done=done, total=total, unit=unit,
               step_fraction=share)

    return sink
