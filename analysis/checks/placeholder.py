"""`placeholder`: unfilled template variables and filler text in responses."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from analysis.checks.base import Check, CheckContext, CheckResult, register
from analysis.checks.formatting import (
    HTML_TAG,
    assistant_turns,
    most_severe,
    non_assistant_text,
    strip_code,
    verbatim,
)

DOUBLE_BRACE = re.compile(r"\{\{\s*[A-Za-z_][\w.]*\s*\}\}")
# `{identifier}` of 3+ characters not part of `{{`/`${`/`#{`/`f"{`: `{x}` (set notation) and `{n}` are left alone.
SINGLE_BRACE = re.compile(r"(?<![{$#%\w])\{([A-Za-z_][A-Za-z0-9_]{2,})\}(?!\})")
# A line with any of these characters, or indented like code, is code or JSON/markup/maths, not prose.
CODE_LINE = re.compile(r"[=;()\"'$%\\<>\[\]:@]|^(?: {4}|\t)|^\s*(?:\*|//|#)")
# Angle placeholders are judged with a narrower rule (`<>` and `:` are allowed: "Subject: <TITLE>").
ANGLE_CODE_LINE = re.compile(r"[=;(){}\"'$\\]|^(?: {4}|\t)")
INSERT_MARKER = re.compile(r"\[\s*(?:insert|your|enter|add|fill in|placeholder|todo|tbd)\b[^\]\n]{0,60}\](?!\()",
                           re.I)
ANGLE = re.compile(r"(?<![\w<])<([A-Z][A-Z0-9_ ]{2,30}[A-Z0-9])>")
LOREM = re.compile(r"\blorem ipsum\b", re.I)
# The user asked for a template, a form letter or filler text: placeholders are then what was asked for.
TEMPLATE_PROMPT = re.compile(r"\b(?:templates?|placeholders?|jinja2?|handlebars|mustache|django|flask|liquid|"
                             r"lorem|filler|dummy text|mail ?merge|format strings?|f-strings?)\b", re.I)

SEVERITY = {"double_brace_var": 1.0, "insert_marker": 0.9, "angle_placeholder": 0.8, "single_brace_var": 0.7,
            "lorem_ipsum": 0.6}


def _looks_like_json(text: str) -> bool:
    t = text.lstrip()
    return t[:1] in "{[" and t.rstrip()[-1:] in "}]"


def placeholder_spans(text: str) -> dict[str, str]:
    """Each placeholder reason code present in one response -> its first hit, as written in the prose (fenced
    blocks and code spans are ignored)."""
    if not ("{" in text or "[" in text or "<" in text or "orem" in text):
        return {}
    prose = strip_code(text)
    found: dict[str, str] = {}
    # `{% ... %}` next to `{{ ... }}` is a Jinja/Django template being written, not a slot left unfilled.
    if "{{" in prose and "{%" not in prose and (m := DOUBLE_BRACE.search(prose)):
        found["double_brace_var"] = m.group()
    if "{" in prose and not _looks_like_json(prose):
        for line in prose.split("\n"):
            if "{" in line and not CODE_LINE.search(line) and (m := SINGLE_BRACE.search(line)):
                found["single_brace_var"] = m.group()
                break
    if "[" in prose and (m := INSERT_MARKER.search(prose)):
        found["insert_marker"] = m.group()
    if "<" in prose:
        for line in prose.split("\n"):
            if "<" not in line or ANGLE_CODE_LINE.search(line):
                continue
            # `<HTML>`, `<BR>` are markup, the formatting check's job
            hit = next((m.group(0) for m in ANGLE.finditer(line) if not HTML_TAG.fullmatch(m.group(0))), None)
            if hit is not None:
                found["angle_placeholder"] = hit
                break
    if "orem" in prose and (m := LOREM.search(prose)):
        found["lorem_ipsum"] = m.group()
    return found


def find_placeholders(text: str) -> set[str]:
    """The placeholder reason codes present in one response (code spans and fenced blocks ignored)."""
    return set(placeholder_spans(text))


@register
class PlaceholderCheck(Check):
    """Unfilled template variables and filler text in assistant turns.

    Catches `{{name}}` (`double_brace_var`), prose `{name}` (`single_brace_var`), `[INSERT ...]` /
    `[Your Name]` (`insert_marker`), all-caps `<PLACEHOLDER>` / `<NAME>` tags (`angle_placeholder`) and
    "lorem ipsum" (`lorem_ipsum`). Such rows come from a generation or templating step that never filled its
    slots; a finetuned model learns to answer "I am {{name}}" or sign emails "[Your Name]". Code and JSON
    use braces legitimately, so fenced blocks and inline code are ignored everywhere, and a single-brace
    `{identifier}` (3+ characters) only counts on a prose line: not when the whole response looks like
    JSON (starts with `{`/`[` and ends with `}`/`]`), and not on a line holding any of `= ; ( ) " ' $ % \\ < >
    [ ] : @`, indented like code or starting like a comment (f-strings, format calls, LaTeX, dict literals,
    JSDoc `@param {string}`). The same applies, more narrowly, to `<NAME>` (a `<YOUR_API_KEY>` in a code
    line is an instruction to the reader), and `{{var}}` next to `{% ... %}` is a Jinja template being
    written. When the user side asks for
    a template, placeholders, Jinja/Django/Flask, lorem ipsum or filler text, nothing is flagged. Threshold:
    one hit flags the row; a row with several codes reports the most severe (double_brace_var >
    insert_marker > angle_placeholder > single_brace_var > lorem_ipsum); its evidence is that code's first hit
    as written (`{{name}}`, `[Your Name]`, `Lorem ipsum`). Acceptance: on LLaMA-Factory's
    identity.json it flags exactly the 85 rows whose response contains `{{`.
    """

    name = "placeholder"
    row_local = True
    description = "Unfilled template variables ({{name}}, [INSERT ...], <NAME>) or lorem ipsum in a response"

    @dataclass(frozen=True)
    class Params:
        single_brace: bool = True  # `{name}` in prose; the noisiest rule, so it can be switched off alone
        exempt_template_prompts: bool = True  # the user asked for a template: its slots are the answer

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        codes_seen: Counter[str] = Counter()
        detail: dict[str, int] = {}
        evidence = np.full(n, "", dtype=object)
        row_ids = ctx.rows["row_id"].to_numpy()
        messages = ctx.messages
        for i, turns in ctx.track(assistant_turns(ctx), total=len(ctx)):
            codes: set[str] = set()
            spans: dict[str, tuple[str, str]] = {}  # code -> (its first hit in the row, that turn's text)
            first = -1
            for j, text in turns:
                hits = placeholder_spans(text)
                if not p.single_brace:
                    hits.pop("single_brace_var", None)
                if hits and first < 0:
                    first = j
                for code, hit in hits.items():
                    spans.setdefault(code, (hit, text))
                codes |= set(hits)
            if codes and p.exempt_template_prompts and TEMPLATE_PROMPT.search(non_assistant_text(messages[i])):
                codes = set()
            if codes:
                reason[i] = most_severe(codes, SEVERITY)
                score[i] = min(1.0, SEVERITY[reason[i]] + 0.1 * (len(codes) - 1))
                codes_seen.update(codes)
                evidence[i] = verbatim(*spans[reason[i]])
                if len(detail) < 200:
                    detail[str(int(row_ids[i]))] = first
        return self.result(ctx, score=score, reason=reason, evidence=evidence,
                           summary={"codes": dict(codes_seen), "detail": {"first_turn_by_row_id": detail},
                                    "multi_code": "most severe code per row; all codes counted in `codes`"})
