"""`formatting`: HTML residue, leftover chat-template tokens and unbalanced code fences in responses.

Also home of the small code-aware text helpers the other text checks share (`strip_code`,
`assistant_turns`, `non_assistant_text`), so every check agrees on what "outside code" means.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.checks.base import Check, CheckContext, CheckResult, register

# ---------------------------------------------------------------------------------------------- shared helpers

_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def split_code(text: str) -> tuple[str, bool]:
    """(prose, unbalanced): the text with fenced blocks and inline code spans blanked, and whether a fence
    was opened and never closed. An unclosed fence runs to the end of the text (CommonMark does the same),
    so what follows it counts as code. Lines are kept (code lines become empty) so line rules still work."""
    if "`" not in text and "~~~" not in text:
        return text, False
    out: list[str] = []
    fence = ""
    for line in text.split("\n"):
        m = _FENCE_OPEN.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = ""
            out.append("")
        elif m:
            fence = m.group(1)
            out.append("")
        else:
            out.append(line)
    prose = "\n".join(out)
    if "`" in prose:
        prose = _INLINE_CODE.sub(" ", prose)
    return prose, bool(fence)


def strip_code(text: str) -> str:
    return split_code(text)[0]


def open_fence_line(text: str) -> str:
    """The opening line of the fence `split_code` reports as never closed ("" when every fence is closed)."""
    fence, opened = "", ""
    for line in text.split("\n"):
        m = _FENCE_OPEN.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = ""
        elif m:
            fence, opened = m.group(1), line
    return opened.strip() if fence else ""


EVIDENCE_CHARS = 200  # evidence spans are cut to this many characters (their start, verbatim)


def verbatim(span: str, text: str) -> str:
    """`span` (found in a code-blanked copy of `text`) cut to `EVIDENCE_CHARS`, or "" when blanking changed it so
    that it no longer occurs in the original text (a match straddling a blanked inline-code span)."""
    span = span.strip()[:EVIDENCE_CHARS]
    return span if span and span in text else ""


def assistant_turns(ctx: CheckContext) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """(row index, [(turn index, content)]) of every non-empty assistant turn that is not a bare tool call.

    Preference rows hold `chosen` as their assistant turn; `rejected` is deliberately not a "response" for
    the residue checks: it is the example the model is pushed away from."""
    for i, turns in enumerate(ctx.messages):
        yield i, [(j, str(t.get("content") or "")) for j, t in enumerate(turns)
                  if t.get("role") == "assistant" and t.get("content")]


def non_assistant_text(turns: list[dict[str, Any]]) -> str:
    """Everything the user/system side said in a row: the instruction context for prompt-based exemptions."""
    return "\n".join(str(t.get("content") or "") for t in turns if t.get("role") != "assistant")


def most_severe(codes: set[str], severity: dict[str, float]) -> str:
    """The single reason code reported for a row: the most severe one by the part before any ":" (ties,
    e.g. two `api_key:<provider>` codes: alphabetical, so the choice is stable)."""
    return max(sorted(codes), key=lambda c: severity.get(c.split(":")[0], 0.0))


# ---------------------------------------------------------------------------------------------- the check

_HTML_TAGS = ("p|div|br|span|a|b|i|u|em|strong|ul|ol|li|table|thead|tbody|tr|td|th|h[1-6]|img|font|hr|pre|"
              "blockquote|center|sup|sub|section|article|header|footer|nav|html|body|head|script|style|iframe|"
              "form|input|button|label|select|option|textarea|small|big|tt|dl|dt|dd|meta|link")
# `(?<![\w<])`: a tag glued to an identifier is a generic (`List<String>`, `Foo<A>`), not markup.
HTML_TAG = re.compile(rf"(?<![\w<])</?(?:{_HTML_TAGS})(?:\s+[^<>\n]*?)?\s*/?>", re.I)
HTML_ENTITY = re.compile(r"&(?:nbsp|amp|lt|gt|quot|apos|mdash|ndash|hellip|rsquo|lsquo|ldquo|rdquo|copy|reg|"
                         r"#\d{2,5}|#x[0-9a-f]{2,4});", re.I)
TEMPLATE_TOKEN = re.compile(r"<\|[a-z_]{2,30}\|>|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|"
                            r"^[ \t]*###[ \t]*(?:Response|Instruction|Input|Assistant|Human)[ \t]*:", re.M | re.I)
# A prompt that asks for markup makes tags and entities in the answer legitimate.
MARKUP_PROMPT = re.compile(r"\b(?:html5?|xhtml|xml|svg|jsx|tsx|react|vue|angular|markup|web ?page|"
                           r"website|css|dom|tags?|entit(?:y|ies)|browser|javascript|js|php)\b"
                           r"|</?[a-z][a-z0-9]*[ >]", re.I)

SEVERITY = {"template_token": 1.0, "unbalanced_fence": 0.8, "html_tag": 0.7, "html_entity": 0.6}


@register
class FormattingCheck(Check):
    """Formatting residue in assistant turns: HTML tags and entities, chat-template tokens, broken fences.

    Catches scraping and conversion leftovers outside code: HTML tags (`<div>`, `<br>`, `</p>`) and entities
    (`&nbsp;`, `&amp;`), leftover chat-template tokens (`<|im_start|>`, `<|im_end|>`, `[INST]`, `<<SYS>>`,
    `<s>`, `</s>`, `### Response:` at a line start) and an odd number of ``` fences (reason codes
    `html_tag`, `html_entity`, `template_token`, `unbalanced_fence`). A model finetuned on them reproduces
    the markup in plain-text answers, and stray template tokens corrupt the turn structure the chat template
    adds at training time. Code is legitimately full of `<`, `&` and tags, so fenced blocks and inline code
    spans are ignored, a tag glued to an identifier is a generic (`List<String>`), comparisons (`a < b`) and
    `#include <stdio.h>` never match the closed tag list, and when the user side of the row mentions HTML,
    XML, web pages, React, JavaScript, PHP and the like, or itself contains a tag (`MARKUP_PROMPT`), tags
    and entities are not flagged at all (template tokens and fences still are). Threshold: any one hit flags
    the row (precision comes from the patterns, not from counting); a row with several codes reports the
    most severe one (template_token > unbalanced_fence > html_tag > html_entity) and `summary["codes"]`
    counts every code. Evidence: the reported code's first hit as written (the tag, entity or template token,
    or the opening line of the unclosed fence). Measured: 0 of CodeAlpaca-2k's 2,017 rows (acceptance bound
    2 %), 0 of GSM8K.
    """

    name = "formatting"
    row_local = True
    description = "HTML tags/entities, chat-template tokens or unbalanced code fences in a response"

    @dataclass(frozen=True)
    class Params:
        check_fences: bool = True  # an odd fence count breaks markdown rendering of everything after it
        exempt_markup_prompts: bool = True  # the user asked for HTML/XML: tags in the answer are the answer

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        codes_seen: Counter[str] = Counter()
        turn_of: dict[str, int] = {}
        evidence = np.full(n, "", dtype=object)
        row_ids = ctx.rows["row_id"].to_numpy()
        messages = ctx.messages
        for i, turns in ctx.track(assistant_turns(ctx), total=len(ctx)):
            codes: set[str] = set()
            markup_ok: bool | None = None
            first_turn = -1
            where: dict[str, str] = {}  # code -> the first turn's text that has it
            for j, text in turns:
                if not ("<" in text or "&" in text or "[" in text or "#" in text or "`" in text or "~" in text):
                    continue
                prose, unbalanced = split_code(text)
                found: set[str] = set()
                if unbalanced and p.check_fences:
                    found.add("unbalanced_fence")
                if TEMPLATE_TOKEN.search(prose):
                    found.add("template_token")
                has_tag = "<" in prose and HTML_TAG.search(prose) is not None
                has_ent = "&" in prose and HTML_ENTITY.search(prose) is not None
                if (has_tag or has_ent) and p.exempt_markup_prompts:
                    if markup_ok is None:
                        markup_ok = MARKUP_PROMPT.search(non_assistant_text(messages[i])) is not None
                    if markup_ok:
                        has_tag = has_ent = False
                if has_tag:
                    found.add("html_tag")
                if has_ent:
                    found.add("html_entity")
                if found and first_turn < 0:
                    first_turn = j
                for code in found - codes:
                    where[code] = text
                codes |= found
            if codes:
                reason[i] = most_severe(codes, SEVERITY)
                score[i] = min(1.0, SEVERITY[reason[i]] + 0.1 * (len(codes) - 1))
                codes_seen.update(codes)
                evidence[i] = formatting_span(where[reason[i]], reason[i])
                if len(turn_of) < 200:
                    turn_of[str(int(row_ids[i]))] = first_turn
        return self.result(ctx, score=score, reason=reason, evidence=evidence,
                           summary={"codes": dict(codes_seen), "detail": {"first_turn_by_row_id": turn_of},
                                    "multi_code": "most severe code per row; all codes counted in `codes`"})


def formatting_span(text: str, code: str) -> str:
    """The first hit of `code` in one assistant turn, as written there (code spans are not searched)."""
    if code == "unbalanced_fence":
        return open_fence_line(text)[:EVIDENCE_CHARS]
    prose = strip_code(text)
    pattern = {"template_token": TEMPLATE_TOKEN, "html_tag": HTML_TAG, "html_entity": HTML_ENTITY}[code]
    m = pattern.search(prose)
    return verbatim(m.group(), text) if m else ""
