"""Detect what kind of post-training data a file holds and normalise each record to canonical turns.

Every downstream analysis sees the same shape (ARCHITECTURE.md §2): a list of `{role, content,
tool_call}` turns plus derived `prompt`/`response` (and `chosen`/`rejected`/`score`), whatever the
source schema. Detection looks only at field names and value shapes, so it is cheap and explainable;
the chosen `Detection` is recorded, shown to the user, and can be overridden by kind or by an
explicit column mapping.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.io.errors import FieldError

KINDS = ("text", "sft", "chat", "preference", "scored", "prompt", "table")
# A file whose records have different clear readings (Alpaca lines and `messages` lines): each row keeps its own
# kind, as in a folder of files of different kinds. Never a row's kind, and never a kind one can force.
MIXED = "mixed"
OPTIONAL_ROLES = frozenset({"system", "input", "history", "tools"})
MAP_ROLES = ("prompt", "response", "system", "chosen", "rejected", "score", "text", "messages")

ROLE_ALIASES = {
    "user": "user", "human": "user", "prompter": "user", "question": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "model": "assistant",
    "chatgpt": "assistant", "bing": "assistant", "answer": "assistant",
    "system": "system", "developer": "system",
    "tool": "tool", "observation": "tool", "function": "tool", "ipython": "tool", "function_response": "tool",
    "function_call": "assistant",
}
_TOOL_CALL_ROLES = {"function_call"}
_HH_SPLIT = re.compile(r"(?:^|\n\n)(Human|Assistant):[ \t]?")

Turn = dict[str, Any]


@dataclass(frozen=True)
class Detection:
    """How a file's records map to canonical rows; `fields` maps a role to the source field name."""

    kind: str
    variant: str
    fields: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    forced: bool = False  # the user forced `kind`: a record read otherwise must still be of that kind


@dataclass(frozen=True)
class Normalized:
    messages: list[Turn]
    prompt: str
    response: str
    chosen: str | None = None
    rejected: str | None = None
    score: float = math.nan
    tools: str | None = None
    kind: str | None = None  # the row's kind when the record was read otherwise than its file (a mixed file)


def turn(role: str, content: str, *, tool_call: bool = False) -> Turn:
    return {"role": role, "content": content, "tool_call": tool_call}


def render_turns(turns: Sequence[Turn]) -> str:
    """Plain-text view of turns: one turn is its content; several are `role: content` blocks."""
    if not turns:
        return ""
    if len(turns) == 1:
        return str(turns[0]["content"])
    return "\n\n".join(f"{t['role']}: {t['content']}" for t in turns)


def split_prompt_response(turns: Sequence[Turn]) -> tuple[str, str]:
    """prompt = everything before the last assistant turn; response = that turn."""
    for i in range(len(turns) - 1, -1, -1):
        if turns[i]["role"] == "assistant":
            return render_turns(turns[:i]), str(turns[i]["content"])
    return render_turns(turns), ""


# ---------------------------------------------------------------- detection

def _keys(record: dict[str, Any]) -> dict[str, str]:
    """Lower-cased field name -> actual field name, so `Question` and `question` both match."""
    return {str(k).lower(): k for k in record}


def _first(keys: dict[str, str], *names: str) -> str | None:
    for n in names:
        if n in keys:
            return keys[n]
    return None


def _is_hh(value: Any) -> bool:
    return isinstance(value, str) and ("\n\nHuman:" in value or value.startswith("Human:"))


