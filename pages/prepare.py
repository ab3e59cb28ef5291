"""Prepare page: from curated rows to a training set — tokens under a chat template against a max length, nested
subsets for data-scaling runs or a diversity-aware selection, a leak-free eval split, training-format files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.checks import REGISTRY, CheckContext, load_result, run_checks
from analysis.curation.export import select_rows
from analysis.curation.recipe import check_rule
from analysis.explore.filters import preview_column
from analysis.prepare.selection import (
    duplicate_groups,
    fraction_key,
    nested_subsets,
    parse_fractions,
    select,
    selection_inputs,
    selection_report,
    split_train_eval,
)
from analysis.prepare.training_files import SUFFIX, TRAINING_FORMATS, write_nested, write_subsets, write_training
from analysis.space.embedders import model_name
from analysis.tokens.counts import DEFAULT_TOKENIZER, qwen_names, token_budget
from analysis.tokens.templates import BUILTINS, load_template, render, turn_tokens
from analysis.workspace.folder import sift_home
from components.actions import show_pending_toast
from components.charts import histogram
from components.context import require_workspace
from components.state import frame, get_tokenizer

OTHER_TOKENIZER = "a tokenizer.json or tokenizer folder …"
OTHER_TEMPLATE = "a Jinja file or tokenizer_config.json …"

session, ws, store = require_workspace()
df = frame(ws)
show_pending_toast()
st.title("Prepare")
st.caption("What the model will see, and which rows go into which training file.")
row_ids = df["row_id"].to_numpy(dtype=np.int64)

# ---------------------------------------------------------------------------------------------- tokens
st.subheader("Tokens under a chat template")
c1, c2, c3 = st.columns(3)
names = qwen_names()
tok_pick = c1.selectbox("Tokenizer", [*names, OTHER_TOKENIZER], index=names.index(DEFAULT_TOKENIZER)
                        if DEFAULT_TOKENIZER in names else 0, key="prep_tokenizer",
                        help="Bundled Qwen BPE files (offline), or your own tokenizer.json / folder")
tok_spec = c1.text_input("Tokenizer path", key="prep_tokenizer_path").strip() if tok_pick == OTHER_TOKENIZER \
    else tok_pick
templates = ["auto", *BUILTINS, OTHER_TEMPLATE]
tpl_pick = c2.selectbox("Chat template", templates, key="prep_template",
                        help="auto: the tokenizer folder's own chat_template, else ChatML")
tpl_spec = c2.text_input("Template path", key="prep_template_path").strip() if tpl_pick == OTHER_TEMPLATE \
    else tpl_pick
max_len = int(c3.number_input("Max sequence length (tokens)", min_value=8, max_value=1_048_576, value=4096,
                              step=256, key="prep_max_len"))

result = None
tokenizer = template = None
if tok_spec and tpl_spec:
    try:
        tokenizer = get_tokenizer(tok_spec)
        template = load_template(tpl_spec, tokenizer)
    except (ValueError, OSError) as exc:
        st.error(f"Cannot use this tokenizer/template: {exc}")
if tokenizer is not None and template is not None:
    params = {"tokenizer": tok_spec, "template": tpl_spec, "max_len": max_len}
    check = REGISTRY["token_length"](REGISTRY["token_length"].Params(**params))
    result = load_result(ws.dir, "token_length", check.params_dict(), row_ids)
    if result is None and st.button("Count tokens", type="primary", key="prep_count"):
        bar = st.progress(0.0, text="Rendering and counting …")
        ctx = CheckContext(ws.dataset.rows, ws.dir,
                           extras={"progress": lambda msg, f: bar.progress(min(max(f, 0.0), 1.0), text=msg)})
        try:
            result = run_checks(ws.dataset.rows, ["token_length"], ws_dir=ws.dir, ctx=ctx,
                                params={"token_length": params})["token_length"]
        except ValueError as exc:
            st.error(str(exc))
        bar.empty()

if result is not None:
    summary = result.summary
    per_row = pd.read_parquet(summary["per_row"]).set_index("row_id").reindex(row_ids)
    tokens = per_row["tokens"].to_numpy(np.int64)
    kept_ids = df["row_id"][~df["row_id"].isin(store.dropped_ids())].to_numpy()
    st.caption(f"Every number here: tokenizer `{summary['tokenizer']}`, template `{summary['template']}`, "
               f"max length {max_len:,}.")
    m = st.columns(4)
    m[0].metric("Rows over the limit", f"{int(summary['rows_over']):,}")
    m[1].metric("Tokens, all rows", f"{int(summary['tokens_total']):,}")
    m[2].metric("Tokens, rows kept", f"{token_budget(per_row.reset_index(), kept_ids):,}",
                help="the token budget of the current selection: every row not dropped")
    m[3].metric("Longest row", f"{int(summary['tokens_max']):,}")
    fig = histogram(tokens, title="Rendered length (tokens)", x_label="tokens")
    fig.add_vline(x=max_len, line_dash="dash", line_color="#E45756", annotation_text=f"max {max_len:,}")
    st.plotly_chart(fig, key="prep_hist")
    over = per_row["tokens_cut"].to_numpy() > 0
    if over.any():
        sel = df[over]
        turns = per_row["cut_turn"].to_numpy()[over]
        table = pd.DataFrame({"row": sel["row_id"].to_numpy(), "tokens": tokens[over],
                              "tokens cut": per_row["tokens_cut"].to_numpy()[over],
                              "cut from turn": [int(t) + 1 if t >= 0 else None for t in turns],
                              "question": preview_column(sel["last_user"], 90).to_numpy()})
        st.markdown(f"**{int(over.sum()):,}** rows are longer than {max_len:,} tokens (`too_long`); the trainer would "
                    "cut them from the turn shown.")
        st.dataframe(table.head(1000), hide_index=True, key="prep_over")
        if st.button(f"Drop the {int(over.sum()):,} rows over the limit", key="prep_drop_over"):
            store.drop(sel["row_id"].astype(int).tolist(), reason="token_length: too_long",
                       rule=check_rule("token_length", result.params, ["too_long"], removable=False))
            st.session_state["sift_toast"] = f"Dropped {int(over.sum()):,} rows"
            st.rerun()
    else:
        st.success(f"Every row fits in {max_len:,} tokens.")
    with st.expander("Preview the exact text the model sees", expanded=False):
        first = int(df["row_id"][over].iloc[0]) if over.any() else int(row_ids[0])
        rid = st.number_input("Row id", min_value=int(row_ids.min()), max_value=int(row_ids.max()), value=first,
                              step=1, key="prep_preview_row")
        hit = df.index[df["row_id"] == int(rid)]
        if len(hit):
            msgs = df.loc[hit[0], "messages"]
            try:
                st.code(render(msgs, template, tokenizer=tokenizer), language=None, wrap_lines=True)
                per_turn = turn_tokens(msgs, template, tokenizer)
                st.dataframe(pd.DataFrame({"turn": range(1, len(per_turn) + 1),
                                           "role": [t.get("role") for t in msgs][:len(per_turn)],
                                           "tokens": per_turn}), hide_index=True, key="prep_turns")
            except ValueError as exc:
                st.error(str(exc))

# ---------------------------------------------------------------------------------------------- selection
st.subheader("Subsets")
kept_rows, n_dropped, _ = select_rows(ws.dataset.rows, store)
kept_ids = kept_rows["row_id"].to_numpy()
strata, vectors = selection_inputs(ws.dir, row_ids, kept_ids, model=model_name(session.model_path))
st.caption(f"{len(kept_rows):,} rows available ({n_dropped:,} dropped rows left out)"
           + ("" if strata is not None else " · no topics yet: subsets are not stratified (compute the Map first)"))
mode = st.radio("Make", ["nested fractions (data-scaling runs)", "N rows by a strategy"], horizontal=True,
                key="prep_mode")
s1, s2, s3 = st.columns(3)
seed = int(s1.number_input("Seed", min_value=0, value=0, step=1, key="prep_seed"))
eval_fraction = float(s3.number_input("Hold out for eval", min_value=0.0, max_value=0.5, value=0.0, step=0.05,
                                      key="prep_eval", help="duplicate groups stay on one side (no leakage)"))
train_pos = np.arange(len(kept_rows))
eval_pos = np.zeros(0, dtype=np.int64)
if eval_fraction > 0:
    groups = duplicate_groups(ws.dir, kept_ids)
    train_pos, eval_pos = split_train_eval(len(kept_rows), groups, eval_fraction, seed)
    st.caption(f"eval: {len(eval_pos):,} rows · train: {len(train_pos):,} rows "
               f"({int((groups >= 0).sum()):,} rows in duplicate groups, each group kept on one side)")
sub_strata = strata[train_pos] if strata is not None else None
subsets: dict[str, np.ndarray] = {}
meta: dict = {}
try:
    if mode.startswith("nested"):
        text = s2.text_input("Fractions", value="0.25,0.5,1", key="prep_fractions")
        fractions = parse_fractions(text)
        nested = nested_subsets(sub_strata, fractions, seed, n=len(train_pos))
        subsets = {fraction_key(f): train_pos[p] for f, p in nested.items()}
        meta = {"kind": "nested", "fractions": fractions, "seed": seed, "strategy": "stratified-random",
                "stratified_by": "topic" if strata is not None else "none"}
    else:
        strategies = ["random"] + (["kcenter"] if vectors is not None else []) + \
            (["balanced"] if strata is not None else [])
        n = int(s2.number_input("N rows", min_value=1, max_value=max(1, len(train_pos)),
                                value=min(1000, max(1, len(train_pos))), step=50, key="prep_n"))
        strategy = st.selectbox("Strategy", strategies, key="prep_strategy",
                                help="kcenter needs embeddings, balanced needs topics (compute the Map first)")
        sub_vectors = vectors[train_pos] if vectors is not None else None
        picks = {s: select(s, n, seed, vectors=sub_vectors, strata=sub_strata, n=len(train_pos))
                 for s in strategies}
        subsets = {f"{strategy}_n{n}": train_pos[picks[strategy]]}
        meta = {"kind": "selection", "strategy": strategy, "n": n, "seed": seed}
        if sub_vectors is not None or sub_strata is not None:
            report = selection_report(sub_vectors, sub_strata, picks, seed=seed)
            st.dataframe(report.summary, hide_index=True, key="prep_report")
            st.caption("coverage radius: the farthest any row is from a selected one (lower = nothing left far "
                       "away); mean NN distance: how different the selected rows are from each other (higher = "
                       "less redundant); topic_tvd: how far the topic mix is from the full data's (0 = same).")
            dist = report.distribution
            if len(dist):
                fig = go.Figure()
                for name, part in dist.groupby("strategy", sort=False):
                    fig.add_bar(x=part["topic"].astype(str), y=part["share"], name=str(name))
                fig.update_layout(barmode="group", height=320, title="Topic shares: full data vs each strategy",
                                  margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title="topic")
                st.plotly_chart(fig, key="prep_dist")
except ValueError as exc:
    st.error(str(exc))
    subsets = {}

if subsets:
    sizes = pd.DataFrame({"subset": list(subsets), "rows": [len(p) for p in subsets.values()]})
    if result is not None:
        per = pd.read_parquet(result.summary["per_row"])
        sizes["tokens"] = [token_budget(per, kept_ids[p]) for p in subsets.values()]
    if strata is not None:
        sizes["topics"] = [len(np.unique(strata[p][strata[p] >= 0])) for p in subsets.values()]
    st.dataframe(sizes, hide_index=True, key="prep_sizes")

    st.subheader("Export for training")
    e1, e2 = st.columns([1, 3])
    fmt = e1.selectbox("Format", TRAINING_FORMATS, index=TRAINING_FORMATS.index("messages"), key="prep_format",
                       help="alpaca: JSON array; sharegpt: conversations; messages: OpenAI JSONL; trl: "
                            "prompt/chosen/rejected (preference rows only)")
    default_dir = str(sift_home() / "exports" / ws.dir.name / "training")
    out_dir = e2.text_input("Output folder (one file per subset + manifest.json)", value=default_dir,
                            key="prep_out")
    skip = st.checkbox("Skip rows this format cannot express (listed in the manifest)", key="prep_skip")
    if st.button("Write training files", type="primary", key="prep_write"):
        try:
            extra: dict = {"dataset": ws.fingerprint}
            if len(eval_pos):
                ev = write_training(kept_rows, eval_pos, Path(out_dir) / f"eval{SUFFIX[fmt]}", fmt,
                                    skip_unsupported=skip)
                extra["eval"] = {"file": Path(ev.out).name, "rows": ev.rows_written, "fraction": eval_fraction,
                                 "row_ids": [int(r) for r in kept_ids[eval_pos]],
                                 "duplicate_groups_kept_together": True}
            if meta.get("kind") == "nested":
                doc = write_nested(kept_rows, {float(k): p for k, p in subsets.items()}, out_dir, fmt, seed=seed,
                                   stratified_by=meta["stratified_by"], extra=extra, skip_unsupported=skip)
            else:
                doc = write_subsets(kept_rows, subsets, out_dir, fmt, manifest={**meta, **extra}, prefix="selection",
                                    skip_unsupported=skip)
        except (ValueError, OSError) as exc:
            st.error(f"Not written: {exc}")
        else:
            files = [v["file"] for v in doc["subsets"].values()] + ([extra["eval"]["file"]] if "eval" in extra else [])
            st.session_state["prep_written"] = {"dir": out_dir, "files": files}
    written = st.session_state.get("prep_written")
    if written:
        st.success(f"Wrote {', '.join(written['files'])} and manifest.json to {written['dir']}")
store.close()
