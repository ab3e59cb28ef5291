"""`encoding`: mojibake, U+FFFD replacement characters and stray control characters (issue 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import ftfy
import numpy as np
from ftfy.badness import BADNESS_RE

from analysis.checks._re2 import may_match
from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bidirectional embeddings, overrides and isolates: they reorder how text *displays* without changing what a model
# reads ("Trojan Source", CVE-2021-42574), so a reviewer sees one text and the model learns another. The implicit
# marks (LRM U+200E, RLM U+200F, ALM U+061C) are ordinary in right-to-left writing and are left alone.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Invisible characters with no job in training text: zero-width space, word joiner, invisible math operators, a BOM
# past the first character, the Mongolian vowel separator, interlinear annotation marks and the Unicode tag block
# (which smuggles hidden ASCII instructions past a reader). ZWJ/ZWNJ are left alone: emoji sequences and Persian or
# Indic spelling need them.
_INVISIBLE = re.compile("[\u200b\u2060-\u2064\u180e\ufff9-\ufffb\U000e0000-\U000e007f]|(?<=.)\ufeff", re.S)
# Only encoding repairs: ftfy's cosmetic normalisations (curly -> straight quotes, ligatures, full-width
# characters, NFC, line breaks, HTML unescaping, control-char removal) would "fix" correct text.
_FIX_ONLY_ENCODING = ftfy.TextFixerConfig(unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False,
                                          fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
                                          remove_control_chars=False, normalization=None, explain=False)
SNIPPET = 30


def _re2_from_verbose(pattern: str) -> str:
    """A Python VERBOSE pattern as RE2 syntax matching at least as much: whitespace and comments outside character
    classes dropped, and Unicode `\\w` / `\\s` widened to RE2 property classes (RE2's own are ASCII-only)."""
    word, space = r"\pL\pN\pM_", r"\s\pZ\x{1c}-\x{1f}\x{85}"
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            esc = pattern[i:i + 2]
            wide = {"\\w": word, "\\s": space}.get(esc)
            out.append(esc if wide is None else (wide if in_class else f"[{wide}]"))
            i += 2
            continue
        if in_class:
            out.append(c)
            if c == "]" and not (out[-2] == "[" or out[-2:-1] == ["^"] and out[-3] == "["):
                in_class = False
        elif c == "[":
            out.append(c)
            in_class = True
        elif c == "#":
            while i < len(pattern) and pattern[i] != "\n":
                i += 1
            continue
        elif not c.isspace():
            out.append(c)
        i += 1
    return "".join(out)


# What ftfy's encoding repair needs to see before it changes a text: a mojibake pattern (its `is_bad`), a C1
# control (fix_c1_controls) or a surrogate (which Arrow cannot hold: such a text always goes to ftfy). A text
# this RE2 pre-filter does not match is returned unchanged by ftfy, so only the rest are run through it.
MOJIBAKE_PREFILTER = _re2_from_verbose(BADNESS_RE.pattern) + r"|[\x{80}-\x{9f}]"


def fix_encoding(text: str) -> str:
    return ftfy.fix_text(text, _FIX_ONLY_ENCODING)


def snippet(before: str, after: str) -> tuple[str, str]:
    """The first differing stretch of before/after, with a little context on each side."""
    start = next((k for k, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before),
                                                                                               len(after)))
    lo = max(0, start - SNIPPET)
    return before[lo:start + SNIPPET], after[lo:start + SNIPPET]


def around(text: str, start: int, end: int, context: int = 10) -> str:
    """text[start:end] widened by up to `context` characters either side, stopping at spaces and line breaks (so
    the evidence stays inside one turn and reads as the word it broke)."""
    a, b = start, end
    while a > max(0, start - context) and text[a - 1] not in " \t\r\n":
        a -= 1
    while b < min(len(text), end + context) and text[b] not in " \t\r\n":
        b += 1
    return text[a:b]


def broken_span(text: str, reason: str, fixed: str = "") -> str:
    """The evidence for one flagged text: the mojibake sequence, the replacement character(s) or the control
    character, with the rest of the word around it."""
    if reason == "mojibake":
        start = next((k for k, (a, b) in enumerate(zip(text, fixed, strict=False)) if a != b),
                     min(len(text), len(fixed)))
        a = start
        while a > max(0, start - 6) and not text[a - 1].isascii():
            a -= 1
        b = start
        while b < min(len(text), start + 6) and not text[b].isascii():
            b += 1
        return around(text, a, max(b, min(a + 1, len(text))))
    if reason == "replacement_char":
        a = b = text.index("\ufffd")
        while b < len(text) and text[b] == "\ufffd":
            b += 1
        return around(text, a, b)
    pattern = {"bidi_control": _BIDI, "invisible_chars": _INVISIBLE}.get(reason, _CONTROL)
    m = pattern.search(text)
    return around(text, m.start(), m.end()) if m else ""