def candidates(record: dict[str, Any]) -> list[Detection]:
    """Every reading of this record's schema, best first (detection picks the first, override filters)."""
    k = _keys(record)
    out: list[Detection] = []
    score_f = _first(k, "score", "rating", "reward")
    label_f = _first(k, "label") if isinstance(record.get(k.get("label", "")), bool | str) else None
    score_field = score_f or label_f
    conv_f = _first(k, "messages", "conversations", "conversation")
    conv_ok = conv_f is not None and isinstance(record.get(conv_f), list)
    system_f = _first(k, "system", "system_prompt")

    cm, rm = _first(k, "chosen_messages"), _first(k, "rejected_messages")
    ch, rj = _first(k, "chosen", "chosen_response"), _first(k, "rejected", "rejected_response")
    if cm and rm:
        out.append(Detection("preference", "pref_lists", {"chosen": cm, "rejected": rm},
                             f"fields '{cm}' and '{rm}'"))
    elif ch and rj:
        prompt_f = _first(k, "prompt", "question", "instruction", "query")
        fields = {"chosen": ch, "rejected": rj}
        if prompt_f:
            fields["prompt"] = prompt_f
            reason = f"fields '{prompt_f}', '{ch}', '{rj}'"
        elif conv_ok:
            fields["messages"] = conv_f  # type: ignore[assignment]
            reason = f"fields '{conv_f}' with '{ch}'/'{rj}' turns"
        elif _is_hh(record.get(ch)):
            reason = f"Anthropic HH transcripts in '{ch}'/'{rj}'"
        else:
            reason = f"fields '{ch}' and '{rj}' (prompt inside each)"
        if system_f:
            fields["system"] = system_f
        out.append(Detection("preference", "pref", fields, reason))

    if conv_ok and record.get(k.get("kind", "")) == "prompt":
        # Sift's own `--as messages` export of prompt rows: read back as prompts, not as unanswered chats.
        out.append(Detection("prompt", "prompt", {"prompt": conv_f},  # type: ignore[dict-item]
                             f"field '{conv_f}' of rows of kind 'prompt' (Sift's export)"))
    if conv_ok:
        fields = {"messages": conv_f}  # type: ignore[dict-item]
        if system_f:
            fields["system"] = system_f
        if _first(k, "tools"):
            fields["tools"] = _first(k, "tools")  # type: ignore[assignment]
        if score_field:
            out.append(Detection("scored", "chat", {**fields, "score": score_field},
                                 f"field '{conv_f}' with a {'label' if label_f and not score_f else 'score'} "
                                 f"'{score_field}'"))
        out.append(Detection("chat", "chat", fields, f"field '{conv_f}' (list of turns)"))

    pair = _sft_pair(k)
    if pair is not None:
        fields, reason = pair
        if system_f:
            fields["system"] = system_f
        if score_field:
            out.append(Detection("scored", "sft", {**fields, "score": score_field},
                                 f"{reason} with score '{score_field}'"))
        out.append(Detection("sft", "sft", fields, reason))

    if pair is None and not (ch and rj):
        prompt_only = _prompt_only(record, k)
        if prompt_only is not None:
            if system_f:
                prompt_only.fields["system"] = system_f
            out.append(prompt_only)

    text_f = _first(k, "text", "content")
    if text_f is not None:
        out.append(Detection("text", "text", {"text": text_f}, f"field '{text_f}'"))
    out.append(Detection("table", "table", {}, "no known schema: map its columns to roles"))
    return out


# Fields that hold answers or judgements of them: a record with one of these is never read as bare prompts (TRL's
# stepwise supervision `prompt`/`completions`/`labels`, a classification `prompt`/`label`: map those columns).
_ANSWER_FIELDS = frozenset({"completion", "completions", "response", "responses", "output", "outputs", "answer",
                            "answers", "chosen", "rejected", "label", "labels", "score", "rating", "reward"})


def _prompt_only(record: dict[str, Any], k: dict[str, str]) -> Detection | None:
    """Prompts without answers: TRL prompt-only (`prompt`, a string or a list of turns) or FastChat / MT-Bench
    questions (`turns`, a list of user strings: eval sets, production prompts, RL prompts)."""
    if _ANSWER_FIELDS & k.keys():
        return None
    turns_f = _first(k, "turns")
    if turns_f is not None:
        value = record.get(turns_f)
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            return Detection("prompt", "turns", {"prompt": turns_f},
                             f"field '{turns_f}' (user turns, no responses)")
    prompt_f = _first(k, "prompt")
    if prompt_f is not None and isinstance(record.get(prompt_f), str | list):
        return Detection("prompt", "prompt", {"prompt": prompt_f}, f"field '{prompt_f}' alone (no responses)")
    return None


