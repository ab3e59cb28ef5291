"""`refusal`: refusals and "as an AI language model" boilerplate in responses."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from analysis.checks._re2 import may_match
from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.formatting import assistant_turns, most_severe

_APOS = "['\u2019]"
REFUSAL = re.compile(
    rf"\bI{_APOS}m (?:so |very |really )?sorry,? but I (?:can(?:no|{_APOS})t|can not|am unable|won{_APOS}t|"
    rf"(?:am|{_APOS}m) not able)"
    rf"|\bI (?:apologi[sz]e|am sorry),? but I (?:can(?:no|{_APOS})t|am unable|won{_APOS}t)"
    rf"|\bI (?:cannot|can{_APOS}t|can not|won{_APOS}t|am unable to|{_APOS}m unable to|am not able to|"
    rf"{_APOS}m not able to|must decline to|will not) (?:help|assist|provide|comply|fulfill|fulfil|answer|"
    rf"support|do that|engage|generate|create|write|give|offer|share|complete|respond)"
    rf"|\bI (?:must|have to) (?:respectfully )?decline"
    rf"|\b(?:this|that|your) request (?:is|goes) against\b",
    re.I)
BOILERPLATE = re.compile(
    rf"\bas an? (?:AI|artificial intelligence)(?: language model| model| assistant| chatbot)?\b"
    rf"|\bI{_APOS}m (?:just |only )?an? (?:AI|artificial intelligence|language model)\b"
    rf"|\bI am (?:just |only )?an? (?:AI|artificial intelligence|language model)\b"
    rf"|\bI (?:do not|don{_APOS}t) have (?:personal (?:experiences?|opinions|feelings|beliefs|preferences)|"
    rf"the ability to (?:browse|access))"
    rf"|\bmy (?:knowledge cutoff|training data)\b",
    re.I)
SEVERITY = {"refusal": 1.0, "ai_boilerplate": 0.7}
# Both patterns for RE2 without their word boundaries (RE2's `\b` is ASCII-only): a superset, so a response it
# does not match cannot hold a phrase (checks/_re2.py), and only the rest are searched phrase by phrase. Python's
# IGNORECASE also folds four non-ASCII letters onto ASCII ones (İ ı -> i, ſ -> s, K -> k) and RE2 does not: a text
# holding one of them always goes to the Python patterns.
PREFILTER = "(?i:" + "|".join(f"(?:{p.pattern.replace(chr(92) + 'b', '')})" for p in (REFUSAL, BOILERPLATE)) + \
    r")|[\x{130}\x{131}\x{17F}\x{212A}]"  # (case-sensitive: folded, ſ and K would match every s and k)


@register
class RefusalCheck(Check):
    """Refusals and AI boilerplate in assistant turns.

    Catches `refusal` ("I'm sorry, but I can't", "I cannot help with", "I am unable to assist", "I must
    decline") and `ai_boilerplate` ("As an AI language model", "I'm just an AI", "I don't have personal
    opinions", "my training data"). Distilled datasets inherit these from the teacher model; finetuning on
    them teaches unwarranted refusals and a generic assistant voice (the "as an AI language model" cleaning
    step of Vicuna/WizardLM-style pipelines). A phrase only counts where it shapes the answer: it must start
    within the first `start_chars` characters of the turn, or the turn must be short (`short_chars`) so the
    phrase is a dominant part of it; a long helpful answer mentioning "I can't" in passing is not flagged.
    Empathetic "I'm sorry to hear that" is never a refusal. Threshold: one qualifying phrase flags the row;
    with both codes the row reports `refusal` (more severe than boilerplate). Score: the code's severity,
    scaled down (x0.8) when the phrase is only dominant by length, not at the start. Evidence: the reported
    code's first qualifying phrase as written ("I'm sorry, but I can't", "As an AI language model").
    """

    name = "refusal"
    row_local = True
    description = "Refusals ('I'm sorry, but I can't') or AI boilerplate ('As an AI language model') in a response"

    bounds = {"start_chars": Bound(1, 10_000_000), "short_chars": Bound(1, 10_000_000)}

    @dataclass(frozen=True)
    class Params:
        start_chars: int = 200  # about the first two sentences: where a refusal or disclaimer opens an answer
        short_chars: int = 400  # a turn this short is dominated by any refusal sentence in it

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        codes_seen: Counter[str] = Counter()
        detail: dict[str, int] = {}
        evidence = np.full(n, "", dtype=object)
        row_ids = ctx.rows["row_id"].to_numpy()
        turns_of = list(assistant_turns(ctx))
        candidate = may_match(["\n".join(t for _, t in turns) for _, turns in turns_of], PREFILTER)
        for i, turns in ctx.track(turns_of):
            if not candidate[i]:
                continue
            codes: dict[str, float] = {}
            spans: dict[str, str] = {}  # code -> its first qualifying phrase, as written
            first = -1
            for j, text in turns:
                short = len(text) <= p.short_chars
                for code, pattern in (("refusal", REFUSAL), ("ai_boilerplate", BOILERPLATE)):
                    m = pattern.search(text)
                    if m is None or not (m.start() <= p.start_chars or short):
                        continue
                    s = SEVERITY[code] * (1.0 if m.start() <= p.start_chars else 0.8)
                    codes[code] = max(codes.get(code, 0.0), s)
                    spans.setdefault(code, m.group())
                    if first < 0:
                        first = j
            if codes:
                reason[i] = most_severe(set(codes), SEVERITY)
                score[i] = codes[reason[i]]
                codes_seen.update(codes)
                evidence[i] = spans[reason[i]]
                if len(detail) < 200:
                    detail[str(int(row_ids[i]))] = first
        return self.result(ctx, score=score, reason=reason, evidence=evidence,
                           summary={"codes": dict(codes_seen), "detail": {"first_turn_by_row_id": detail},
                                    "multi_code": "refusal wins over ai_boilerplate; both counted in `codes`"})