def invisible_problem(text: str) -> str:
    """"bidi_control", "invisible_chars" or "" for a non-ASCII text (ASCII text holds neither)."""
    if _BIDI.search(text):
        return "bidi_control"
    return "invisible_chars" if _INVISIBLE.search(text) else ""


@register
class EncodingCheck(Check):
    """Broken text encoding: mojibake (`mojibake`: UTF-8 decoded as Latin-1/Windows-1252, `Ã©` for é, `â€™` for ’,
    `Â²` for ², which ftfy's encoding repair undoes), the U+FFFD replacement character (`replacement_char`: bytes
    already lost in a lossy decode) and C0 control characters other than tab, newline and carriage return, plus
    DEL (`control_chars`: NUL, backspace, escape sequences — invisible, and they break tokenizers and JSON
    tooling). A model finetuned on mojibake reproduces it. Detection runs `ftfy.fix_text` with every cosmetic
    fixer switched off (`uncurl_quotes`, ligatures, character width, line breaks, HTML unescaping, control-char
    removal, Unicode normalisation), so only a change made by ftfy's encoding repairs (fix_encoding,
    restore_byte_a0, replace_lossy_sequences, decode_inconsistent_utf8, fix_c1_controls, fix_surrogates) counts
    as a fix; ordinary non-ASCII (é, 中文, emoji, curly quotes, ligatures) is correct text and is left alone.
    ftfy's own heuristics decide (it is built to avoid false positives on real text); pure-ASCII text is never
    sent to it. Score: 1.0 replacement char, 0.9 mojibake, 0.8 bidi control, 0.7 control chars, 0.6 invisible chars; one
    reason per row in that order.
    `summary["fixes"]`: up to 50 {row_id, before, after} snippets of what ftfy would change. Evidence: the
    first broken sequence (`Ã©`, U+FFFD, the control character) with the rest of its word, verbatim. Checked on
    `both` (every turn: a broken prompt is as bad as a broken answer). Invisible text: bidirectional embedding,
    override and isolate controls (`bidi_control`: U+202A-U+202E, U+2066-U+2069, which make a reviewer read a
    different order than the model does) and invisible characters with no job in training text (`invisible_chars`:
    zero-width space, word joiner, invisible operators, a BOM past the first character, Unicode tag characters that
    smuggle hidden instructions); the implicit RTL marks and ZWJ/ZWNJ (emoji, Persian, Indic) are correct text.
    Measured: 0 on CodeAlpaca-2k; on GSM8K train one row, a real zero-width space (`\\u200bis`); 3 of
    300 rows of LLaMA-Factory's c4_demo.
    """

    name = "encoding"
    row_local = True
    description = ("Mojibake (Ã©, â€™), U+FFFD replacement characters, control characters, bidi overrides or "
                   "invisible characters in the text")

    bounds = {"max_fixes": Bound(0, 100_000)}

    @dataclass(frozen=True)
    class Params:
        scope: str = "both"  # every turn: the prompt side is training context too
        max_fixes: int = 50  # before/after examples kept in the summary

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        texts = ctx.texts(p.scope)
        n = len(texts)
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        row_ids = ctx.rows["row_id"].to_numpy()
        fixes: list[dict[str, object]] = []
        evidence = np.full(n, "", dtype=object)
        suspect = may_match(texts, MOJIBAKE_PREFILTER)
        for i, text in enumerate(ctx.track(texts)):
            if text.isascii():
                if _CONTROL.search(text):
                    reason[i], score[i] = "control_chars", 0.7
                    evidence[i] = broken_span(text, "control_chars")
                continue
            if "\ufffd" in text:
                reason[i], score[i] = "replacement_char", 1.0
                evidence[i] = broken_span(text, "replacement_char")
                continue
            fixed = fix_encoding(text) if suspect[i] else text
            if fixed != text:
                reason[i], score[i] = "mojibake", 0.9
                evidence[i] = broken_span(text, "mojibake", fixed)
                if len(fixes) < p.max_fixes:
                    before, after = snippet(text, fixed)
                    fixes.append({"row_id": int(row_ids[i]), "before": before, "after": after})
            else:
                hidden = invisible_problem(text)
                code, sev = ((hidden, 0.8) if hidden == "bidi_control" else ("control_chars", 0.7)
                             if _CONTROL.search(text) else (hidden, 0.6))
                if code:
                    reason[i], score[i] = code, sev
                    evidence[i] = broken_span(text, code)
        return self.result(ctx, score=score, reason=reason, evidence=evidence, summary={"fixes": fixes})