def _sft_pair(k: dict[str, str]) -> tuple[dict[str, str], str] | None:
    if "instruction" in k:
        out = _first(k, "output", "response", "completion", "answer")
        if out:
            fields = {"prompt": k["instruction"], "response": out}
            extra = _first(k, "input", "context")  # Alpaca `input`, Dolly `context`
            if extra:
                fields["input"] = extra
            if "history" in k:
                fields["history"] = k["history"]
            name = "Dolly" if "context" in k and "input" not in k else "Alpaca"
            return fields, f"{name} fields '{k['instruction']}'/'{out}'"
    for p, r in (("prompt", "response"), ("prompt", "completion"), ("question", "answer"),
                 ("question", "response"), ("query", "response"), ("query", "answer"),
                 ("input", "output"), ("prompt", "output")):
        if p in k and r in k:
            return {"prompt": k[p], "response": k[r]}, f"fields '{k[p]}'/'{k[r]}'"
    return None


def _vote_key(det: Detection) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return (det.kind, det.variant,
            tuple(sorted((r, f) for r, f in det.fields.items() if r not in OPTIONAL_ROLES)))


def detect(records: Iterable[dict[str, Any]], *, kind: str | None = None,
           mapping: dict[str, str] | None = None, all_fields: Iterable[str] = ()) -> Detection:
    """The file's main reading: the most common best reading among the sample records that have one.

    A record with no clear reading (only "table", e.g. `{"messages": "hello"}`) does not vote: one odd record never
    decides a file, it becomes a bad record of the majority's reading. Records of another clear shape are read as
    that shape row by row (`other_reading`), so a file of Alpaca and `messages` lines loads as mixed kinds.
    The file is a table only when no sample record has a clear reading (or the user forced `kind="table"`).
    """
    if mapping:
        return mapped_detection(mapping, all_fields, kind=kind)
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    votes: Counter[tuple[str, str, tuple[tuple[str, str], ...]]] = Counter()
    reasons: dict[tuple[str, str, tuple[tuple[str, str], ...]], str] = {}
    # Optional fields (tools, system, ...) often appear on only some records: they must not split the
    # vote, and a field seen on any record of the winning schema is read wherever it is present.
    optional: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, str]] = {}
    available: set[str] = set()
    for rec in records:
        cands = candidates(rec)
        available.update(c.kind for c in cands)
        cands = [c for c in cands if (c.kind == kind if kind is not None else c.kind != "table")]
        if not cands:
            continue
        best = cands[0]
        key = _vote_key(best)
        votes[key] += 1
        reasons.setdefault(key, best.reason)
        optional.setdefault(key, {}).update({r: f for r, f in best.fields.items() if r in OPTIONAL_ROLES})
    if not votes:
        if kind is None:
            return Detection("table", "table", {}, "no known schema: map its columns to roles")
        fields = ", ".join(sorted(map(str, all_fields))) or "none"
        can = ", ".join(k for k in KINDS if k in available)
        raise ValueError(f"cannot read this file as '{kind}' (fields: {fields}); it can be read as: {can}. "
                         "Map its columns to roles instead.")
    key, _ = votes.most_common(1)[0]
    k_, variant, fields_t = key
    return Detection(k_, variant, {**dict(fields_t), **optional[key]}, reasons[key], forced=kind is not None)


_SCORE_ROLES = frozenset({"score"})


def required_fields(det: Detection) -> list[str]:
    """The source fields every record read as `det` must have (optional roles and the score may be absent)."""
    return [v for k, v in det.fields.items() if k not in OPTIONAL_ROLES and k not in _SCORE_ROLES]


def other_reading(record: dict[str, Any], det: Detection) -> Detection | None:
    """The reading of a record of another clear shape than its file's `det`, or None when it has none.

    None also when the record's own reading uses only fields of `det` (an Alpaca record without its `output` is a
    broken Alpaca record, not a prompt): such a record is a bad record of the file's reading. A mapped or table
    reading reads every record; a forced kind admits only readings of that kind.
    """
    if det.variant == "mapped" or det.kind == "table":
        return None
    own = next((c for c in candidates(record)
                if c.kind != "table" and (not det.forced or c.kind == det.kind)), None)
    if own is None or _vote_key(own) == _vote_key(det):
        return None
    if set(required_fields(own)) <= set(det.fields.values()):
        return None
    return own


