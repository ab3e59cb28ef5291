"""Duplicates page: pick a method, scope and threshold, review clusters side by side, keep the right member,
drop the rest in one logged action per cluster (reason `dup_of:<kept row_id>`)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import streamlit as st

from analysis.checks import REGISTRY, run_checks
from analysis.curation.recipe import check_rule
from analysis.explore.diff import render_word_diff, similarity, word_diff
from components.actions import show_pending_toast
from components.context import require_workspace
from components.state import frame

GROUP_CHECKS = [n for n in ("exact_duplicate", "near_duplicate", "semantic_duplicate") if n in REGISTRY]
KEEP_RULES = ["first", "longest", "shortest", "highest_score", "most_turns"]

session, ws, store = require_workspace()
df = frame(ws)
show_pending_toast()
st.title("Duplicates")
if not GROUP_CHECKS:
    st.error("No duplicate checks are installed.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
method = c1.selectbox("Method", GROUP_CHECKS, key="dup_method")
cls = REGISTRY[method]
names = {f.name for f in fields(cls.Params)}
params: dict = {}
if "scope" in names:
    scopes = [sc for sc in ("both", "prompt", "response", "first_turn", "record")
              if method != "semantic_duplicate" or sc in ("both", "prompt", "response")]
    params["scope"] = c2.selectbox("Scope", scopes, key="dup_scope")
if "threshold" in names:
    default = float(cls.Params().threshold)
    params["threshold"] = c3.slider("Threshold", 0.5, 1.0, default, 0.01, key=f"dup_threshold_{method}")
if "keep" in names:
    params["keep"] = c4.selectbox("Keep rule", KEEP_RULES, key="dup_keep")
why = cls.missing_inputs(ws.dir, ws.dataset.rows)
if why:
    st.info(f"{method} cannot run yet: {why}")
    store.close()
    st.stop()
try:
    with st.spinner(f"Running {method} …"):
        result = run_checks(ws.dataset.rows, [method], ws_dir=ws.dir, params={method: params})[method]
except ValueError as exc:
    st.error(str(exc))
    store.close()
    st.stop()

groups = result.group_id
ids = df["row_id"].to_numpy(dtype=np.int64)
dropped = store.dropped_ids()
sizes = pd.Series(groups[groups >= 0]).value_counts()
m = st.columns(4)
m[0].metric("Clusters", f"{len(sizes):,}")
m[1].metric("Rows in clusters", f"{int(sizes.sum()):,}")
m[2].metric("Removable (all but the kept member)", f"{int(result.removable().sum()):,}")
m[3].metric("Already dropped", f"{int(np.isin(ids[groups >= 0], list(dropped)).sum()):,}")

curve = result.summary.get("removed_by_threshold")
if isinstance(curve, dict) and curve:
    st.line_chart(pd.DataFrame({"threshold": [float(k) for k in curve], "rows removed": list(curve.values())})
                  .set_index("threshold"), height=200)
    st.caption("Rows a \"drop all but the kept member\" would remove at each threshold, from the pairs already "
               "verified (no re-run).")
pairs = (result.summary.get("pairs") or []) + (result.summary.get("pairs_below") or [])
if pairs and "threshold" in params:
    thr = params["threshold"]
    near = sorted(pairs, key=lambda p: abs(float(p.get("similarity", p.get("jaccard", 0))) - thr))[:6]
    with st.expander("Pairs just above and below the threshold"):
        by_id = df.set_index("row_id")
        for p in near:
            a, b = int(p["a"]), int(p["b"])
            sim = float(p.get("similarity", p.get("jaccard", 0)))
            st.markdown(f"rows {a} and {b}: similarity {sim:.3f} ({'above' if sim >= thr else 'below'})")
            st.code(render_word_diff(word_diff(str(by_id.loc[a, "response"]), str(by_id.loc[b, "response"]))),
                    language=None, wrap_lines=True)

overrides: dict[int, int] = st.session_state.setdefault(f"dup_overrides_{method}", {})


def kept_of(group: int, members: np.ndarray) -> int:
    if group in overrides and overrides[group] in members:
        return overrides[group]
    keep = result.keep
    hit = members[keep[np.isin(ids, members)]] if keep is not None else members[:1]
    return int(hit[0]) if len(hit) else int(members[0])


order = sizes.index.tolist()
how = ", ".join(f"{k}={v}" for k, v in params.items())  # drop reasons are text, not a Python dict repr
if order and st.button(f"Drop all but the kept member in all {len(order):,} clusters", type="primary",
                       key="dup_drop_all"):
    n = 0
    rule = check_rule(method, result.params, [], removable=True)  # replayable: re-run the method, drop all but kept
    for g in order:
        members = ids[groups == g]
        kept = kept_of(g, members)
        rest = [int(r) for r in members if r != kept and r not in dropped]
        if rest:  # a cluster whose kept member the user overrode is a row decision, not the rule's
            store.drop(rest, reason=f"dup_of:{kept} ({method}, {how})", rule=None if g in overrides else rule)
            n += len(rest)
    st.session_state["sift_toast"] = f"Dropped {n:,} duplicate rows"
    st.rerun()

page_size = 20
n_pages = max(1, (len(order) + page_size - 1) // page_size)
page = st.number_input(f"Clusters page (of {n_pages})", min_value=1, max_value=n_pages, step=1, key="dup_page")
text_col = "response" if params.get("scope") == "response" else "prompt" if params.get("scope") == "prompt" else None
by_id = df.set_index("row_id")
for g in order[(page - 1) * page_size: page * page_size]:
    members = ids[groups == g]
    kept = kept_of(g, members)
    with st.expander(f"Cluster {g}: {len(members)} rows · kept row {kept}", expanded=len(order) <= 3):
        choice = st.selectbox("Keep", [int(r) for r in members], index=[int(r) for r in members].index(kept),
                              key=f"dup_keep_{method}_{g}")
        if choice != kept:
            overrides[g] = choice
            kept = choice
        kept_text = (str(by_id.loc[kept, text_col]) if text_col
                     else str(by_id.loc[kept, "prompt"]) + "\n\n" + str(by_id.loc[kept, "response"]))
        cols = st.columns(min(len(members), 3))
        for i, rid in enumerate(members):
            rid = int(rid)
            text = (str(by_id.loc[rid, text_col]) if text_col
                    else str(by_id.loc[rid, "prompt"]) + "\n\n" + str(by_id.loc[rid, "response"]))
            with cols[i % len(cols)]:
                status = " · dropped" if rid in dropped else ""
                st.markdown(f"**row {rid}**{' (kept)' if rid == kept else ''}{status} · "
                            f"similarity to kept {similarity(kept_text, text):.2f}")
                if rid == kept:
                    st.text(text[:2000])
                else:
                    st.code(render_word_diff(word_diff(kept_text, text))[:2000], language=None, wrap_lines=True)
        rest = [int(r) for r in members if int(r) != kept and int(r) not in dropped]
        if st.button(f"Drop all but row {kept} ({len(rest)})", key=f"dup_drop_{method}_{g}", disabled=not rest):
            store.drop(rest, reason=f"dup_of:{kept} ({method}, {how})")
            st.session_state["sift_toast"] = f"Dropped {len(rest)} rows of cluster {g}"
            st.rerun()
store.close()
