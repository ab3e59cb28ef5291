"""`sift`: the headless face of Sift over the same workspace the app opens (ARCHITECTURE.md §10).

Every command exits 0 on success and 2 on bad input with one clear line on stderr and no traceback;
`--json` prints exactly one JSON document on stdout. Long work reports progress on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from analysis.io import KINDS, LoadError, LoadOptions, parse_mapping
from analysis.io.readers import DEFAULT_MAX_EXPANSION
from analysis.space.fast_embedders import DEFAULT as DEFAULT_EMBEDDER
from analysis.space.fast_embedders import KINDS as EMBEDDER_KINDS

EXIT_OK, EXIT_BAD_INPUT = 0, 2


class StderrProgress:
    """Progress on stderr, one step at a time, so a long run shows what it is doing and how fast.

    While a step runs: `step: 412,000/1,000,000 rows · 8,900 rows/s · ETA 1m06s`; when it ends, a line with its
    total time. A step is the `step` keyword when given, else the message up to its first ':'; rate and ETA reset
    when the step (or, within it, the unit or total) changes. On a terminal the running line overwrites itself;
    elsewhere (forced with `--progress`) a plain line at most every `interval` seconds plus each step's last line,
    so logs stay readable. Accepts the plain `(message, fraction)` call too (analysis.util.progress.RowProgress).
    """

    counts_rows = True
    TTY_INTERVAL, PLAIN_INTERVAL = 0.1, 5.0  # seconds between two running lines

    def __init__(self, enabled: bool = True, *, tty: bool | None = None, interval: float | None = None) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.interval = interval if interval is not None else (self.TTY_INTERVAL if self.tty else self.PLAIN_INTERVAL)
        self.step: str | None = None
        self.finished = True
        self.updates = 0
        self.message, self.unit = "", "rows"
        self.done: int | None = None
        self.total: int | None = None
        self.fraction = 0.0
        self.step_start = self.phase_start = self.last_write = 0.0
        self.phase: tuple[str, int | None] | None = None
        self.phase_done, self.phase_fraction = 0, 0.0

    def __call__(self, message: str, fraction: float, done: int | None = None, total: int | None = None, *,
                 step: str | None = None, unit: str = "rows") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        step = step or message.split(":", 1)[0].strip() or message
        if step != self.step:
            self.close(now)
            self.step, self.finished, self.updates, self.step_start = step, False, 0, now
            self.phase, self.last_write = None, 0.0 if self.tty else now
        elif self.finished:
            return  # a late word about a step already reported as finished
        restarted = done is not None and self.done is not None and done < self.done
        if (unit, total) != self.phase or restarted:  # a new loop inside the step: rate and ETA start afresh
            self.phase, self.phase_start = (unit, total), now
            self.phase_done, self.phase_fraction = done or 0, fraction
        self.message, self.done, self.total, self.unit, self.fraction = message, done, total, unit, fraction
        self.updates += 1
        if fraction >= 1:
            self.close(now)
        elif now - self.last_write >= self.interval and (self.tty or now > self.last_write):
            self.last_write = now
            self._write(self._running(now), final=False)

    def close(self, now: float | None = None) -> None:
        """Finish the current step: its last line with rows and total time, ended by a newline."""
        if not self.enabled or self.finished or self.step is None:
            return
        self.finished = True
        secs = (time.monotonic() if now is None else now) - self.step_start
        if self.done is None:
            # a step that finished on its first word ("...: cached") has no duration worth showing
            line = self.message if self.updates <= 1 and self.fraction >= 1 else f"{self.message} · {_dur(secs)}"
        else:
            of = f"/{self.total:,}" if self.total is not None and self.total != self.done else ""
            rate = f" ({self.done / secs:,.0f} {self.unit}/s)" if secs > 0 else ""
            line = f"{self.step}: {self.done:,}{of} {self.unit} in {_dur(secs)}{rate}"
        self._write(line, final=True)

    def _running(self, now: float) -> str:
        elapsed = now - self.phase_start
        eta = ""
        if 0 < self.fraction < 1 and self.fraction > self.phase_fraction and elapsed > 0:
            eta = f" · ETA {_dur(elapsed * (1 - self.fraction) / (self.fraction - self.phase_fraction))}"
        if self.done is None:
            return f"{self.message} · {_dur(now - self.step_start)}{eta}"
        of = f"/{self.total:,}" if self.total is not None else ""
        moved = self.done - self.phase_done
        rate = f" · {moved / elapsed:,.0f} {self.unit}/s" if moved > 0 and elapsed > 0 else ""
        return f"{self.step}: {self.done:,}{of} {self.unit}{rate}{eta}"

    def _write(self, line: str, *, final: bool) -> None:
        if self.tty:
            sys.stderr.write(f"\r{line}\033[K" + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _dur(seconds: float) -> str:
    """42.0s, 4m05s, 1h02m: short enough for a one-line progress display."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


def _show_progress(args: argparse.Namespace) -> bool:
    """--progress / --no-progress decide; by default progress shows only on a terminal and never with --json."""
    forced = getattr(args, "progress", None)
    return forced if forced is not None else (not getattr(args, "json", False) and sys.stderr.isatty())


def _progress(args: argparse.Namespace) -> StderrProgress:
    """The command's one progress line (made in `main`), so steps follow each other on stderr in order."""
    sink = getattr(args, "progress_sink", None)
    return sink if sink is not None else StderrProgress(_show_progress(args))


def _as_rows(sink: StderrProgress, step: str, n: int) -> Callable[[str, float], None]:
    """A plain `(message, fraction)` producer over `n` rows (the tokenizer's batches), shown as rows done in `step`;
    the step itself ends when its owner says so."""
    return lambda message, fraction: sink(message, min(fraction, 0.999), int(fraction * n), n, step=step)


