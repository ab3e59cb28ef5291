"""`pii` and `secrets`: personal data and credentials anywhere in a row (every turn, code included)."""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.checks._re2 import may_match
from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.formatting import most_severe


def row_turns(ctx: CheckContext, rows: Iterable[int] | None = None) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """(row index, [(where, text)]) with where = "turn <j> (<role>)" for every turn, plus "rejected" for a
    preference row: leaked data is a problem on either side of a pair, since both are stored and shipped.
    `rows`: only these row indices (ascending), e.g. those a pre-filter let through."""
    rejected = ctx.rows["rejected"].tolist() if "rejected" in ctx.rows else [None] * len(ctx)
    messages = ctx.messages
    for i in range(len(messages)) if rows is None else rows:
        out = [(f"turn {j} ({t.get('role')})", str(t.get("content") or "")) for j, t in enumerate(messages[i])
               if t.get("content")]
        if isinstance(rejected[i], str) and rejected[i]:
            out.append(("rejected", rejected[i]))
        yield i, out


def _scan(ctx: CheckContext, finder: Callable[[str], list[tuple[str, str, str]]], severity: dict[str, float],
          max_detail: int = 200, prefilter: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                      dict[str, Any]]:
    """Run `finder(text) -> [(code, masked match, evidence)]` over every turn; most severe code per row, and
    the evidence of that code's first hit. `prefilter`: an RE2 pattern that every hit's text must match
    (checks/_re2.py); rows whose turns cannot match it are skipped without running `finder`."""
    n = len(ctx)
    candidate = may_match(_row_texts(ctx), prefilter) if prefilter else np.ones(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    score = np.zeros(n)
    evidence = np.full(n, "", dtype=object)
    codes_seen: Counter[str] = Counter()
    where_seen: Counter[str] = Counter()
    detail: dict[str, list[str]] = {}
    row_ids = ctx.rows["row_id"].to_numpy()
    for i, turns in row_turns(ctx, ctx.track(np.flatnonzero(candidate).tolist(), label="candidate rows")):
        codes: set[str] = set()
        hits: list[str] = []
        spans: dict[str, str] = {}
        for where, text in turns:
            for code, masked, span in finder(text):
                codes.add(code)
                spans.setdefault(code, span)
                hits.append(f"{code} in {where}: {masked}")
                where_seen[where.split(" (")[-1].rstrip(")") if "(" in where else where] += 1
        if codes:
            reason[i] = most_severe(codes, severity)
            score[i] = min(1.0, severity[reason[i].split(":")[0]] + 0.05 * (len(hits) - 1))
            codes_seen.update(codes)
            evidence[i] = spans[reason[i]]
            if len(detail) < max_detail:
                detail[str(int(row_ids[i]))] = hits[:5]
    return score, reason, evidence, {"codes": dict(codes_seen), "hits_by_role": dict(where_seen), "detail": detail,
                           "multi_code": "most severe code per row; all codes counted in `codes`"}


def _row_texts(ctx: CheckContext) -> list[str]:
    """Each row's turns and rejected side in one string: what `row_turns` scans, for a row-level pre-filter."""
    rejected = ctx.rows["rejected"].tolist() if "rejected" in ctx.rows else [None] * len(ctx)
    return ["\n".join([*(str(t.get("content") or "") for t in m), r if isinstance(r, str) else ""])
            for m, r in zip(ctx.messages, rejected, strict=True)]


def _mask(s: str, keep: int = 4) -> str:
    return s[:keep] + "…" + f"({len(s)} chars)" if len(s) > keep else s


# ---------------------------------------------------------------------------------------------- pii

EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24})\b")
# Reserved for documentation and tests (RFC 2606 / 6761): not anybody's address.
RESERVED_DOMAIN = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost)$", re.I)
# Obvious stand-in local parts ("example@gmail.com", "your.name@..."): documentation, not a person.
PLACEHOLDER_LOCAL = re.compile(r"(?:example|test|user(?:name)?|your[._]?(?:name|email)|name|someone|email|"
                               r"foo|bar|john[._]?doe|jane[._]?doe)$", re.I)
