"""Recipes (ARCHITECTURE.md §5): every curation decision as data, replayable on the next version of a file.

A recipe is built from the curation log when exporting (`recipe.json` beside the data) and replayed headless by
`sift apply RECIPE PATH --out FILE`. Two kinds of step:

* **check-based** — `{"op": "drop", "check": NAME, "params": {...}, "reasons": [codes], "removable": bool}`:
  written when the user dropped what a check found (Findings "drop flagged", Duplicates "drop all but kept").
  Replaying re-runs the check with the same parameters on the new data and drops the rows it flags with those
  reason codes (for group checks, only the removable ones: every member but the one the keep-rule keeps). New rows
  that share the defect are therefore dropped too; that is the point of recording the rule rather than the rows.
* **row-based** — `{"op": "drop", "reason": ..., "rows": [{"row_id", "hash"[, "occurrence"]}]}`: manual drops
  (and any drop without a rule). Rows are identified by `row_hash` of their source record (key order and spacing
  do not matter), so they survive reordering and a new version of the file. When several rows share a hash (exact
  copies), `occurrence` says which copy (0-based, in file order) was dropped, so replay drops the same number of
  copies instead of all of them. A decision whose row no longer exists (removed or edited) is reported as
  unmatched, never silently dropped.

* **select** — `{"op": "select", "strategy", "seed", ..., "subsets": {name: [hash, ...]}}`: a training selection
  (nested fractions, k-center, ...). The selection manifest written by the Prepare page or `sift select --out` is
  itself a valid recipe: `sift apply manifest.json NEW_FILE --subset 0.5 --out FILE` keeps exactly the rows of that
  subset that still exist in the new version (matched by hash, each copy once) and reports the missing ones.

Version 1 recipes (row-based steps only, written before check rules were recorded) replay unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.curation.writers import EXPORT_FORMATS, format_from_suffix, source_paths, write_rows
from analysis.io import Dataset, LoadError, LoadOptions, load
from analysis.util.files import atomic_path, atomic_write_text
from analysis.util.progress import counts_rows
from analysis.util.progress import report as tell
from analysis.workspace.store import CurationStore, Snapshot

RECIPE_VERSION = 2
Progress = Callable[[str, float], None]


def row_hash(source: str) -> str:
    """Content hash of a source record: identifies a row across reorderings and file versions."""
    try:
        canonical = json.dumps(json.loads(source), sort_keys=True, ensure_ascii=False)
    except ValueError:
        canonical = source
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def check_rule(name: str, params: dict[str, Any], reasons: Iterable[str], *, removable: bool) -> dict[str, Any]:
    """The rule a check-based drop records in the curation log (only the check's own parameters are kept:
    derived keys such as contamination's `benchmark_sha256` are recomputed when the check runs again)."""
    from analysis.checks import REGISTRY

    known = {f.name for f in fields(REGISTRY[name].Params)} if name in REGISTRY else set(params)
    clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items() if k in known}
    return {"check": name, "params": clean, "reasons": sorted(set(reasons)), "removable": bool(removable)}


def _occurrences(hashes: list[str]) -> list[int]:
    seen: Counter[str] = Counter()
    out = []
    for h in hashes:
        out.append(seen[h])
        seen[h] += 1
    return out