@contextmanager
def _step(args: argparse.Namespace, name: str, rows: int) -> Iterator[None]:
    """A step with no loop of its own to report from: its start, then its rows and total time."""
    sink = _progress(args)
    sink(f"{name}: {rows:,} rows", 0.0, step=name)
    yield
    sink(f"{name}: done", 1.0, rows, rows, step=name)


def _options(args: argparse.Namespace, *, auto: bool = True) -> LoadOptions:
    """Loader options from the flags; an unmapped table whose text clearly sits in one column is mapped to it,
    with a line on stderr naming the column and how to override it (analysis/io/text_guard.py)."""
    text_col = getattr(args, "text", None)
    if text_col and getattr(args, "map", None):
        raise ValueError("give either --text COLUMN or --map ROLE=COLUMN,..., not both")
    mapping = parse_mapping(args.map) if getattr(args, "map", None) else None
    if text_col:
        from analysis.io.text_guard import role_for

        mapping = {role_for(text_col): text_col}
    header = {"yes": True, "no": False}.get(getattr(args, "header", None) or "")
    quoting = {"yes": True, "no": False}.get(getattr(args, "quoting", None) or "")
    expansion = getattr(args, "max_expansion", None)
    opts = LoadOptions(kind=getattr(args, "kind", None), mapping=mapping, skip_bad_lines=args.skip_bad_lines,
                       header=header, format=getattr(args, "format_in", None), quoting=quoting,
                       **({"max_expansion": expansion} if expansion is not None else {}))
    target = getattr(args, "path", None) or getattr(args, "workspace_or_path", None)
    if auto and target and mapping is None and opts.kind is None:
        opts = _auto_mapped(target, opts, args)
    return opts


def _auto_mapped(target: str, opts: LoadOptions, args: argparse.Namespace) -> LoadOptions:
    """`opts` with the suggested text column mapped, when `target` is data (not a workspace) and an unmapped table."""
    from analysis.io import resolve_paths
    from analysis.io.text_guard import peek_records, suggest_for_files
    from analysis.workspace.folder import META_FILE

    p = Path(target).expanduser()
    if p.is_dir() and (p / META_FILE).exists():
        return opts
    try:
        files = resolve_paths(target)
        found = suggest_for_files(peek_records(target, files, header=opts.header, fmt=opts.format))
    except (LoadError, ValueError, OSError):
        return opts  # the real load reports what is wrong with the input
    if found is None:
        return opts
    if not getattr(args, "auto_notice_shown", False):
        args.auto_notice_shown = True
        sys.stderr.write(f"sift {args.command}: {p.name} has no known schema; reading column '{found.column}' as "
                         f"the {found.role} ({found.why}). Override: --text COLUMN, or --map ROLE=COLUMN,...\n")
    return dataclasses.replace(opts, mapping=found.mapping)


TEXT_FIX = "`--map {mapping}` (or `--text COLUMN`)"


def need_text(ws: Any, scope: str, what: str) -> None:
    """Stop (exit 2, one line naming the mapping) when the workspace's rows have (almost) no `scope` text."""
    from analysis.space.pipeline import require_text

    require_text(ws.dataset.rows, ws.dataset.info, scope, what, fix=TEXT_FIX)


def _add_load_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--map", metavar="ROLE=COL,...", help="map columns to roles: prompt, response, system, chosen, "
                   "rejected, score, text, messages (e.g. --map prompt=Question,response='Best Answer')")
    p.add_argument("--text", metavar="COL", help="the column that holds the text of a table with no known schema "
                   "(a question-like name maps it as the prompt, a text-like one as text); overrides the column "
                   "Sift picks by itself")
    p.add_argument("--kind", choices=list(KINDS),
                   help="override the detected kind (docs/formats.md: which shapes each kind reads)")
    p.add_argument("--skip-bad-lines", action="store_true",
                   help="load what parses and report every skipped record (default: stop at the first)")
    p.add_argument("--header", choices=["yes", "no"], help="CSV/TSV: does the first row name the columns? "
                   "(default: detected)")
    p.add_argument("--quoting", choices=["yes", "no"], help="CSV/TSV: honour \"quoted\" fields? (default: yes for "
                   "CSV, no for TSV, whose text often holds literal quotes)")
    p.add_argument("--max-expansion", type=float, metavar="X", help="refuse a .gz that expands more than X times "
                   f"its compressed size (a decompression bomb; default {DEFAULT_MAX_EXPANSION:g}, checked past the "
                   "first 32 MiB)")
    p.add_argument("--input-format", dest="format_in", choices=["jsonl", "json", "csv", "tsv", "parquet"],
                   help="override the format detected from the file name")


