"""`encoding`: mojibake, U+FFFD replacement characters and stray control characters (issue 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import ftfy
import numpy as np

from analysis.checks.base import Check, CheckContext, CheckResult, register

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Only encoding repairs: ftfy's cosmetic normalisations (curly -> straight quotes, ligatures, full-width
# characters, NFC, line breaks, HTML unescaping, control-char removal) would "fix" correct text.
_FIX_ONLY_ENCODING = ftfy.TextFixerConfig(unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False,
                                          fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
                                          remove_control_chars=False, normalization=None, explain=False)
SNIPPET = 30


def fix_encoding(text: str) -> str:
    return ftfy.fix_text(text, _FIX_ONLY_ENCODING)


def snippet(before: str, after: str) -> tuple[str, str]:
    """The first differing stretch of before/after, with a little context on each side."""
    start = next((k for k, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before),
                                                                                               len(after)))
    lo = max(0, start - SNIPPET)
    return before[lo:start + SNIPPET], after[lo:start + SNIPPET]


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
    sent to it. Score: 1.0 replacement char, 0.9 mojibake, 0.7 control chars; one reason per row in that order.
    `summary["fixes"]`: up to 50 {row_id, before, after} snippets of what ftfy would change. Checked on `both`
    (every turn: a broken prompt is as bad as a broken answer). Measured: 0 on GSM8K train and CodeAlpaca-2k.
    """

    name = "encoding"
    description = "Mojibake (Ã©, â€™), U+FFFD replacement characters or control characters in the text"

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
        for i, text in enumerate(texts):
            if text.isascii():
                if _CONTROL.search(text):
                    reason[i], score[i] = "control_chars", 0.7
                continue
            if "\ufffd" in text:
                reason[i], score[i] = "replacement_char", 1.0
                continue
            fixed = fix_encoding(text)
            if fixed != text:
                reason[i], score[i] = "mojibake", 0.9
                if len(fixes) < p.max_fixes:
                    before, after = snippet(text, fixed)
                    fixes.append({"row_id": int(row_ids[i]), "before": before, "after": after})
            elif _CONTROL.search(text):
                reason[i], score[i] = "control_chars", 0.7
        return self.result(ctx, score=score, reason=reason, summary={"fixes": fixes})