def build_recipe(dataset: Dataset, store: CurationStore | Snapshot) -> dict[str, Any]:
    """The recipe of the drops in effect, one step per drop reason, in the order the decisions were made.

    Give an export's `store.snapshot()`: the rules (from the log) and the drops are then read at one instant."""
    if isinstance(store, CurationStore):
        store = store.snapshot()
    rows = dataset.rows
    hashes = [row_hash(s) for s in rows["source"].astype(str)]
    counts = Counter(hashes)
    occurrence = _occurrences(hashes)
    pos = {int(r): i for i, r in enumerate(rows["row_id"].tolist())}
    rules: dict[str, tuple[int, dict[str, Any] | None]] = {}
    for action in store.actions():  # the latest drop with a reason decides that reason's rule
        if action.action == "drop":
            rules[action.reason] = (action.id, action.params.get("rule"))
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for rec in store.drop_records():
        rid = int(rec["row_id"])
        entry: dict[str, Any] = {"row_id": rid, "hash": None}
        if rid in pos:
            h = hashes[pos[rid]]
            entry["hash"] = h
            if counts[h] > 1:
                entry["occurrence"] = occurrence[pos[rid]]
        by_reason.setdefault(rec["reason"] or "", []).append(entry)
    steps: list[dict[str, Any]] = []
    merged: dict[str, dict[str, Any]] = {}  # one step per distinct rule (a rule dropped per group or per code)
    for reason, members in sorted(by_reason.items(), key=lambda kv: (rules.get(kv[0], (0, None))[0], kv[0])):
        rule = rules.get(reason, (0, None))[1]
        key = json.dumps(rule, sort_keys=True) if rule else None
        if key is not None and key in merged:
            merged[key]["rows"].extend(members)
            merged[key]["drop_reasons"].append(reason)
            continue
        step: dict[str, Any] = {"op": "drop", "reason": reason}
        if rule:
            step.update(rule)
            step["drop_reasons"] = [reason]
            merged[key] = step  # type: ignore[index]
        step["rows"] = members
        steps.append(step)
    return {"version": RECIPE_VERSION, "source_fingerprint": dataset.info.fingerprint,
            "load_options": dataset.info.options.to_dict(), "steps": steps}


@dataclass
class StepReport:
    op: str
    reason: str
    check: str | None
    rows_affected: int  # rows this step dropped that no earlier step had dropped
    rows_matched: int  # rows the step selects (check flags, or row decisions found)
    unmatched: list[dict[str, Any]] = field(default_factory=list)  # row decisions whose row is gone

    def to_dict(self) -> dict[str, Any]:
        out = {"op": self.op, "reason": self.reason, "rows_affected": self.rows_affected,
               "rows_matched": self.rows_matched, "unmatched": self.unmatched}
        if self.check:
            out["check"] = self.check
        return out


@dataclass
class ApplyResult:
    out: str
    rows_in: int
    rows_written: int
    steps: list[StepReport]
    dropped: np.ndarray  # bool per input row
    csv_formulas_neutralised: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "rows_in": self.rows_in, "rows_written": self.rows_written,
                "steps": [s.to_dict() for s in self.steps], "csv_formulas_neutralised": self.csv_formulas_neutralised}


def read_recipe(path: str | Path) -> dict[str, Any]:
    """Parse a recipe file and validate it against the recipe schema (`recipe_problems`) before anything runs: a
    clear LoadError naming the file and each problem's place (`steps[3].reasons: expected a list of strings, found
    5`) for anything else."""
    p = Path(path).expanduser()
    if p.is_dir() and (p / "recipe.json").is_file():  # an export folder: its recipe
        p = p / "recipe.json"
    try:
        recipe = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadError(f"cannot read recipe: {exc.strerror or exc}", path=str(p)) from exc
    except (ValueError, RecursionError) as exc:
        raise LoadError(f"recipe is not valid JSON: {exc}", path=str(p)) from exc
    if isinstance(recipe, dict) and isinstance(recipe.get("subsets"), dict) and "steps" not in recipe:
        recipe = selection_recipe(recipe, str(p))
    if not isinstance(recipe, dict) or not isinstance(recipe.get("steps"), list):
        raise LoadError("not a Sift recipe (expected an object with a `steps` list, or a selection manifest)",
                        path=str(p))
    if recipe.get("version") not in (1, RECIPE_VERSION) or isinstance(recipe.get("version"), bool):
        raise LoadError(f"unsupported recipe version {recipe.get('version')!r}", path=str(p))
    problems = recipe_problems(recipe)
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise LoadError("invalid recipe: " + "; ".join(problems[:MAX_PROBLEMS]) + more, path=str(p))
    return recipe