# Phones need their punctuation: +CC with 8-15 digits in groups, or a NANP (xxx) xxx-xxxx / xxx-xxx-xxxx /
# xxx.xxx.xxxx. Bare digit runs and arithmetic ("16 - 3 - 4 = 9") never match.
PHONE = re.compile(r"(?<![\w+.=/-])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}"
                   r"|\(\d{3}\) ?\d{3}-\d{4}|\d{3}-\d{3}-\d{4}|\d{3}\.\d{3}\.\d{4})(?![\w.-]*\d)")
CARD = re.compile(r"(?<![\w.-])(?:[3-6]\d{3}(?:[ -]?\d{4}){2}(?:[ -]?\d{1,4})|3[47]\d{2}[ -]?\d{6}[ -]?\d{5})"
                  r"(?![\w-]|\.\d)")
IPV4 = re.compile(r"(?<![\w.])((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})"
                  r"(?![\w]|\.\d)")
# Version strings look like addresses: skip one preceded by "v", "version", "==", ">=" or similar.
VERSION_BEFORE = re.compile(r"(?:\bv|version\s*:?|release\s*|[=<>~^]=?)\s*$", re.I)
_DIGIT = re.compile(r"\d")
IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b")

# Every pattern above needs one of these (RE2 syntax, `\p{Nd}` = Python's Unicode `\d`): an "@" (email); a "+digit"
# not preceded by a word character or + . = / - (the phone pattern's look-behind: "3+4" is arithmetic), "(ddd)",
# ddd-ddd-dddd or ddd.ddd.dddd (phone); 4 digits then 4 more (card); a dotted quad (IPv4); two capitals and two
# digits (IBAN). The excluded characters are a subset of Python's, so this is a superset of the hits: a row it does
# not match is skipped with the same result.
PII_PREFILTER = (r"@|(?:^|[^\pL\pN_+.=/-])\+\p{Nd}|\(\p{Nd}{3}\)|\p{Nd}{3}-\p{Nd}{3}-\p{Nd}{4}"
                 r"|\p{Nd}{3}\.\p{Nd}{3}\.\p{Nd}{4}|\p{Nd}{4}[ -]?\p{Nd}{4}"
                 r"|\p{Nd}{1,3}\.\p{Nd}{1,3}\.\p{Nd}{1,3}\.\p{Nd}|[A-Z]{2}\p{Nd}{2}")
PII_SEVERITY = {"credit_card": 1.0, "iban": 0.9, "phone": 0.8, "email": 0.7, "ip_address": 0.5}