def richer_reading(record: dict[str, Any], det: Detection) -> Detection | None:
    """For a prompt-only file: a record that also carries answers (a `completion`, `chosen`/`rejected`) is read
    with them, never silently as a bare prompt. Other readings read every field they need, so only this one can
    hide a record's answers; it is checked per record only in prompt files (eval sets: small)."""
    if det.kind != "prompt" or det.forced:
        return None
    own = next((c for c in candidates(record) if c.kind != "table"), None)
    if own is None or own.kind == "prompt":
        return None
    return own


def mapped_detection(mapping: dict[str, str], all_fields: Iterable[str], *, kind: str | None = None) -> Detection:
    """Turn a user's `role=column` mapping into a Detection, checking every column exists."""
    fields = list(map(str, all_fields))
    lower = {f.lower(): f for f in fields}
    resolved: dict[str, str] = {}
    for role, col in mapping.items():
        if role not in MAP_ROLES:
            raise ValueError(f"unknown role {role!r} in the column mapping; roles are {', '.join(MAP_ROLES)}")
        actual = col if col in fields else lower.get(col.lower())
        if actual is None:
            raise ValueError(f"the mapping {role}={col} names no column of this file "
                             f"(columns: {', '.join(fields) or 'none'})")
        resolved[role] = actual
    if "chosen" in resolved and "rejected" in resolved:
        guess = "preference"
    elif "messages" in resolved:
        guess = "scored" if "score" in resolved else "chat"
    elif "prompt" in resolved or "response" in resolved:
        guess = "scored" if "score" in resolved else "sft"
    elif "text" in resolved:
        guess = "text"
    else:
        raise ValueError("the column mapping needs at least one of prompt, response, text, messages, "
                         "or chosen+rejected")
    chosen_kind = kind or guess
    desc = ", ".join(f"{r}={c}" for r, c in resolved.items())
    return Detection(chosen_kind, "mapped", resolved, f"column mapping {desc}")


# ---------------------------------------------------------------- normalisation

def _type_name(value: Any) -> str:
    return {list: "a list", dict: "an object", str: "a string", int: "a number", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(value), type(value).__name__)