# -- the recipe schema (what build_recipe and selection manifests write) ---------------------------------------------

MAX_PROBLEMS = 5  # problems listed in one message
REASON_CODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")  # the shape of every check's reason codes
ROW_HASH = re.compile(r"[0-9a-f]{32}")
DROP_KEYS = {"op", "reason", "check", "params", "reasons", "removable", "drop_reasons", "rows"}
SELECT_KEYS = {"op", "kind", "strategy", "seed", "fractions", "n", "stratified_by", "subsets"}
ROW_KEYS = {"row_id", "hash", "occurrence"}


def _found(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _load_option_problems(options: Any) -> list[str]:
    if not isinstance(options, dict):
        return [f"load_options: expected an object, found {_found(options)}"]
    from analysis.io import KINDS
    from analysis.io.readers import FORMATS

    known = {f.name for f in fields(LoadOptions)}
    out = [f"load_options.{k}: unknown option; options are {', '.join(sorted(known))}" for k in options
           if k not in known]
    checks: dict[str, tuple[Callable[[Any], bool], str]] = {
        "kind": (lambda v: v is None or v in KINDS, f"null or one of {', '.join(KINDS)}"),
        "format": (lambda v: v is None or v in FORMATS, f"null or one of {', '.join(FORMATS)}"),
        "header": (lambda v: v is None or isinstance(v, bool), "true, false or null"),
        "skip_bad_lines": (lambda v: isinstance(v, bool), "true or false"),
        "mapping": (lambda v: v is None or (isinstance(v, dict) and all(isinstance(x, str) for x in v.values())),
                    "null or an object of field names"),
    }
    for key, (ok, what) in checks.items():
        if key in options and not ok(options[key]):
            out.append(f"load_options.{key}: expected {what}, found {_found(options[key])}")
    return out


def _rows_problems(rows: Any, at: str) -> list[str]:
    if not isinstance(rows, list):
        return [f"{at}: expected a list of {{row_id, hash}} objects, found {_found(rows)}"]
    out: list[str] = []
    for j, entry in enumerate(rows):
        where = f"{at}[{j}]"
        if not isinstance(entry, dict):
            out.append(f"{where}: expected an object with row_id and hash, found {_found(entry)}")
            continue
        out += [f"{where}.{k}: unknown key; keys are {', '.join(sorted(ROW_KEYS))}" for k in entry
                if k not in ROW_KEYS]
        if entry.get("row_id") is not None and not _is_int(entry["row_id"]):
            out.append(f"{where}.row_id: expected a whole number or null, found {_found(entry['row_id'])}")
        h = entry.get("hash")
        if h is not None and not (isinstance(h, str) and ROW_HASH.fullmatch(h)):
            out.append(f"{where}.hash: expected a row hash (32 hex digits) or null, found {_found(h)}")
        if "occurrence" in entry and not (_is_int(entry["occurrence"]) and entry["occurrence"] >= 0):
            out.append(f"{where}.occurrence: expected a whole number >= 0, found {_found(entry['occurrence'])}")
        if len(out) > MAX_PROBLEMS:
            break
    return out


def _drop_step_problems(step: dict[str, Any], at: str) -> list[str]:
    from analysis.checks import REGISTRY
    from analysis.checks.base import param_problems

    out = [f"{at}.{k}: unknown key of a drop step; keys are {', '.join(sorted(DROP_KEYS))}" for k in step
           if k not in DROP_KEYS]
    if "reason" in step and not isinstance(step["reason"], str):
        out.append(f"{at}.reason: expected a string, found {_found(step['reason'])}")
    for key in ("reasons", "drop_reasons"):
        if key in step:
            value = step[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                out.append(f"{at}.{key}: expected a list of strings, found {_found(value)}")
            elif key == "reasons":
                out += [f"{at}.reasons[{i}]: not a reason code (letters, digits, _ . : -), found {_found(v)}"
                        for i, v in enumerate(value) if not REASON_CODE.fullmatch(v)]
    if "removable" in step and not isinstance(step["removable"], bool):
        out.append(f"{at}.removable: expected true or false, found {_found(step['removable'])}")
    if "check" in step:
        name = step["check"]
        if not isinstance(name, str) or name not in REGISTRY:
            out.append(f"{at}.check: unknown check {_found(name)}; checks are {', '.join(sorted(REGISTRY))}")
        else:
            _, problems = param_problems(REGISTRY[name], step.get("params", {}))
            out += [f"{at}.params{'.' + k if k else ''}: {msg}" for k, msg in problems]
    else:
        for key in ("params", "reasons", "removable"):
            if key in step:
                out.append(f"{at}.{key}: only a check step (with `check`) has {key}")
    if "rows" in step or "check" not in step:
        out += _rows_problems(step.get("rows"), f"{at}.rows")
    return out


def _select_step_problems(step: dict[str, Any], at: str) -> list[str]:
    out = [f"{at}.{k}: unknown key of a select step; keys are {', '.join(sorted(SELECT_KEYS))}" for k in step
           if k not in SELECT_KEYS]
    for key in ("kind", "strategy", "stratified_by"):
        if key in step and not isinstance(step[key], str):
            out.append(f"{at}.{key}: expected a string, found {_found(step[key])}")
    for key in ("seed", "n"):
        if key in step and not (_is_int(step[key]) and step[key] >= 0):
            out.append(f"{at}.{key}: expected a whole number >= 0, found {_found(step[key])}")
    if "fractions" in step:
        fr = step["fractions"]
        if not isinstance(fr, list) or not all(isinstance(f, (int, float)) and not isinstance(f, bool)
                                               and 0 < f <= 1 for f in fr):
            out.append(f"{at}.fractions: expected a list of numbers in (0, 1], found {_found(fr)}")
    subsets = step.get("subsets")
    if not isinstance(subsets, dict) or not subsets:
        return [*out, f"{at}.subsets: expected an object of subset name -> list of row hashes, found "
                      f"{_found(subsets)}"]
    for name, hashes in subsets.items():
        if not isinstance(hashes, list) or not all(isinstance(h, str) and ROW_HASH.fullmatch(h) for h in hashes):
            out.append(f"{at}.subsets.{name}: expected a list of row hashes (32 hex digits), found {_found(hashes)}")
    return out


def recipe_problems(recipe: dict[str, Any]) -> list[str]:
    """Every way `recipe` departs from the schema build_recipe writes, each located (`steps[3].reasons: expected a
    list of strings, found 5`): known top-level fields typed, known step kinds and keys, known checks with their
    parameters typed and within each check's declared `bounds`, well-formed reason codes and row hashes."""
    out: list[str] = []
    if "source_fingerprint" in recipe and not isinstance(recipe["source_fingerprint"], (str, type(None))):
        out.append(f"source_fingerprint: expected a string, found {_found(recipe['source_fingerprint'])}")
    if "load_options" in recipe and recipe["load_options"] is not None:
        out += _load_option_problems(recipe["load_options"])
    for i, step in enumerate(recipe["steps"]):
        at = f"steps[{i}]"
        if not isinstance(step, dict):
            out.append(f"{at}: expected a step object, found {_found(step)}")
        elif step.get("op") == "drop":
            out += _drop_step_problems(step, at)
        elif step.get("op") == "select":
            out += _select_step_problems(step, at)
        else:
            out.append(f"{at}.op: expected \"drop\" or \"select\", found {_found(step.get('op'))}")
        if len(out) > MAX_PROBLEMS:
            break
    return out


def selection_recipe(manifest: dict[str, Any], where: str = "") -> dict[str, Any]:
    """A selection manifest (Prepare page, `sift select --out`) as a recipe with one `select` step: its subsets by
    content hash, so a selection made on one version of the data is replayed on the next."""
    subsets = {}
    for name, sub in manifest["subsets"].items():
        if not isinstance(sub, dict) or not isinstance(sub.get("hashes"), list):
            raise LoadError(f"subset {name!r} has no row hashes (written before selections were replayable); "
                            "write it again", path=where or None)
        subsets[str(name)] = sub["hashes"]
    meta = {k: manifest[k] for k in ("kind", "strategy", "seed", "fractions", "n", "stratified_by") if k in manifest}
    return {"version": RECIPE_VERSION, "steps": [{"op": "select", **meta, "subsets": subsets}]}


def _select_step(step: dict[str, Any], where: dict[str, list[int]], n: int, subset: str | None
                 ) -> tuple[np.ndarray, StepReport]:
    """Rows of one subset of a `select` step (by hash, each copy once); everything else is left out."""
    subsets = step.get("subsets") or {}
    if not subsets:
        raise LoadError("a select step has no subsets")
    name = subset if subset is not None else max(subsets, key=lambda k: len(subsets[k]))
    if name not in subsets:
        raise LoadError(f"no subset {name!r} in the selection; subsets are {', '.join(subsets)}")
    keep = np.zeros(n, dtype=bool)
    used: Counter[str] = Counter()
    unmatched = []
    for h in subsets[name]:
        places = where.get(str(h), [])
        if used[h] < len(places):
            keep[places[used[h]]] = True
            used[h] += 1
        else:
            unmatched.append({"hash": h})
    return keep, StepReport("select", f"subset {name}", None, 0, int(keep.sum()), unmatched)


def replay(recipe: dict[str, Any], rows: pd.DataFrame, *, progress: Progress | None = None,
           subset: str | None = None, engine: str = "local") -> tuple[np.ndarray, list[StepReport]]:
    """Which rows the recipe drops on `rows`, and what each step did. `engine` "ray" runs the check steps as Ray
    Data stages (analysis.run.ray_runner; Ray must be initialised), with the same results. A `select` step keeps only
    the rows of `subset` (default: its largest subset)."""
    if engine == "ray":
        from analysis.run.ray_runner import run_checks_ray as run_checks
    else:
        from analysis.checks import run_checks

    n = len(rows)
    dropped = np.zeros(n, dtype=bool)
    counting = counts_rows(progress)  # a row-counting sink (the CLI) gets each check's own rows, not step k of n
    tell(progress if counting else None, f"hash rows: {n:,}", 0.0, step="hash rows")
    hashes = [row_hash(s) for s in rows["source"].astype(str)]
    tell(progress if counting else None, "hash rows", 1.0, step="hash rows", done=n, total=n)
    where: dict[str, list[int]] = {}
    for i, h in enumerate(hashes):
        where.setdefault(h, []).append(i)
    reports = []
    steps = recipe["steps"]
    results: dict[str, Any] = {}  # one run per (check, params), however many steps use it
    for k, step in enumerate(steps):
        if progress and not counting:
            what = step.get("check") or step.get("reason") or "drop"
            progress(f"step {k + 1} of {len(steps)}: {what}", k / len(steps))
        hit = np.zeros(n, dtype=bool)
        unmatched: list[dict[str, Any]] = []
        if step.get("op") == "select":  # keep only the subset's rows: everything else is dropped by this step
            keep, report = _select_step(step, where, n, subset)
            report.rows_affected = int((~keep & ~dropped).sum())
            reports.append(report)
            dropped |= ~keep
            continue
        if step.get("check"):
            name = step["check"]
            key = json.dumps([name, step.get("params") or {}], sort_keys=True)
            if key not in results:
                try:
                    results[key] = run_checks(rows, [name], params={name: step.get("params") or {}},
                                              progress=progress if counting else None)[name]
                except ValueError as exc:
                    raise LoadError(f"step {k + 1} ({name}): {exc}") from exc
            result = results[key]
            chosen = result.removable() if step.get("removable") else result.is_issue
            codes = set(step.get("reasons") or [])
            hit = chosen & (np.isin(result.reason.astype(str), list(codes)) if codes else True)
        else:
            for entry in step.get("rows", []):
                places = where.get(str(entry.get("hash")), [])
                occ = int(entry.get("occurrence", 0))
                if occ < len(places):
                    hit[places[occ]] = True
                elif len(places) and "occurrence" not in entry:
                    hit[places[0]] = True
                else:
                    unmatched.append({"row_id": entry.get("row_id"), "hash": entry.get("hash")})
        reports.append(StepReport("drop", str(step.get("reason", "")), step.get("check"),
                                  int((hit & ~dropped).sum()), int(hit.sum()), unmatched))
        dropped |= hit
    if progress and not counting:
        progress("recipe applied", 1.0)
    return dropped, reports


def refuse_overwrite(out: Path, *, force: bool) -> None:
    """Refuse an existing output file, or an `apply_report.json` beside it that is not a Sift report, unless
    `force`; a folder at `out` is always refused (apply writes one file)."""
    if out.is_dir():
        raise LoadError("--out is a folder; give the file to write (e.g. applied.jsonl)", path=str(out))
    if force:
        return
    if out.exists():
        raise LoadError("the output file exists; choose another --out or add --force to replace it", path=str(out))
    report = out.parent / "apply_report.json"
    if report.exists():
        try:
            ours = {"recipe", "input", "engine"} <= set(json.loads(report.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            ours = False
        if not ours:
            raise LoadError("apply_report.json beside --out is not a Sift apply report; choose another folder or add "
                            "--force to replace it", path=str(report))


def apply_recipe(recipe_path: str | Path, data_path: str | Path, out: str | Path, *, fmt: str | None = None,
                 options: LoadOptions | None = None, progress: Progress | None = None,
                 engine: str = "local", subset: str | None = None, force: bool = False) -> ApplyResult:
    """Load `data_path`, replay the recipe, write the kept rows (their source records) to `out` atomically, with
    `apply_report.json` beside it. The input file is never modified, and an existing `out` (or a report beside
    it that Sift did not write) is refused unless `force`: a command never overwrites what it did not create.
    `engine` "ray": loading and the check steps run as Ray Data stages (the caller initialises Ray, e.g.
    `ray_runner.init_ray(address)`)."""
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be local or ray, not {engine!r}")
    recipe = read_recipe(recipe_path)
    out = Path(out).expanduser()
    refuse_overwrite(out, force=force)
    fmt = fmt or format_from_suffix(out)
    if fmt not in EXPORT_FORMATS:
        raise LoadError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    opts = options or LoadOptions.from_dict(recipe.get("load_options") or {})
    if engine == "ray":
        from analysis.run.ray_runner import load_ray

        dataset = load_ray(data_path, opts, progress=progress)
    else:
        dataset = load(data_path, opts, progress=progress if counts_rows(progress) else None)
    if out.resolve() in source_paths(dataset):
        raise LoadError("refusing to overwrite the input file; choose another --out", path=str(out))
    dropped, reports = replay(recipe, dataset.rows, progress=progress, engine=engine, subset=subset)
    kept = dataset.rows[~dropped]
    sink = progress if counts_rows(progress) else None
    tell(sink, f"write {out.name}: {len(kept):,} rows", 0.0, step=f"write {out.name}")
    with atomic_path(out) as tmp:
        neutralised = write_rows(kept, tmp, fmt, "source")
    tell(sink, f"write {out.name}", 1.0, step=f"write {out.name}", done=len(kept), total=len(kept))
    result = ApplyResult(str(out), len(dataset.rows), len(kept), reports, dropped, neutralised)
    report = {**result.to_dict(), "recipe": str(recipe_path), "input": str(data_path), "engine": engine,
              "dropped_rows": [int(r) for r in dataset.rows["row_id"].to_numpy()[dropped]]}
    atomic_write_text(out.parent / "apply_report.json", json.dumps(report, indent=2, ensure_ascii=False))
    return result