def luhn_ok(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def find_pii(text: str, *, ignore_private_ips: bool = True, min_phone_digits: int = 10) -> list[tuple[str, str]]:
    """[(code, masked match)] of every validated hit in one text."""
    return [(code, masked) for code, masked, _ in
            pii_hits(text, ignore_private_ips=ignore_private_ips, min_phone_digits=min_phone_digits)]


def pii_hits(text: str, *, ignore_private_ips: bool = True, min_phone_digits: int = 10) -> list[tuple[str, str, str]]:
    """[(code, masked match, the match as written)] of every validated hit in one text."""
    hits: list[tuple[str, str, str]] = []
    if "@" in text:
        for m in EMAIL.finditer(text):
            if not RESERVED_DOMAIN.search(m.group(1)) and not PLACEHOLDER_LOCAL.match(m.group(0).split("@")[0]):
                hits.append(("email", _mask(m.group(0), 3), m.group(0)))
    if not _DIGIT.search(text):  # (the number patterns below all need a decimal digit)
        return hits
    for m in PHONE.finditer(text):
        if min_phone_digits <= sum(c.isdigit() for c in m.group(0)) <= 15:
            hits.append(("phone", _mask(m.group(0), 3), m.group(0)))
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and len(set(digits)) > 2 and luhn_ok(digits):
            hits.append(("credit_card", _mask(digits, 4), m.group(0)))
    if text.count(".") >= 3:
        for m in IPV4.finditer(text):
            if VERSION_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
                continue
            ip = ipaddress.IPv4Address(m.group(1))
            if ignore_private_ips and not ip.is_global:
                continue
            hits.append(("ip_address", m.group(1), m.group(1)))
    for m in IBAN.finditer(text):
        if iban_ok(m.group(1)):
            hits.append(("iban", _mask(m.group(1), 4), m.group(1)))
    return hits


@register
class PiiCheck(Check):
    """Personal data in any turn: emails, phone numbers, payment-card numbers, IP addresses, IBANs.

    Catches `email` (any address outside the RFC 2606/6761 reserved domains such as example.com and with a
    local part that is not an obvious stand-in like `example@`, `your.name@`, `john.doe@`), `phone`
    (only punctuated forms: `+CC` international numbers or NANP `(555) 123-4567` / `555-123-4567` /
    `555.123.4567`, 10-15 digits, so arithmetic and bare numbers, e.g. GSM8K's, do not match),
    `credit_card` (13-19 digits starting 3-6 that pass the Luhn check), `ip_address` (public IPv4 only:
    private, loopback and documentation ranges are not personal, and a dotted quad after `v`, `version` or
    `==` is a version string) and `iban` (mod-97 checksum). Every turn is scanned, code included (a key or
    address in a code snippet leaks just the same), plus the `rejected` side of preference pairs. Personal
    data in finetuning sets can be memorised and regurgitated and is a compliance problem on its own.
    Threshold: one validated hit flags the row; a row with several codes reports the most severe
    (credit_card > iban > phone > email > ip_address); `summary["detail"]` says which turn and role held
    each hit (masked), and the row's evidence is the reported code's first match as written (unmasked: it is
    shown beside the row, which holds it anyway). Acceptance: at most 13 of GSM8K test's 1,319 rows (1 %) flagged.
    """

    name = "pii"
    row_local = True
    description = "Emails, phone numbers, card numbers (Luhn), public IPv4 addresses or IBANs in any turn"

    bounds = {"min_phone_digits": Bound(1, 64)}

    @dataclass(frozen=True)
    class Params:
        ignore_private_ips: bool = True  # 10.x, 192.168.x, 127.0.0.1 etc. identify no one; common in code
        min_phone_digits: int = 10  # fewer digits is a local extension or a number, not a reachable phone

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params

        def finder(text: str) -> list[tuple[str, str, str]]:
            return pii_hits(text, ignore_private_ips=p.ignore_private_ips, min_phone_digits=p.min_phone_digits)

        score, reason, evidence, summary = _scan(ctx, finder, PII_SEVERITY, prefilter=PII_PREFILTER)
        return self.result(ctx, score=score, reason=reason, evidence=evidence, summary=summary)


# ---------------------------------------------------------------------------------------------- secrets

_SECRET_PATTERNS: list[tuple[str, re.Pattern[str]]] = [  # (code, pattern); its first group is the random part
    ("api_key:anthropic", re.compile(r"\bsk-ant-(?:api\d\d-)?([A-Za-z0-9_-]{20,})")),
    ("api_key:openai", re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,})")),
    ("api_key:aws", re.compile(r"\b(?:AKIA|ASIA)([0-9A-Z]{16})\b")),
    ("api_key:github", re.compile(r"\b(?:gh[pousr]_([A-Za-z0-9]{36,})|github_pat_([A-Za-z0-9_]{40,}))")),
    ("api_key:slack", re.compile(r"\bxox[abpr]-([A-Za-z0-9-]{20,})")),
    ("api_key:google", re.compile(r"\bAIza([0-9A-Za-z_-]{35})\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ([A-Za-z0-9_-]{10,})\.[A-Za-z0-9_-]{10,}")),
]
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
SECRET_SEVERITY = {"private_key": 1.0, "api_key": 0.9, "jwt": 0.8}
_PREFILTER = re.compile(r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox|AIza|eyJ|PRIVATE KEY")


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    if not s:
        return 0.0
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


SECRET_SHOWN = 4  # characters of a key's random part kept in its evidence: enough to find it, not to use it


def find_secrets(text: str, *, min_entropy: float = 3.0) -> list[tuple[str, str]]:
    """[(code, masked match)] of every credential in one text."""
    return [(code, masked) for code, masked, _ in secret_hits(text, min_entropy=min_entropy)]


def secret_hits(text: str, *, min_entropy: float = 3.0) -> list[tuple[str, str, str]]:
    """[(code, masked match, evidence)] of every credential in one text; the evidence is the key's fixed prefix
    plus the first `SECRET_SHOWN` characters of its random part (`sk-proj-esLO`), never the whole secret."""
    if not _PREFILTER.search(text):
        return []
    hits: list[tuple[str, str, str]] = []
    for code, pattern in _SECRET_PATTERNS:
        for m in pattern.finditer(text):
            group = next((k for k, g in enumerate(m.groups(), 1) if g), 0)
            body = m.group(group)
            # Placeholders (`sk-xxxxxxxx...`, `AKIAIOSFODNN7EXAMPLE`) are not secrets: require randomness.
            if entropy(body) < min_entropy or body.upper().endswith("EXAMPLE"):
                continue
            shown = m.group(0)[:m.start(group) - m.start() + SECRET_SHOWN] if group else m.group(0)[:8]
            hits.append((code, _mask(m.group(0), 6), shown))
    if "PRIVATE KEY" in text:
        for m in PRIVATE_KEY.finditer(text):
            hits.append(("private_key", m.group(0), m.group(0)))
    return hits


@register
class SecretsCheck(Check):
    """Credentials in any turn: API keys and tokens with known prefixes, JWTs and private-key blocks.

    Catches provider keys by prefix, reported as `api_key:<provider>` (`api_key:openai` for `sk-` /
    `sk-proj-`, `api_key:anthropic` for `sk-ant-`, `api_key:aws` for `AKIA`/`ASIA`, `api_key:github` for
    `ghp_`/`gho_`/`github_pat_`, `api_key:slack` for `xoxa-`/`xoxb-`/`xoxp-`, `api_key:google` for `AIza`),
    `jwt` (three base64url segments starting `eyJ`) and `private_key` (`-----BEGIN ... PRIVATE KEY-----`).
    Every turn is scanned, code included, plus the `rejected` side of preference pairs. A live credential
    in a training set is a security incident, and a model that memorised it can emit it. Guard against
    placeholders: the random part must reach `min_entropy` bits/char of Shannon entropy (3.0 by default:
    real 20+ character base62 keys measure 4+, `sk-xxxxxxxxxxxxxxxxxxxx` measures 0) and AWS documentation
    keys ending in `EXAMPLE` are skipped. Threshold: one hit flags the row; several codes report the most
    severe (private_key > api_key:* > jwt); `summary["detail"]` says which turn and role held each (masked).
    Evidence: never the whole secret, only what locates it: the key's fixed prefix plus the first 4 characters
    of its random part (`sk-proj-AbC1`, `AKIA7XQ2`; a JWT's header and 4 payload characters), or the
    `-----BEGIN ... PRIVATE KEY-----` line.
    """

    name = "secrets"
    row_local = True
    description = "API keys/tokens (sk-, AKIA, ghp_, xox*-, AIza), JWTs or private-key blocks in any turn"

    @dataclass(frozen=True)
    class Params:
        min_entropy: float = 3.0  # bits/char of the key body; below it the "key" is a placeholder pattern

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        score, reason, evidence, summary = _scan(ctx, lambda t: secret_hits(t, min_entropy=p.min_entropy),
                                                 SECRET_SEVERITY, prefilter=_PREFILTER.pattern)
        return self.result(ctx, score=score, reason=reason, evidence=evidence, summary=summary)