def cmd_info(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.io import load
    from analysis.workspace.folder import META_FILE, Workspace

    if (Path(args.path).expanduser() / META_FILE).is_file():
        ds = Workspace.from_dir(args.path).dataset  # a workspace: describe its dataset, not its own files
    else:
        ds = load(args.path, _options(args, auto=False), progress=_progress(args))  # describes, maps nothing
    info = ds.info.to_dict()
    kinds = ds.rows["kind"].value_counts().to_dict()
    return {"path": args.path, "format": info["format"], "kind": info["kind"], "rows": info["rows"],
            "fields": info["fields"], "field_counts": info["field_counts"], "kinds": kinds,
            "skipped_lines": info["skipped_lines"], "notices": info.get("notices", []),
            "files": [{k: f[k] for k in ("path", "format", "kind", "rows", "detection")} for f in info["files"]],
            "fingerprint": info["fingerprint"]}


def _print_info(doc: dict[str, Any]) -> None:
    print(f"{doc['path']}: {doc['rows']:,} rows, format {doc['format']}, kind {doc['kind']}")
    for f in doc["files"]:
        print(f"  {f['path']}: {f['rows']:,} rows, {f['format']}, {f['kind']} ({f['detection']})")
    print("  fields: " + ", ".join(f"{k} ({v:,})" for k, v in sorted(doc["field_counts"].items())))
    for notice in doc.get("notices", []):
        print(f"  note: {notice}")
    if doc["skipped_lines"]:
        print(f"  skipped {len(doc['skipped_lines'])} bad records:")
        for s in doc["skipped_lines"][:20]:
            print(f"    {s['file']} line {s['line']}: {s['error']}")


def _open_workspace(target: str, args: argparse.Namespace):  # noqa: ANN202 - Workspace, imported lazily
    from analysis.workspace.folder import META_FILE, Workspace

    p = Path(target).expanduser()
    if p.is_dir() and (p / META_FILE).exists():
        return Workspace.from_dir(p)
    return Workspace.open(target, _options(args), workspace=getattr(args, "workspace", None),
                          progress=_progress(args))


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.curation.export import check_target, export_dataset

    ws = _open_workspace(args.workspace_or_path, args)
    try:
        given = args.workspace_or_path
        check_target(ws.dataset, args.out, force=args.force, given=given)  # refuse before any work, and before progress
        with _step(args, f"export {Path(args.out).name}", len(ws.dataset.rows)):
            res = export_dataset(ws.dataset, ws.store, args.out, fmt=args.format, as_=args.as_,
                                 only_tags=args.only_tag or (), except_tags=args.except_tag or (),
                                 force=args.force, csv_raw=args.csv_raw, given=given)
    finally:
        ws.close()
    return {"out": res.out, "files": res.files, "rows_written": res.rows_written, "rows_dropped": res.rows_dropped,
            "rows_excluded": res.rows_excluded, "manifest": res.manifest, "dropped_log": res.dropped_log,
            "recipe": res.recipe, "csv_formulas_neutralised": res.csv_formulas_neutralised,
            "replaced": res.replaced, "warnings": res.warnings, "workspace": str(ws.dir)}


def _print_export(doc: dict[str, Any]) -> None:
    excluded = f", {doc['rows_excluded']:,} excluded by tags" if doc["rows_excluded"] else ""
    replaced = " (replaced the previous export)" if doc["replaced"] else ""
    print(f"wrote {doc['rows_written']:,} rows to {doc['out']}{replaced} ({doc['rows_dropped']:,} dropped{excluded})")
    names = [Path(f).name if Path(f).parent == Path(doc["out"]) else str(Path(f).relative_to(doc["out"]))
             for f in doc["files"]]
    print(f"  data: {', '.join(names) or 'none (no rows kept)'}; also manifest.json, dropped.jsonl, recipe.json")
    if doc["csv_formulas_neutralised"]:
        print(f"  {doc['csv_formulas_neutralised']:,} CSV cells began like a spreadsheet formula (= + - @ tab CR) "
              "and were prefixed with ' (--csv-raw keeps them as they are)")
    for w in doc["warnings"]:
        print(f"  note: {w}")


def cmd_analyze(args: argparse.Namespace) -> dict[str, Any]:
    import time as _time

    from analysis.space.embedders import load_embedder
    from analysis.space.fast_embedders import DEFAULT, LazyEmbedder, embedder_name, load_embedder_by_kind
    from analysis.space.pipeline import (
        AnalyzeOptions,
        cached_vectors,
        embed_reference,
        load_reference,
        require_text,
        run_analysis,
        run_coverage,
    )
    from analysis.space.projection import ProjectionParams
    from analysis.space.topics import TopicParams
    from analysis.workspace.folder import Workspace

    t = _time.perf_counter()
    if getattr(args, "reference_map", None) and not args.reference:
        raise ValueError("--reference-map maps the columns of --reference FILE: give the file too")
    ray_engine = getattr(args, "engine", "local") == "ray"
    # --engine ray embeds with minilm (the same vectors as the default onnx: analysis.space.embedders.same_vectors)
    kind = getattr(args, "embedder", None) or ("minilm" if ray_engine else DEFAULT)
    if ray_engine and kind != "minilm" and args.embed:
        raise ValueError(f"--embedder {kind} runs with --engine local; --engine ray embeds with minilm")
    if ray_engine:  # the same steps as Ray Data stages (analysis/run/ray_runner.py, docs/scale.md)
        from analysis.run import ray_runner

        ray_runner.init_ray(args.ray_address)
        ws = ray_runner.open_workspace(args.path, _options(args), workspace=args.workspace,
                                       progress=_progress(args))
    else:
        ws = Workspace.open(args.path, _options(args), workspace=args.workspace, progress=_progress(args))
    steps: list[dict[str, Any]] = [{"name": "load", "seconds": round(_time.perf_counter() - t, 3)}]
    doc: dict[str, Any] = {"workspace": str(ws.dir), "rows": len(ws.dataset.rows), "steps": steps,
                           "notices": list(ws.dataset.info.notices)}
    opts = AnalyzeOptions(embed=args.embed, scope=args.scope, model_path=args.model,
                          topics=TopicParams(method=args.topics_method, k=args.k, seed=args.seed),
                          projection=ProjectionParams(seed=args.seed), map_sample=args.map_sample)
    if ray_engine and args.embed:
        t = _time.perf_counter()
        ray_runner.embed_ray(ws, scope=args.scope, model_path=args.model, progress=_progress(args))
        steps.append({"name": f"embed:{args.scope}", "seconds": round(_time.perf_counter() - t, 3)})
    have = cached_vectors(ws, embedder_name(kind, args.model), args.scope) is not None
    if args.embed or have or args.reference:
        need_text(ws, args.scope, "embeddings, the map and topics")  # before any model is loaded
        ref_opts = _reference_options(args) if args.reference else None
        if args.reference:  # a reference without text stops here too, before any model or map is computed
            ref_ds, _ = load_reference(args.reference, ref_opts)
            require_text(ref_ds.rows, ref_ds.info, args.scope, "coverage against it", fix=REFERENCE_FIX)
        need_model = (args.embed and not ray_engine and not have) or args.reference  # cached: no model call
        if kind == "minilm":
            embedder = load_embedder(args.model) if need_model else None
        elif need_model:
            _prepare_model(args, kind, steps)
            embedder = load_embedder_by_kind(kind, args.model)
        else:  # cached vectors of this kind: found by name, no model loaded
            embedder = LazyEmbedder(kind, args.model)
        analysis, done = run_analysis(ws, opts, embedder=embedder, progress=_progress(args))
        steps += [{"name": s.name, "seconds": s.seconds} for s in done]
        doc["topics"] = int(len(analysis.topics.topics))
        doc["embeddings"] = analysis.model
        if args.reference:
            t = _time.perf_counter()
            ref = embed_reference(ws, args.reference, embedder, args.scope, options=ref_opts,
                                  progress=_progress(args), text_fix=REFERENCE_FIX)
            if ref.notice:
                sys.stderr.write(f"sift analyze: {ref.notice}. Override: --reference-map ROLE=COLUMN,...\n")
            with _step(args, "coverage", len(ref.rows)):
                report = run_coverage(ws, analysis, ref, params=opts.topics)
            steps.append({"name": "coverage", "seconds": round(_time.perf_counter() - t, 3)})
            doc["coverage"] = {"reference": args.reference, "reference_rows": len(ref.rows),
                               "reference_mapping": ref.mapping,
                               "under_covered": report.under()[["topic_id", "label", "train_share", "ref_share"]]
                               .head(10).to_dict("records"),
                               "collect_next_csv": str(ref.dir / "collect_next.csv")}
    if args.checks:
        _run_cli_checks(args, ws, doc, steps)
    elif not (args.embed or have or args.reference):
        doc["note"] = "workspace built; add --embed for embeddings, the map and topics, --checks all for findings"
    return doc


REFERENCE_FIX = "`--reference-map {mapping}`"


def _prepare_model(args: argparse.Namespace, kind: str, steps: list[dict[str, Any]]) -> None:
    """Export / distil `kind`'s model when the install step did not (a named, timed step, never hidden in a load)."""
    from analysis.space.fast_embedders import model_ready, prepare_model, prepare_step_name
    from analysis.util.progress import heartbeat

    if model_ready(kind, args.model):
        return
    t = time.perf_counter()
    name = f"prepare {kind} model"
    with heartbeat(_progress(args), f"{name}: building it once for this machine (make install does it ahead)",
                   step=name):
        prepare_model(kind, args.model)
    _progress(args)(f"{name}: done", 1.0, step=name)
    steps.append({"name": prepare_step_name(kind), "seconds": round(time.perf_counter() - t, 3)})


def _reference_options(args: argparse.Namespace) -> LoadOptions | None:
    """LoadOptions for `--reference`: `--reference-map ROLE=COL,...`, else None (detected, then auto-mapped)."""
    given = getattr(args, "reference_map", None)
    return LoadOptions(mapping=parse_mapping(given)) if given else None


def _run_cli_checks(args: argparse.Namespace, ws: Any, doc: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    """Named checks must run; with `all`, checks that need missing embeddings are skipped and listed.

    Checks that read embeddings (semantic_duplicate, outlier, contamination's paraphrase match) read those of the
    `--embedder` given (its cache name fills their `model` parameter unless `--check-param CHECK.model=` names
    one) and, when the workspace lacks them, compute them with it: a named check is a request to run it.
    """
    from analysis.checks import REGISTRY, CheckContext, run_checks
    from analysis.checks.semantic_duplicate import missing_embeddings, reads_embeddings, with_model
    from analysis.space.fast_embedders import LazyEmbedder

    ray_engine = getattr(args, "engine", "local") == "ray"
    kind = getattr(args, "embedder", None) or ("minilm" if ray_engine else DEFAULT_EMBEDDER)
    embedder = LazyEmbedder(kind, args.model)  # loads its model only if a check must compute embeddings
    params = _check_params(args.check_param)
    if args.benchmark:
        params.setdefault("contamination", {})["benchmarks"] = list(args.benchmark)
    if args.checks.strip() == "all":
        names, skipped = [], {}
        for name in sorted(REGISTRY):
            cls = REGISTRY[name]
            own = with_model(name, params.get(name, {}), embedder.name)
            if reads_embeddings(name, own):
                missing = missing_embeddings(cls.Params(**{k: v for k, v in own.items() if k in ("model", "scope")}),
                                             ws.dir, ws.dataset.rows)
            else:
                missing = cls.missing_inputs(ws.dir, ws.dataset.rows)
            if missing and not (name == "contamination" and args.benchmark):
                skipped[name] = missing + f" (or name it: `--checks {name} --embedder {kind}` computes them)" \
                    if reads_embeddings(name, own) else missing
            else:
                names.append(name)
        if skipped:
            doc["skipped_checks"] = skipped
    else:
        names = [n.strip() for n in args.checks.split(",") if n.strip()]
    for name in names:
        params[name] = with_model(name, params.get(name, {}), embedder.name)
    if any(params.get(n, {}).get("scope") != "record" for n in names):  # record-scope checks read the source
        need_text(ws, "both", "the checks")
    ctx = CheckContext(ws.dataset.rows, ws.dir, extras={"embedder": embedder})
    if getattr(args, "engine", "local") == "ray":
        from analysis.run.ray_runner import run_checks_ray

        results = run_checks_ray(ws.dataset.rows, names, ws_dir=ws.dir, params=params, progress=_progress(args),
                                 extras={"embedder": embedder})
    else:
        results = run_checks(ws.dataset.rows, names, ws_dir=ws.dir, params=params, ctx=ctx, progress=_progress(args))
    steps += [{"name": f"check:{n}", "seconds": r.summary.get("seconds", 0.0)} for n, r in results.items()]
    doc["checks"] = {n: r.rows_flagged for n, r in results.items()}


def _check_params(pairs: list[str] | None) -> dict[str, dict[str, Any]]:
    """`--check-param exact_duplicate.scope=prompt` (repeatable) -> {"exact_duplicate": {"scope": "prompt"}}."""
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        check, dot, key = name.partition(".")
        if not (sep and dot and check and key):
            raise ValueError(f"bad --check-param {pair!r}: expected CHECK.PARAM=VALUE")
        out.setdefault(check.strip(), {})[key.strip()] = _scalar(value.strip())
    return out


def _scalar(text: str) -> Any:
    """CLI values: JSON when it parses (numbers, true/false, lists), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_findings(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.checks import latest_results

    ws = _open_workspace(args.workspace_or_path, args)
    latest = latest_results(ws.dir)
    if not latest:
        raise LoadError(f"no findings in {ws.dir} yet: run `sift analyze PATH --checks all` first")
    checks = [{"name": name, "rows_flagged": int(info["summary"].get("rows_flagged", 0)),
               "share_flagged": float(info["summary"].get("share_flagged", 0.0)),
               "groups": int(info["summary"].get("groups", 0)),
               "rows_removable": int(info["summary"].get("rows_removable", 0)), "params": info["params"],
               "reasons": info["summary"].get("reasons", {}), "per_row": info["path"]}
              for name, info in latest.items()]
    return {"workspace": str(ws.dir), "rows": len(ws.dataset.rows), "checks": checks}


def _print_findings(doc: dict[str, Any]) -> None:
    print(f"findings in {doc['workspace']} ({doc['rows']:,} rows)")
    for c in doc["checks"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(c["reasons"].items(), key=lambda kv: -kv[1])[:4])
        groups = f", {c['groups']:,} groups, {c['rows_removable']:,} removable" if c["groups"] else ""
        print(f"  {c['name']:<20} {c['rows_flagged']:>8,} rows ({c['share_flagged']:.1%}){groups}"
              + (f"  [{reasons}]" if reasons else ""))


def _print_analyze(doc: dict[str, Any]) -> None:
    print(f"workspace {doc['workspace']}: {doc['rows']:,} rows")
    for notice in doc.get("notices", []):
        print(f"  note: {notice}")
    for s in doc["steps"]:
        print(f"  {s['name']}: {s['seconds']:.1f}s")
    if "note" in doc:
        print(f"  {doc['note']}")
    for name, why in doc.get("skipped_checks", {}).items():
        print(f"  skipped check {name}: {why}")
    if "checks" in doc:
        print("  checks: " + ", ".join(f"{n} {k:,} flagged" for n, k in doc["checks"].items())
              + f" (sift findings {doc['workspace']})")
    if "topics" in doc:
        print(f"  {doc['topics']} topics (sift topics {doc['workspace']})")
    if "coverage" in doc:
        cov = doc["coverage"]
        print(f"  coverage against {cov['reference']} ({cov['reference_rows']:,} rows); under-covered topics:")
        for t in cov["under_covered"]:
            print(f"    {t['label']}: {t['ref_share']:.1%} of the reference vs {t['train_share']:.1%} of training")
        print(f"  what to collect next: {cov['collect_next_csv']}")


def cmd_topics(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.space.topics import read_topics

    ws = _open_workspace(args.workspace_or_path, args)
    result = read_topics(ws.dir)
    if result is None:
        raise LoadError(f"no topics in {ws.dir} yet: run `sift analyze PATH --embed` first")
    topics = [{"id": int(t.id), "label": str(t.label), "size": int(t.size), "share": float(t.share),
               "keywords": list(t.keywords), "examples": [int(x) for x in t.examples]}
              for t in result.topics.itertuples(index=False)]
    return {"workspace": str(ws.dir), "topics": topics, "per_row": str(ws.dir / "topics.parquet")}


def _print_topics(doc: dict[str, Any]) -> None:
    print(f"{len(doc['topics'])} topics in {doc['workspace']} (per row: {doc['per_row']})")
    for t in doc["topics"]:
        print(f"  [{t['id']:>3}] {t['size']:>7,} rows ({t['share']:.1%})  {t['label']}")


def cmd_apply(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.curation.recipe import apply_recipe

    given = (args.kind, args.map, args.skip_bad_lines, args.header, args.format_in, getattr(args, "quoting", None),
             getattr(args, "max_expansion", None))
    opts = _options(args, auto=False) if any(given) or args.text else None  # else the recipe's own
    if args.engine == "ray":
        from analysis.run import ray_runner

        ray_runner.init_ray(args.ray_address)
    result = apply_recipe(args.recipe, args.path, args.out, fmt=args.format, options=opts,
                          progress=_progress(args), engine=args.engine, subset=args.subset,
                          force=args.force)
    return result.to_dict()


def _print_apply(doc: dict[str, Any]) -> None:
    print(f"{doc['rows_written']:,} of {doc['rows_in']:,} rows written to {doc['out']} "
          f"(report: apply_report.json beside it)")
    for s in doc["steps"]:
        what = f"{s['check']} ({s['reason']})" if s.get("check") else s["reason"] or "drop"
        miss = f", {len(s['unmatched'])} row decisions found no match" if s["unmatched"] else ""
        print(f"  {s['op']} {what}: {s['rows_affected']:,} rows{miss}")


def _select_inputs(ws: Any, rows: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """(topic id per kept row or None, embeddings of the kept rows or None), both aligned with `rows`."""
    from analysis.prepare.selection import selection_inputs
    from analysis.space.embedders import model_name

    return selection_inputs(ws.dir, ws.dataset.rows["row_id"].to_numpy(), rows["row_id"].to_numpy(),
                            model=model_name(args.model), scope=args.scope)


def cmd_select(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.curation.export import select_rows
    from analysis.prepare.selection import fraction_key, nested_subsets, parse_fractions, select, selection_report
    from analysis.prepare.training_files import MANIFEST, write_nested, write_subsets

    if args.strategy and args.n is None:
        raise ValueError("--strategy needs --n N (how many rows to select)")
    if args.format and not args.out:
        raise ValueError("--format needs --out DIR")
    fractions = parse_fractions(args.nested) if args.nested else None
    ws = _open_workspace(args.workspace_or_path, args)
    try:
        rows, n_dropped, _ = select_rows(ws.dataset.rows, ws.store)
        strata, vectors = _select_inputs(ws, rows, args)
        fingerprint = ws.fingerprint
    finally:
        ws.close()
    doc: dict[str, Any] = {"workspace": str(ws.dir), "rows_available": len(rows), "rows_dropped": n_dropped,
                           "seed": args.seed}
    ids = rows["row_id"].to_numpy()
    if fractions is not None:
        subsets = nested_subsets(strata, fractions, args.seed, n=len(rows))
        doc.update(strategy="stratified-random", stratified_by="topic" if strata is not None else "none",
                   subsets={fraction_key(f): [int(i) for i in ids[pos]] for f, pos in subsets.items()})
        if args.out:
            with _step(args, f"write {args.format or 'messages'}", sum(len(p) for p in subsets.values())):
                write_nested(rows, subsets, args.out, args.format or "messages", seed=args.seed,
                             stratified_by=doc["stratified_by"], extra={"dataset": fingerprint},
                             skip_unsupported=args.skip_unsupported)
            doc["manifest"] = str(Path(args.out) / MANIFEST)
        return doc
    if args.strategy == "kcenter" and vectors is None:
        raise ValueError(f"kcenter needs embeddings of {ws.dir}: run `sift analyze PATH --embed` first")
    if args.strategy == "balanced" and strata is None:
        raise ValueError(f"balanced needs topics of {ws.dir}: run `sift analyze PATH --embed` first")
    with _step(args, f"select {args.strategy}", len(rows)):
        pos = select(args.strategy, args.n, args.seed, vectors=vectors, strata=strata, n=len(rows))
    doc.update(strategy=args.strategy, n=args.n, row_ids=[int(i) for i in ids[pos]])
    if strata is not None or vectors is not None:
        report = selection_report(vectors, strata, {args.strategy: pos}, include_full=False).summary
        doc["report"] = {k: v for k, v in report.iloc[0].to_dict().items() if v == v and k != "strategy"}  # no NaN
    if args.out:
        meta = {"kind": "selection", "strategy": args.strategy, "n": args.n, "seed": args.seed,
                "dataset": fingerprint}
        with _step(args, f"write {args.format or 'messages'}", len(pos)):
            write_subsets(rows, {f"{args.strategy}_n{args.n}": pos}, args.out, args.format or "messages",
                          manifest=meta, prefix="selection", skip_unsupported=args.skip_unsupported)
        doc["manifest"] = str(Path(args.out) / MANIFEST)
    return doc


def _print_select(doc: dict[str, Any]) -> None:
    head = f"{doc['rows_available']:,} rows available ({doc['rows_dropped']:,} dropped), seed {doc['seed']}"
    if "subsets" in doc:
        print(f"nested subsets ({doc['strategy']}, stratified by {doc['stratified_by']}); {head}")
        for f, ids in doc["subsets"].items():
            print(f"  {f}: {len(ids):,} rows")
    else:
        print(f"{doc['strategy']}: {len(doc['row_ids']):,} rows; {head}")
        rep = doc.get("report", {})
        if "topics_covered" in rep:
            print(f"  topics covered: {rep['topics_covered']} of {rep['topics_total']}")
        if "coverage_radius" in rep:
            print(f"  coverage radius {rep['coverage_radius']:.3f}, mean NN distance {rep['mean_nn_distance']:.3f}")
        print("  row ids: " + ", ".join(map(str, doc["row_ids"][:20])) + (" ..." if len(doc["row_ids"]) > 20 else ""))
    if "manifest" in doc:
        print(f"  written with manifest {doc['manifest']}")


def cmd_tokens(args: argparse.Namespace) -> dict[str, Any]:
    """Run the `token_length` check (cached like any check) and point at its per-row table."""
    from analysis.checks import CheckContext, run_checks
    from analysis.tokens.counts import load_tokenizer, read_token_table, row_token_table, tokens_path, write_token_table
    from analysis.tokens.templates import load_template

    if args.max_len < 1:
        raise ValueError(f"--max-len must be a positive number of tokens, got {args.max_len}")
    tokenizer = load_tokenizer(args.tokenizer)  # bad --tokenizer / --template: exit 2 before any work
    template = load_template(args.template, tokenizer)
    ws = _open_workspace(args.workspace_or_path, args)
    rows = ws.dataset.rows
    params = {"tokenizer": args.tokenizer, "template": args.template, "max_len": args.max_len}
    sink = _progress(args)
    ctx = CheckContext(rows, ws.dir, extras={"progress": _as_rows(sink, "check token_length", len(rows))})
    result = run_checks(rows, ["token_length"], ws_dir=ws.dir, params={"token_length": params}, ctx=ctx,
                        progress=sink)
    summary = result["token_length"].summary
    row_ids = rows["row_id"].to_numpy()
    if read_token_table(ws.dir, tokenizer.name, template.name, max_len=args.max_len, row_ids=row_ids) is None:
        frame = row_token_table(rows, tokenizer, template, max_len=args.max_len,
                                progress=_as_rows(sink, "token table", len(rows)))
        write_token_table(ws.dir, frame, tokenizer.name, template.name)  # the cached result's table was replaced
    return {"workspace": str(ws.dir), "rows": len(rows), "tokenizer": summary["tokenizer"],
            "template": summary["template"], "max_len": args.max_len, "rows_over": summary["rows_over"],
            "tokens_total": summary["tokens_total"], "tokens_max": summary["tokens_max"],
            "tokens_cut_total": summary["tokens_cut_total"], "template_errors": summary["template_errors"],
            "per_row": str(tokens_path(ws.dir, tokenizer.name, template.name))}


def _print_tokens(doc: dict[str, Any]) -> None:
    print(f"{doc['rows']:,} rows, {doc['tokens_total']:,} tokens (tokenizer {doc['tokenizer']}, "
          f"template {doc['template']}); longest row {doc['tokens_max']:,}")
    print(f"  {doc['rows_over']:,} rows over {doc['max_len']:,} tokens ({doc['tokens_cut_total']:,} tokens cut)")
    if doc["template_errors"]:
        print(f"  {doc['template_errors']:,} rows the template refuses (see sift findings)")
    print(f"  per row: {doc['per_row']}")


def _add_target(p: argparse.ArgumentParser) -> None:
    """WORKSPACE: a workspace folder, or a data path whose workspace is opened (or built)."""
    p.add_argument("workspace_or_path", metavar="WORKSPACE", help="workspace folder, or the dataset path")
    p.add_argument("--workspace", help="when WORKSPACE is a data path: the workspace folder to use")


def _finish(p: argparse.ArgumentParser, func: Any, printer: Any) -> None:
    """What every command shares: the loader options, `--json`, and its handler and human printer."""
    _add_load_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help="progress on stderr even when it is not a terminal or with --json (plain lines)")
    shown.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help="no progress on stderr (default: shown on a terminal, without --json)")
    p.set_defaults(func=func, printer=printer)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sift", description="Look at, measure and clean LLM finetuning data.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="load a file, folder or glob; print format, kind, rows, fields",
                       description="Load PATH, detect its format and kind, and count rows and fields.")
    p.add_argument("path", help="a data file (jsonl/json/csv/tsv/parquet, optionally .gz), a folder or a glob")
    _finish(p, cmd_info, _print_info)

    p = sub.add_parser("export", help="write the cleaned subset (rows minus drops) as a new export folder",
                       description="Export WORKSPACE (a workspace folder, or a data path whose workspace is "
                                   "opened or built) minus dropped rows into the folder --out: one data file per "
                                   "source file (named after it), manifest.json, dropped.jsonl and recipe.json. "
                                   "The folder appears whole or not at all.")
    _add_target(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the export folder to create (never inside a workspace or a source folder); an existing "
                        "export is replaced only with --force")
    p.add_argument("--format", choices=["jsonl", "parquet", "csv"], default="jsonl", help="default: jsonl")
    p.add_argument("--as", dest="as_", choices=["source", "messages"], default="source",
                   help="source: the original records; messages: normalised chat turns (default: source)")
    p.add_argument("--only-tag", action="append", metavar="TAG", help="keep only rows with this tag (repeatable)")
    p.add_argument("--except-tag", action="append", metavar="TAG", help="leave out rows with this tag (repeatable)")
    p.add_argument("--force", action="store_true", help="replace a previous Sift export at --out")
    p.add_argument("--csv-raw", action="store_true",
                   help="CSV: keep cells that start with = + - @ tab or CR as they are (default: prefix them with ' "
                        "so a spreadsheet shows them as text instead of running them as formulas)")
    _finish(p, cmd_export, _print_export)
    p = sub.add_parser("analyze", help="build or update a workspace: embeddings, kNN index, map, topics, coverage",
                       description="Load PATH into its workspace and (with --embed) compute embeddings, the kNN "
                                   "index, the 2-D map and topics; with --reference, the coverage gap.")
    p.add_argument("path", help="a data file, folder or glob")
    p.add_argument("--workspace", help="workspace folder (default: $SIFT_HOME/workspaces/<fingerprint>)")
    p.add_argument("--embed", action="store_true", help="compute embeddings (resumable; progress on stderr)")
    p.add_argument("--scope", choices=["prompt", "response", "both"], default="both",
                   help="which text to embed (default: both = the whole conversation)")
    p.add_argument("--model", help="a local sentence-transformers folder (default: the packaged all-MiniLM-L6-v2)")
    p.add_argument("--embedder", choices=list(EMBEDDER_KINDS), default=None,
                   help=f"{DEFAULT_EMBEDDER} (default): all-MiniLM-L6-v2 through ONNX Runtime, the same vectors as "
                        "minilm (sentence-transformers), faster; onnx-int8: int8 weights, faster still, "
                        "near-identical; static: a model distilled from it (instant, rougher). Each kind keeps "
                        "its own embeddings (bench/README.md, Faster embeddings). With --engine ray: minilm")
    p.add_argument("--reference", help="a second file (production prompts, an eval set) to measure coverage against")
    p.add_argument("--reference-map", metavar="ROLE=COL,...", help="map the reference file's columns to roles (as "
                   "--map does), e.g. --reference-map prompt=turns; default: detected, and a table with no known "
                   "schema is mapped to the column that clearly holds its text (said on stderr)")
    p.add_argument("--topics-method", choices=["kmeans", "hdbscan", "agglomerative"], default="kmeans")
    p.add_argument("--k", type=int, help="number of topics for kmeans/agglomerative (default: chosen from the size)")
    p.add_argument("--seed", type=int, default=42, help="seed for a reproducible map and topics (default 42)")
    p.add_argument("--map-sample", type=int, metavar="N", help="fit the map's UMAP on N sampled rows and place the "
                   "rest by their nearest sampled rows (k-means topics on max(N, 20000)); 0: fit on every row. "
                   "Default: sampled above 20,000 rows for --embedder static, above 100,000 for the others")
    p.add_argument("--checks", metavar="all|NAME,...", help="run data-quality / duplicate checks (see sift findings)")
    p.add_argument("--check-param", action="append", metavar="CHECK.PARAM=VALUE",
                   help="a check parameter, e.g. exact_duplicate.scope=prompt (repeatable)")
    p.add_argument("--benchmark", action="append", metavar="FILE",
                   help="a benchmark/eval set (any loadable format) the contamination check compares against "
                        "(repeatable)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local (default) or ray: load, checks and embeddings as Ray Data stages (docs/scale.md)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --engine ray: a cluster to join (auto, ray://HOST:10001); default: start a local "
                        "Ray on this machine's CPUs")
    _finish(p, cmd_analyze, _print_analyze)

    p = sub.add_parser("findings", help="what the checks found (run them with sift analyze --checks)",
                       description="Summarise the latest result of every check run on WORKSPACE: rows flagged, "
                                   "groups, rows removable, parameters and reason codes.")
    _add_target(p)
    _finish(p, cmd_findings, _print_findings)

    p = sub.add_parser("topics", help="the topic clusters of an analysed workspace",
                       description="List topics (id, label, size, example rows) of WORKSPACE; the per-row table is "
                                   "WORKSPACE/topics.parquet (row_id, topic_id, topic_label).")
    _add_target(p)
    _finish(p, cmd_topics, _print_topics)

    p = sub.add_parser("apply", help="replay a recipe.json (from sift export) on another file or version",
                       description="Replay RECIPE on PATH: re-run each check-based step with its parameters, apply "
                                   "row decisions by content hash, and write the kept rows (source records) to "
                                   "--out, with apply_report.json beside it. PATH is never modified.")
    p.add_argument("recipe", metavar="RECIPE", help="a recipe.json written by sift export or the app, or the export "
                                                     "folder holding it")
    p.add_argument("path", metavar="PATH", help="the data to apply it to (file, folder or glob)")
    p.add_argument("--out", required=True, help="output file (jsonl/parquet/csv by suffix)")
    p.add_argument("--format", choices=["jsonl", "parquet", "csv"], help="default: from --out's suffix")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: load and run the check steps as Ray Data stages (docs/scale.md)")
    p.add_argument("--ray-address", help="with --engine ray: a cluster address (auto, ray://...); default: local Ray")
    p.add_argument("--subset", help="RECIPE is a selection manifest: which subset to keep (default: the largest)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file (refused by default)")
    _finish(p, cmd_apply, _print_apply)

    p = sub.add_parser("select", help="choose a training subset: N rows by a strategy, or nested fractions",
                       description="Select from WORKSPACE's rows (dropped rows excluded): --strategy random|kcenter|"
                                   "balanced --n N, or nested stratified subsets with --nested 0.25,0.5,1 (each "
                                   "contained in the next). With --out, write them in a training format plus "
                                   "manifest.json.")
    _add_target(p)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--strategy", choices=["random", "kcenter", "balanced"],
                     help="random; kcenter: farthest-point on the embeddings; balanced: equal rows per topic")
    how.add_argument("--nested", metavar="F,F,...", help="nested fractions in (0, 1], stratified by topic")
    p.add_argument("--n", type=int, help="rows to select (with --strategy)")
    p.add_argument("--seed", type=int, default=0, help="seed: the same seed gives the same rows (default 0)")
    p.add_argument("--scope", choices=["prompt", "response", "both"],
                   help="which embeddings kcenter uses (default: the topics' scope, else the first found)")
    p.add_argument("--model", help="the embedding model folder the workspace was analysed with (default: packaged)")
    p.add_argument("--out", metavar="DIR", help="write the selection here (one file per subset + manifest.json)")
    p.add_argument("--format", choices=["alpaca", "sharegpt", "messages", "trl", "trl_chat"],
                   help="training format for --out (default: messages)")
    p.add_argument("--skip-unsupported", action="store_true",
                   help="skip rows the format cannot express (listed in the manifest) instead of stopping")
    _finish(p, cmd_select, _print_select)

    p = sub.add_parser("tokens", help="token counts per row under a chat template, rows over a max length",
                       description="Render every row of WORKSPACE through a chat template, count tokens with an "
                                   "offline tokenizer (never downloaded) and flag rows over --max-len (the "
                                   "token_length check); the per-row table is WORKSPACE/tokens/"
                                   "<tokenizer>@<template>.parquet (row_id, tokens, tokens_cut, cut_turn).")
    _add_target(p)
    p.add_argument("--tokenizer", default="qwen2.5-72b-instruct", metavar="NAME|PATH",
                   help="a bundled Qwen tokenizer (qwen2.5-72b-instruct, qwen3.6-27b, ...), a tokenizer.json or "
                        "a tokenizer folder (default: qwen2.5-72b-instruct)")
    p.add_argument("--template", default="auto", metavar="NAME|PATH",
                   help="chatml, llama3, alpaca, a Jinja file or a tokenizer_config.json (default: auto = the "
                        "tokenizer folder's chat_template, else chatml)")
    p.add_argument("--max-len", type=int, default=4096, metavar="N",
                   help="the trainer's max sequence length in tokens (default 4096)")
    _finish(p, cmd_tokens, _print_tokens)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.progress_sink = StderrProgress(_show_progress(args))
    try:
        try:
            doc = args.func(args)
        finally:
            args.progress_sink.close()  # end a running line before the result or the error line
    except (LoadError, ValueError) as exc:
        sys.stderr.write(f"sift {args.command}: error: {exc}\n")
        return EXIT_BAD_INPUT
    except OSError as exc:  # unreadable input, unwritable --out: still one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"sift {args.command}: error: {where}{exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    else:
        args.printer(doc)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