def text_value(value: Any, where: str, *, allow_missing: bool = False) -> str:
    """A string field, or typed parts joined; null and other types are the record's fault."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        return _join_parts(value, where)
    if value is None and allow_missing:
        return ""
    raise FieldError(where, f"expected a string, found {_type_name(value)}"
                     + (f" ({value!r})" if isinstance(value, int | float) else ""))


def _join_parts(parts: list[dict[str, Any]], where: str) -> str:
    out: list[str] = []
    for j, part in enumerate(parts):
        ptype = part.get("type", "text")
        if ptype == "text":
            val = part.get("text", part.get("value"))
            if not isinstance(val, str):
                raise FieldError(f"{where}[{j}]", f"a text part needs a string 'text' or 'value', "
                                                  f"found {_type_name(val)}")
            out.append(val)
        else:
            out.append(f"[{ptype}]")
    return "\n".join(out)


def _turn_from(obj: Any, where: str) -> list[Turn]:
    """One source turn ({role, content} or ShareGPT {from, value}) -> canonical turn(s)."""
    if isinstance(obj, str):
        return [turn("assistant", obj)]
    if not isinstance(obj, dict):
        raise FieldError(where, f"expected a turn object with role and content, found {_type_name(obj)}")
    role_key = "role" if "role" in obj else "from" if "from" in obj else None
    if role_key is None:
        raise FieldError(where, "turn has no 'role' (or ShareGPT 'from')")
    raw_role = obj[role_key]
    if not isinstance(raw_role, str):
        raise FieldError(f"{where}.{role_key}", f"expected a string, found {_type_name(raw_role)}")
    role = ROLE_ALIASES.get(raw_role.strip().lower(), raw_role.strip().lower())
    content_key = "content" if "content" in obj else "value" if "value" in obj else "text" if "text" in obj \
        else None
    tool_calls = obj.get("tool_calls") or obj.get("function_call")
    turns: list[Turn] = []
    content = obj.get(content_key) if content_key else None
    if content is None and not tool_calls:
        if content_key is None:
            raise FieldError(where, "turn has no 'content' (or ShareGPT 'value')")
        raise FieldError(f"{where}.{content_key}", "expected a string, found null")
    if content is not None:
        text = text_value(content, f"{where}.{content_key}")
        if text or not tool_calls:
            # `tool_call: true` is how Sift itself exports a call turn, so its own files read back the same.
            is_call = raw_role.lower() in _TOOL_CALL_ROLES or obj.get("tool_call") is True
            turns.append(turn(role, text, tool_call=is_call))
    if tool_calls:
        calls = tool_calls if isinstance(tool_calls, list) else [tool_calls]
        payload = [c.get("function", c) if isinstance(c, dict) else c for c in calls]
        turns.append(turn("assistant", json.dumps(payload[0] if len(payload) == 1 else payload,
                                                  ensure_ascii=False), tool_call=True))
    return turns


def parse_turns(value: Any, where: str) -> list[Turn]:
    if not isinstance(value, list):
        raise FieldError(where, f"expected a list of turns, found {_type_name(value)}")
    out: list[Turn] = []
    for i, obj in enumerate(value):
        out.extend(_turn_from(obj, f"{where}[{i}]"))
    return out


def parse_hh(text: str) -> list[Turn]:
    """Split an Anthropic HH transcript (`\\n\\nHuman: … \\n\\nAssistant: …`) into turns."""
    parts = _HH_SPLIT.split(text)
    turns: list[Turn] = []
    head = parts[0].strip()
    if head:
        turns.append(turn("system", head))
    for i in range(1, len(parts) - 1, 2):
        role = "user" if parts[i] == "Human" else "assistant"
        turns.append(turn(role, parts[i + 1].strip()))
    return turns


def _common_prefix(a: list[Turn], b: list[Turn]) -> int:
    n = 0
    limit = min(len(a), len(b)) - 1  # both sides keep at least their final turn
    while n < limit and a[n]["role"] == b[n]["role"] and a[n]["content"] == b[n]["content"]:
        n += 1
    return n


def _system_turn(record: dict[str, Any], det: Detection) -> list[Turn]:
    f = det.fields.get("system")
    if not f:
        return []
    value = record.get(f)
    if value in (None, ""):
        return []
    return [turn("system", text_value(value, f))]


def _is_turn_list(value: Any) -> bool:
    """A list of message objects (TRL's conversational format), as opposed to typed content parts."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(t, dict) and ("role" in t or "from" in t) for t in value)


def _side_turns(value: Any, where: str, role: str) -> list[Turn]:
    """A prompt or completion: a string (one `role` turn) or, in TRL's conversational format, a list of turns."""
    if _is_turn_list(value):
        return parse_turns(value, where)
    return [turn(role, text_value(value, where))]


def _norm_sft(record: dict[str, Any], det: Detection) -> Normalized:
    pf, rf = det.fields["prompt"], det.fields["response"]
    pv, rv = record.get(pf), record.get(rf)
    if _is_turn_list(pv) or _is_turn_list(rv):  # TRL conversational prompt-completion
        turns = _system_turn(record, det)
        prompt_turns = _side_turns(pv, pf, "user")
        if any(t["role"] == "system" for t in prompt_turns):
            turns = []
        turns += prompt_turns + _side_turns(rv, rf, "assistant")
        p, r = split_prompt_response(turns)
        return Normalized(turns, p, r)
    prompt = text_value(pv, pf)
    inp_f = det.fields.get("input")
    if inp_f:
        extra = text_value(record.get(inp_f), inp_f, allow_missing=True)
        if extra.strip():
            prompt = f"{prompt}\n\n{extra}"
    response = text_value(rv, rf)
    turns = _system_turn(record, det)
    hist_f = det.fields.get("history")
    history = record.get(hist_f) if hist_f else None
    if isinstance(history, list):
        for i, pair in enumerate(history):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise FieldError(f"{hist_f}[{i}]", "expected a [question, answer] pair")
            turns += [turn("user", text_value(pair[0], f"{hist_f}[{i}][0]")),
                      turn("assistant", text_value(pair[1], f"{hist_f}[{i}][1]"))]
    turns += [turn("user", prompt), turn("assistant", response)]
    p, r = split_prompt_response(turns)
    return Normalized(turns, p, r)


def _norm_chat(record: dict[str, Any], det: Detection) -> Normalized:
    mf = det.fields["messages"]
    turns = parse_turns(record.get(mf), mf)
    if not turns:
        # Real ShareGPT dumps hold hundreds of these: a finding of the chat_structure check
        # (`empty_conversation`), not a reason to refuse the file.
        return Normalized([], "", "")
    if not any(t["role"] == "system" for t in turns):
        turns = _system_turn(record, det) + turns
    tools = None
    tf = det.fields.get("tools")
    if tf and record.get(tf) not in (None, ""):
        raw = record[tf]
        tools = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    p, r = split_prompt_response(turns)
    return Normalized(turns, p, r, tools=tools)


def _norm_prompt(record: dict[str, Any], det: Detection) -> Normalized:
    """Prompts without answers: each string of `turns` is a user turn; `prompt` is a string or a list of turns."""
    pf = det.fields["prompt"]
    value = record.get(pf)
    if det.variant == "turns":
        if not isinstance(value, list):
            raise FieldError(pf, f"expected a list of user turns, found {_type_name(value)}")
        turns = [turn("user", text_value(v, f"{pf}[{i}]")) for i, v in enumerate(value)]
    elif isinstance(value, list) and not _is_turn_list(value) and value:
        turns = [turn("user", text_value(value, pf))]  # typed content parts
    elif isinstance(value, list):
        turns = parse_turns(value, pf)
    else:
        turns = [turn("user", text_value(value, pf))]
    if not turns:
        raise FieldError(pf, "is an empty list: no prompt")
    if not any(t["role"] == "system" for t in turns):
        turns = _system_turn(record, det) + turns
    return Normalized(turns, render_turns(turns), "")


def _side(value: Any, where: str) -> list[Turn]:
    """A chosen/rejected value: a string, one turn object, or a list of turns."""
    if isinstance(value, str):
        return parse_hh(value) if _is_hh(value) else [turn("assistant", value)]
    if isinstance(value, dict):
        return _turn_from(value, where)
    if isinstance(value, list):
        return parse_turns(value, where)
    raise FieldError(where, f"expected a string, a turn or a list of turns, found {_type_name(value)}")


def _norm_preference(record: dict[str, Any], det: Detection) -> Normalized:
    cf, rf = det.fields["chosen"], det.fields["rejected"]
    chosen = _side(record.get(cf), cf)
    rejected = _side(record.get(rf), rf)
    if not chosen:
        raise FieldError(cf, "is empty")
    if not rejected:
        raise FieldError(rf, "is empty")
    prompt_turns = _system_turn(record, det)
    field_turns: list[Turn] = []  # the turns read from the `prompt` field
    pf, mf = det.fields.get("prompt"), det.fields.get("messages")
    if pf:
        pv = record.get(pf)
        if isinstance(pv, list):
            field_turns = parse_turns(pv, pf)
            prompt_turns += field_turns
        else:
            ptext = text_value(pv, pf)
            if _is_hh(ptext):
                hh = parse_hh(ptext)
                if hh and hh[-1]["role"] == "assistant" and not hh[-1]["content"]:
                    hh = hh[:-1]
                prompt_turns += hh
                # The answers continue the transcript after "Assistant:", separator space included; strip
                # them as parse_hh strips every turn, so this equals the full-transcript reading.
                chosen = [turn(t["role"], t["content"].strip(), tool_call=t["tool_call"]) for t in chosen]
                rejected = [turn(t["role"], t["content"].strip(), tool_call=t["tool_call"]) for t in rejected]
            else:
                field_turns = [turn("user", ptext)]
                prompt_turns += field_turns
    elif mf:
        prompt_turns += parse_turns(record.get(mf), mf)
    # When both sides carry the whole conversation, their shared prefix is the prompt; UltraFeedback-binarized
    # repeats the `prompt` field as that prefix's last user turn, which must not appear twice.
    shared = _common_prefix(chosen, rejected)
    if shared:
        prefix = chosen[:shared]
        n = len(field_turns)
        if n and len(prefix) >= n and _same_turns(prefix[-n:], field_turns):
            prompt_turns = prompt_turns[:-n]
        prompt_turns += prefix
        chosen, rejected = chosen[shared:], rejected[shared:]
    chosen_text, rejected_text = render_turns(chosen), render_turns(rejected)
    messages = prompt_turns + chosen
    return Normalized(messages, render_turns(prompt_turns), chosen_text, chosen=chosen_text,
                      rejected=rejected_text)


def _same_turns(a: Sequence[Turn], b: Sequence[Turn]) -> bool:
    return len(a) == len(b) and all(x["role"] == y["role"] and str(x["content"]).strip() == str(y["content"]).strip()
                                    for x, y in zip(a, b, strict=True))


def _score_value(record: dict[str, Any], f: str) -> float:
    v = record.get(f)
    if v is None or v == "":
        return math.nan
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "false"):
            return 1.0 if s == "true" else 0.0
        try:
            return float(s)
        except ValueError:
            pass
    raise FieldError(f, f"expected a number or a boolean, found {_type_name(v)} ({v!r})")


