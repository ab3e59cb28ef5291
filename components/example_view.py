"""The example view: one row rendered as a conversation, safely.

Dataset text is untrusted. It is only ever passed to `st.text` (no Markdown, no HTML) or `st.code`,
so links, images and tags in the data stay inert text and nothing leaves the browser.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import streamlit as st

from analysis.explore.diff import render_word_diff, similarity, word_diff
from analysis.workspace.store import CurationStore

_AVATARS = {"user": ":material/person:", "assistant": ":material/smart_toy:", "system": ":material/settings:",
            "tool": ":material/build:"}


def _pretty_json(text: str) -> str | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(value, dict | list):
        return None
    return json.dumps(value, indent=2, ensure_ascii=False)


def render_turn(turn: dict[str, Any]) -> None:
    role = str(turn.get("role") or "unknown")
    content = str(turn.get("content") or "")
    with st.chat_message(role if role in ("user", "assistant") else role.title(), avatar=_AVATARS.get(role)):
        if turn.get("tool_call"):
            st.caption("tool call")
            st.code(_pretty_json(content) or content, language="json", wrap_lines=True)
        elif role == "tool" and _pretty_json(content):
            st.caption("tool result")
            st.code(_pretty_json(content), language="json", wrap_lines=True)
        elif not content.strip():
            st.caption("(empty turn)")
        else:
            st.text(content)


def render_conversation(messages: list[dict[str, Any]]) -> None:
    for turn in messages:
        render_turn(turn)


def _render_preference(row: pd.Series) -> None:
    chosen, rejected = str(row["chosen"] or ""), str(row["rejected"] or "")
    prompt_turns = list(row["messages"])[:-1] if row["messages"] else []
    render_conversation(prompt_turns)
    left, right = st.columns(2)
    with left:
        st.markdown("**Chosen** · " + f"{len(chosen):,} chars")
        st.text(chosen)
    with right:
        st.markdown("**Rejected** · " + f"{len(rejected):,} chars")
        st.text(rejected)
    ops = word_diff(rejected, chosen)
    with st.expander(f"Word-level diff, rejected → chosen (token similarity {similarity(rejected, chosen):.2f})"):
        st.caption("[-only in rejected-] {+only in chosen+}")
        st.code(render_word_diff(ops), language=None, wrap_lines=True)


def status_line(state: Any) -> str:
    parts = []
    if state.dropped:
        parts.append(f"dropped ({state.drop_reason or 'no reason'})")
    if state.flagged:
        parts.append("flagged")
    if state.tags:
        parts.append(" ".join(f"#{t}" for t in state.tags))
    return ", ".join(parts) or "kept"


def render_example(row: pd.Series, store: CurationStore, *, key: str) -> None:
    """Header, conversation (or preference pair), source record, and per-row curation controls."""
    rid = int(row["row_id"])
    state = store.row(rid)
    line = row.get("source_line")
    where = f"line {int(line)}" if line is not None and not pd.isna(line) else f"record {int(row['source_index'])}"
    st.markdown(f"#### Row {rid} · {row['kind']}")
    st.caption(f"{row['source_file']} · {where} · status: {status_line(state)}")
    if state.dropped:
        st.warning(f"Dropped: {state.drop_reason or 'no reason given'}", icon=":material/delete:")
    _row_controls(rid, state, store, key=key)
    score = row.get("score")
    if isinstance(score, float) and not math.isnan(score):
        st.caption(f"score: {score:g}")
    if row["kind"] == "preference" and not pd.isna(row.get("chosen")):
        _render_preference(row)
    elif row["kind"] == "table":
        st.info("This file has no recognised schema; map its columns to roles on the Data page.")
    else:
        render_conversation(list(row["messages"]))
    tools = row.get("tools")
    if isinstance(tools, str) and tools:
        with st.expander("Tool definitions"):
            st.code(_pretty_json(tools) or tools, language="json", wrap_lines=True)
    with st.expander("Source record (untouched)"):
        st.code(_pretty_json(str(row["source"])) or str(row["source"]), language="json", wrap_lines=True)
    _note(rid, state, store, key=key)


def _row_controls(rid: int, state: Any, store: CurationStore, *, key: str) -> None:
    reason = st.text_input("Reason", key=f"{key}_reason_{rid}", placeholder="why (goes into the log)")
    c1, c2, c3 = st.columns(3)
    if state.flagged:
        if c1.button("Unflag", key=f"{key}_unflag_{rid}", width="stretch"):
            store.unflag([rid], reason=reason)
            st.rerun()
    elif c1.button("Flag", key=f"{key}_flag_{rid}", width="stretch"):
        store.flag([rid], reason=reason)
        st.rerun()
    if state.dropped:
        if c2.button("Restore", key=f"{key}_restore_{rid}", width="stretch"):
            store.restore([rid], reason=reason)
            st.rerun()
    elif c2.button("Drop", key=f"{key}_drop_{rid}", type="primary", width="stretch"):
        store.drop([rid], reason=reason or "manual")
        st.rerun()
    c3.caption(f"note: {state.note}" if state.note else "no note (add one below)")


def _note(rid: int, state: Any, store: CurationStore, *, key: str) -> None:
    note = st.text_area("Note", value=state.note or "", key=f"{key}_note_{rid}", height=80)
    if st.button("Save note", key=f"{key}_savenote_{rid}", disabled=note == (state.note or "")):
        store.set_note(rid, note)
        st.rerun()
