"""Findings page: run the registered checks, one line per check, drill into one, act on what it found."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.checks import REGISTRY, CheckContext, latest_results, load_result, run_checks
from analysis.checks.semantic_duplicate import EMBEDDING_CHECKS, missing_embeddings, with_model
from analysis.curation.recipe import check_rule
from analysis.explore.filters import preview_column
from analysis.io.text_guard import no_text_message, records_of, suggest_text_column, text_coverage
from analysis.space.fast_embedders import LazyEmbedder, embedder_name
from analysis.util.spans import locate
from components.actions import show_pending_toast
from components.charts import histogram
from components.context import require_workspace
from components.example_view import render_example
from components.state import frame, uploads_dir

session, ws, store = require_workspace()
df = frame(ws)
show_pending_toast()
st.title("Findings")
row_ids = df["row_id"].to_numpy(dtype=np.int64)

with st.expander("Run checks", expanded=not latest_results(ws.dir)):
    bench_paths = [b.strip() for b in st.text_area(
        "Benchmark / eval files for `contamination` (one path per line; any loadable format)",
        key="findings_benchmarks", height=68).splitlines() if b.strip()]
    upload = st.file_uploader("…or upload benchmark files", key="findings_bench_upload", accept_multiple_files=True,
                              type=["jsonl", "json", "csv", "tsv", "txt", "parquet", "gz"])
    for up in upload or []:
        data = up.getvalue()
        target = uploads_dir() / hashlib.sha256(data).hexdigest()[:16] / Path(up.name).name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        bench_paths.append(str(target))
    # checks that read embeddings read (or compute) those of the Map's embedder, never a fixed MiniLM (issue 13.7)
    model = embedder_name(session.embedder, session.model_path)

    def _missing(n: str) -> str | None:
        if n in EMBEDDING_CHECKS:
            why = missing_embeddings(REGISTRY[n].Params(model=model), ws.dir, ws.dataset.rows)
            return f"{why}; select it to compute them now ({session.embedder})" if why else None
        return REGISTRY[n].missing_inputs(ws.dir, ws.dataset.rows)

    missing = {n: why for n in sorted(REGISTRY) if (why := _missing(n))}
    if bench_paths:
        missing.pop("contamination", None)
    ready = [n for n in sorted(REGISTRY) if n not in missing]
    chosen = st.multiselect("Checks", sorted(REGISTRY), default=ready, key="findings_checks")
    for n, why in missing.items():
        st.caption(f"`{n}` cannot run yet: {why}")
    params: dict[str, dict] = {}
    for name in chosen:
        cls = REGISTRY[name]
        defaults = cls.Params()
        with st.popover(f"{name} parameters"):
            st.caption(cls.description or (cls.__doc__ or "").strip().split("\n")[0])
            values = {}
            for f in fields(cls.Params):
                default = getattr(defaults, f.name)
                if f.name == "model" and (name in EMBEDDING_CHECKS or name == "contamination"):
                    default = model  # shown and used: the embeddings of the Map's embedder
                key = f"findings_p_{name}_{f.name}"
                if isinstance(default, bool):
                    values[f.name] = st.checkbox(f.name, value=default, key=key)
                elif isinstance(default, int):
                    values[f.name] = int(st.number_input(f.name, value=default, step=1, key=key))
                elif isinstance(default, float):
                    values[f.name] = float(st.number_input(f.name, value=default, key=key, format="%.3f"))
                elif isinstance(default, str):
                    values[f.name] = st.text_input(f.name, value=default, key=key)
            params[name] = {k: v for k, v in values.items() if v != getattr(defaults, k) and k != "model"}
            if values.get("model") not in (None, model):  # a model typed in by hand is kept as given
                params[name]["model"] = values["model"]
            params[name] = with_model(name, params[name], model)
            if name == "contamination" and bench_paths:
                params[name]["benchmarks"] = tuple(bench_paths)
    text = text_coverage(ws.dataset.rows, "both")
    if not text.ok:  # checks over empty strings find nothing true about the data: say which mapping to make
        info = ws.dataset.info
        found = suggest_text_column(records_of(ws.dataset.rows)) if info.kind == "table" or info.options.mapping \
            else None
        st.error(no_text_message(text, name=Path(info.path).name, kind=info.kind, fields=info.fields,
                                 what="the checks", suggestion=found,
                                 fix="choose the text column on the Data page ({mapping})"))
        st.page_link("pages/data.py", label="Map the text column on the Data page", icon=":material/table_view:")
    if st.button("Run checks", type="primary", key="findings_run", disabled=not chosen or not text.ok):
        bar = st.progress(0.0, text="Running checks …")
        ctx = CheckContext(ws.dataset.rows, ws.dir, extras={"embedder": LazyEmbedder(session.embedder,
                                                                                     session.model_path)})
        for i, name in enumerate(chosen):  # one at a time: a check that cannot run must not stop the others
            bar.progress(i / len(chosen), text=f"check {name} ({i + 1} of {len(chosen)})")
            try:
                run_checks(ws.dataset.rows, [name], ws_dir=ws.dir, params={name: params.get(name, {})}, ctx=ctx)
            except ValueError as exc:
                st.error(f"{name}: {exc}")
        bar.empty()

latest = latest_results(ws.dir)
if not latest:
    st.info("No checks have run on this dataset yet: choose checks above and press Run checks "
            "(or `sift analyze PATH --checks all`).")
    store.close()
    st.stop()

summary = pd.DataFrame([{"check": name, "rows flagged": info["summary"].get("rows_flagged", 0),
                         "share": info["summary"].get("share_flagged", 0.0),
                         "groups": info["summary"].get("groups", 0),
                         "removable": info["summary"].get("rows_removable", 0),
                         "top reasons": ", ".join(f"{k} ({v})" for k, v in sorted(
                             info["summary"].get("reasons", {}).items(), key=lambda kv: -kv[1])[:3])}
                        for name, info in latest.items()])
st.dataframe(summary, hide_index=True, key="findings_summary",
             column_config={"share": st.column_config.ProgressColumn(format="percent")})

name = st.selectbox("Drill into", list(latest), key="findings_pick")
result = load_result(ws.dir, name, latest[name]["params"], row_ids)
if result is None:
    st.warning("This result was computed for another version of the rows; run the check again.")
    store.close()
    st.stop()
st.caption(f"parameters: {latest[name]['params']}")
left, right = st.columns(2)
with left:
    st.plotly_chart(histogram(result.score, title=f"{name}: score", x_label="score", integer=False, log_y=True),
                    key="findings_hist")
with right:
    reasons = result.reasons()
    st.dataframe(pd.DataFrame({"reason": list(reasons), "rows": list(reasons.values())}), hide_index=True,
                 key="findings_reasons")

codes = sorted(reasons)
reason_col = result.reason.astype(object)
if len(codes) > 50:  # e.g. one dup_of:<row_id> per duplicate group: choose by prefix, not among thousands of codes
    prefixes = np.array([str(r).split(":", 1)[0] for r in reason_col], dtype=object)
    options = sorted({c.split(":", 1)[0] for c in codes})
    pick = st.multiselect("Reasons (by kind)", options, default=options, key=f"findings_prefixes_{name}") \
        if len(options) > 1 else options
    mask = result.is_issue & np.isin(prefixes, pick)
else:
    pick = st.multiselect("Reasons", codes, default=codes, key=f"findings_codes_{name}") if len(codes) > 1 else codes
    mask = result.is_issue & np.isin(reason_col, pick)
sel = df[mask]
st.markdown(f"**{int(mask.sum()):,}** rows flagged by `{name}`" + (f" ({', '.join(pick)})" if pick else ""))
table = pd.DataFrame({"row": sel["row_id"].to_numpy(), "reason": result.reason[mask].astype(str),
                      "score": np.round(result.score[mask], 3), "group": result.group_id[mask],
                      "question": preview_column(sel["last_user"], 100).to_numpy(),
                      "response": preview_column(sel["response"], 100).to_numpy()})
evidence = result.evidence_or_empty()[mask]
if any(evidence):
    table.insert(2, "evidence", preview_column(pd.Series(evidence, dtype=str), 80).to_numpy())
st.dataframe(table.head(1000), hide_index=True, key="findings_rows", height=min(38 + 35 * max(len(table), 1), 380))
if len(table) > 1000:
    st.caption(f"showing the first 1,000 of {len(table):,}")

removable = result.removable() & mask
c1, c2 = st.columns(2)
if c1.button(f"Flag these {int(mask.sum()):,} rows", key="findings_flag", disabled=not mask.any()):
    for code in sorted(set(result.reason[mask].astype(str))):
        ids = df.loc[mask & (result.reason.astype(str) == code), "row_id"].astype(int).tolist()
        store.flag(ids, reason=f"{name}: {code}")
    st.session_state["sift_toast"] = f"Flagged {int(mask.sum()):,} rows"
    st.rerun()
label = "removable (all but each group's kept member)" if result.keep is not None else "flagged"
if c2.button(f"Drop the {int(removable.sum()):,} {label} rows", key="findings_drop", type="primary",
             disabled=not removable.any()):
    codes_in = sorted(set(result.reason[removable].astype(str)))
    group_check = result.keep is not None  # its codes name row ids (dup_of:<id>): the rule replays all groups
    if len(codes_in) <= 50:
        for code in codes_in:
            ids = df.loc[removable & (result.reason.astype(str) == code), "row_id"].astype(int).tolist()
            rule = check_rule(name, latest[name]["params"], [] if group_check else [code], removable=group_check)
            store.drop(ids, reason=f"{name}: {code}", rule=rule)
    else:
        store.drop(df.loc[removable, "row_id"].astype(int).tolist(),
                   reason=f"{name} ({len(codes_in):,} reasons; per-row reasons in results/{name}@…parquet)",
                   rule=check_rule(name, latest[name]["params"], [] if group_check else codes_in,
                                   removable=group_check))
    st.session_state["sift_toast"] = f"Dropped {int(removable.sum()):,} rows"
    st.rerun()

st.divider()
open_id = st.number_input("Open row id", min_value=int(row_ids.min()), max_value=int(row_ids.max()), step=1,
                          value=int(sel["row_id"].iloc[0]) if len(sel) else None, key=f"findings_row_{name}")
if open_id is not None:
    hit = df.index[df["row_id"] == int(open_id)]
    if len(hit):
        pos = int(df.index.get_loc(hit[0]))
        st.caption(f"{name}: reason `{result.reason[pos] or '—'}`, score {result.score[pos]:.3f}")
        span = str(result.evidence_or_empty()[pos] or "")
        if span:
            row = df.loc[hit[0]]
            hits = locate(row["messages"], span, source=str(row["source"]))
            for h in hits:  # plain text only: the span is marked with ⟦ ⟧, never with HTML
                where = "source record" if h.turn < 0 else f"turn {h.turn + 1} ({h.role})"
                st.caption(f"offending span in {where}")
                st.code(h.snippet, language=None, wrap_lines=True)
            if not hits:
                st.caption("evidence (normalised; not found verbatim in the row)")
                st.code(span, language=None, wrap_lines=True)
        item = next((e for e in result.summary.get("evidence", []) if isinstance(e, dict)
                     and e.get("row_id") == int(open_id) and "benchmark_text" in e), None)
        if item is not None:  # contamination: the benchmark item this row matched
            how = (f"{item['overlap']:.0%} of its n-grams" if item["method"] == "ngram"
                   else f"paraphrase, cosine {item['score']:.3f}")
            st.caption(f"matches `{item['benchmark']}` row {item['benchmark_row_id']} ({how})")
            st.code(item["benchmark_text"], language=None, wrap_lines=True)
        render_example(df.loc[hit[0]], store, key="findings_ex")
store.close()