def _mapped_text(record: dict[str, Any], f: str) -> str:
    v = record.get(f)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return "\n\n".join(v)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    return text_value(v, f, allow_missing=True)


def _norm_mapped(record: dict[str, Any], det: Detection) -> Normalized:
    f = det.fields
    score = _score_value(record, f["score"]) if "score" in f else math.nan
    if "messages" in f:
        base = _norm_chat(record, det)
    elif "chosen" in f and "rejected" in f:
        chosen, rejected = _mapped_text(record, f["chosen"]), _mapped_text(record, f["rejected"])
        turns = _system_turn(record, det)
        if "prompt" in f:
            turns.append(turn("user", _mapped_text(record, f["prompt"])))
        turns.append(turn("assistant", chosen))
        return Normalized(turns, render_turns(turns[:-1]), chosen, chosen=chosen, rejected=rejected, score=score)
    elif "text" in f and "prompt" not in f and "response" not in f:
        text = _mapped_text(record, f["text"])
        base = Normalized([turn("assistant", text)], "", text)
    else:
        turns = _system_turn(record, det)
        if "prompt" in f:
            turns.append(turn("user", _mapped_text(record, f["prompt"])))
        if "response" in f:
            turns.append(turn("assistant", _mapped_text(record, f["response"])))
        p, r = split_prompt_response(turns)
        base = Normalized(turns, p, r)
    return Normalized(base.messages, base.prompt, base.response, base.chosen, base.rejected, score, base.tools)


