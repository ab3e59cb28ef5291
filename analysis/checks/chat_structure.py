"""`chat_structure`: malformed conversations (role order, empty turns, tool calls) (issue 5)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.checks.base import Check, CheckContext, CheckResult, register

KNOWN_ROLES = frozenset({"system", "user", "assistant", "tool"})
CHAT_KINDS = frozenset({"chat", "scored", "preference"})

# Reason codes, each a problem found at one turn (a row's reason is its first problem in turn order):
#   system_not_first         a system turn after the first turn
#   unknown_role             a role other than system / user / assistant / tool
#   empty_turn               a turn whose content is empty or whitespace only (tool-call turns excepted)
#   first_turn_not_user      the first non-system turn is not a user turn
#   consecutive_same_role    two user turns in a row, or two plain assistant turns in a row (user and
#                            assistant must alternate; an assistant message split into text + tool call is fine)
#   tool_call_invalid_json   a tool-call turn whose content does not parse as JSON
#   tool_call_unanswered     a tool call not followed by a tool result (after any parallel calls)
#   tool_result_orphan       a tool result that does not follow a tool call (or another result)
#   no_assistant_turn        the conversation has no assistant turn at all
#   ends_without_assistant   the conversation has assistant turns but ends on a user or tool turn
#   empty_conversation       the conversation has no turns at all (ShareGPT dumps hold many `conversations: []`)
REASONS = ("system_not_first", "unknown_role", "empty_turn", "first_turn_not_user", "consecutive_same_role",
           "tool_call_invalid_json", "tool_call_unanswered", "tool_result_orphan", "no_assistant_turn",
           "ends_without_assistant", "empty_conversation")


# Reasons whose turn has telling content (the call or result itself): the row's evidence is that content's start.
# The other problems are about roles or emptiness and have no span.
SPAN_REASONS = frozenset({"tool_call_invalid_json", "tool_call_unanswered", "tool_result_orphan"})
EVIDENCE_CHARS = 200


def problems(turns: list[dict[str, Any]], *, needs_final_assistant: bool = True,
             allow_empty_system: bool = True) -> list[tuple[int, str]]:
    """Every structural problem of one conversation as (turn index, reason code), in turn order."""
    if len(turns) == 0:
        return [(0, "empty_conversation")]
    out: list[tuple[int, str]] = []
    prev_role: str | None = None
    prev_call = False
    seen_non_system = False
    for i, t in enumerate(turns):
        role = str(t.get("role") or "")
        content = t.get("content")
        content = "" if content is None else str(content)
        is_call = bool(t.get("tool_call"))
        if role not in KNOWN_ROLES:
            out.append((i, "unknown_role"))
        if role == "system" and i > 0:
            out.append((i, "system_not_first"))
        if not is_call and not content.strip() and not (role == "system" and allow_empty_system and i == 0):
            out.append((i, "empty_turn"))
        if role != "system" and not seen_non_system:
            seen_non_system = True
            if role != "user":
                out.append((i, "first_turn_not_user"))
        elif role in ("user", "assistant") and role == prev_role and not is_call and not prev_call:
            out.append((i, "consecutive_same_role"))
        if is_call:
            try:
                json.loads(content)
            except ValueError:
                out.append((i, "tool_call_invalid_json"))
            nxt = i + 1
            while nxt < len(turns) and turns[nxt].get("tool_call"):
                nxt += 1
            if nxt >= len(turns) or turns[nxt].get("role") != "tool":
                out.append((i, "tool_call_unanswered"))
        if role == "tool" and not (prev_call or prev_role == "tool"):
            out.append((i, "tool_result_orphan"))
        prev_role, prev_call = role, is_call
    roles = [t.get("role") for t in turns]
    if needs_final_assistant and turns:
        if "assistant" not in roles:
            out.append((len(turns) - 1, "no_assistant_turn"))
        elif roles[-1] in ("user", "tool"):
            out.append((len(turns) - 1, "ends_without_assistant"))
    return out


def prompt_turns(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A preference row's shared context: its turns minus the trailing (chosen) assistant turns."""
    end = len(turns)
    while end > 0 and turns[end - 1].get("role") == "assistant" and not turns[end - 1].get("tool_call"):
        end -= 1
    return list(turns[:end])


@register
class ChatStructure(Check):
    """Conversation structure: the system turn first, user and assistant alternating, the conversation ending on
    an assistant turn, no empty or whitespace-only turns, no unknown roles, and every tool call valid JSON that
    is answered by a tool result. Chat templates assume this shape; a malformed conversation either fails to
    render, renders into something the model never sees at inference (two user turns glued together), or
    trains the model on an empty answer or on a tool call that never gets a result. Checked for chat and
    scored rows (their whole conversation) and for preference rows (their prompt turns only; the chosen and
    rejected answers are the `preference` and `length` checks' business); sft and text rows are well-formed by
    construction; prompt rows (kind `prompt`: questions without answers, e.g. MT-Bench's follow-up turns) are
    not conversations to train on and are not checked. A conversation with no turns at all (`conversations: []`,
    common in ShareGPT dumps) loads as a row and is flagged `empty_conversation`. The row's reason is its first
    problem in turn order; `summary["problems"]` counts rows per problem and `summary["details"]` lists every
    problem of each flagged row as `turn:code`. Score: 1.0 for a problem that breaks rendering or training
    (empty conversation or turn, role order, invalid or unanswered tool call), 0.5 for a row whose only problems
    are softer (an unanswered conversation that ends on a user turn).
    Defaults: an empty first system turn is allowed (`allow_empty_system`), as several chat exporters write one.
    Evidence: for a tool-call or tool-result problem, the first 200 characters of that turn as written; none for
    role-order, empty-turn and missing-answer problems (there is no span to show).
    """

    name = "chat_structure"
    row_local = True
    description = ("Role order, empty turns and conversations, unknown roles, missing final answer, broken or "
                   "unanswered tool calls.")

    @dataclass(frozen=True)
    class Params:
        allow_empty_system: bool = True  # an empty system turn at position 0 is not an `empty_turn`

    SOFT = frozenset({"ends_without_assistant"})

    def run(self, ctx: CheckContext) -> CheckResult:
        n = len(ctx)
        kinds = ctx.rows["kind"].astype(str).tolist()
        msgs = ctx.messages
        row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        evidence = np.full(n, "", dtype=object)
        counts: Counter[str] = Counter()
        details: dict[str, list[str]] = {}
        checked = 0
        for i, (kind, turns) in enumerate(ctx.track(zip(kinds, msgs, strict=True), total=len(msgs))):
            if kind not in CHAT_KINDS:
                continue
            checked += 1
            if kind == "preference":
                context = prompt_turns(turns)
                found = problems(context, needs_final_assistant=False,
                                 allow_empty_system=self.params.allow_empty_system) if len(context) else []
            else:
                found = problems(turns, allow_empty_system=self.params.allow_empty_system)
            if not found:
                continue
            codes = [c for _, c in found]
            reason[i] = codes[0]
            if codes[0] in SPAN_REASONS:
                evidence[i] = str(turns[found[0][0]].get("content") or "")[:EVIDENCE_CHARS]
            score[i] = 0.5 if set(codes) <= self.SOFT else 1.0
            counts.update(set(codes))
            details[str(row_ids[i])] = [f"{t}:{c}" for t, c in found]
        return self.result(ctx, score=score, reason=reason, evidence=evidence,
                           summary={"rows_checked": checked, "problems": dict(sorted(counts.items())),
                                    "details": details})