def normalize(record: dict[str, Any], det: Detection) -> Normalized:
    """One source record -> canonical fields under a file's Detection; raises FieldError."""
    if det.variant == "mapped":
        return _norm_mapped(record, det)
    if det.kind == "text":
        tf = det.fields["text"]
        text = text_value(record.get(tf), tf)
        return Normalized([turn("assistant", text)], "", text)
    if det.kind == "table":
        return Normalized([], "", "")
    if det.kind == "prompt":
        return _norm_prompt(record, det)
    if det.kind == "preference":
        if det.variant == "pref_lists":
            det = Detection(det.kind, det.variant, {"chosen": det.fields["chosen"],
                                                   "rejected": det.fields["rejected"]})
        return _norm_preference(record, det)
    base = _norm_chat(record, det) if det.variant == "chat" else _norm_sft(record, det)
    if det.kind == "scored":
        score = _score_value(record, det.fields["score"])
        return Normalized(base.messages, base.prompt, base.response, score=score, tools=base.tools)
    return base


def parse_mapping(text: str) -> dict[str, str]:
    """`prompt=question,response=best answer` -> {"prompt": "question", ...} (CLI `--map`)."""
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"bad mapping {part!r}: expected role=column")
        role, col = part.split("=", 1)
        out[role.strip()] = col.strip()
    return out
