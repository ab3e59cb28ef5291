"""Text checks: placeholder, pii, secrets, refusal, formatting (hand-written cases, sample, real data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from analysis.checks import run_checks
from analysis.checks.pii import iban_ok, luhn_ok
from analysis.io import load
from analysis.util.spans import locate

ROOT = Path(__file__).resolve().parents[2]
TEXT_CHECKS = ["placeholder", "pii", "secrets", "refusal", "formatting"]
# Checks that report an offending span (`CheckResult.evidence`) for every flagged row, and chat_structure, which
# does so only for its tool-call problems.
SPAN_CHECKS = TEXT_CHECKS + ["truncation", "encoding", "repetition", "echo", "repeated_passage"]
EVIDENCE_CHECKS = SPAN_CHECKS + ["chat_structure"]


def unlocated_evidence(rows, res, *, allow_empty: bool = False) -> list[tuple[int, str]]:
    """(row_id, evidence) of every flagged row whose evidence is empty (unless allowed), too long or not found
    in the row (its turns, or its source record)."""
    ev = res.evidence_or_empty()
    return [(int(rows["row_id"].iloc[i]), str(ev[i])) for i in np.flatnonzero(res.is_issue)
            if (ev[i] or not allow_empty) and (
                not ev[i] or len(ev[i]) > 200
                or not locate(rows["messages"].iloc[i], ev[i], source=str(rows["source"].iloc[i])))]


def chat(*turns: str, system: str | None = None) -> dict:
    """A chat record from alternating user/assistant contents."""
    msgs = [{"role": "system", "content": system}] if system else []
    msgs += [{"role": "user" if k % 2 == 0 else "assistant", "content": t} for k, t in enumerate(turns)]
    return {"messages": msgs}


@pytest.fixture
def reasons(write_jsonl):
    """reasons(check, records) -> the reason code of each record ("" = not flagged)."""
    counter = iter(range(10_000))

    def run(check: str, records: list[dict]) -> list[str]:
        rows = load(write_jsonl(f"t{next(counter)}.jsonl", records)).rows
        res = run_checks(rows, [check])[check]
        assert unlocated_evidence(rows, res) == []  # every flagged row shows where its problem is
        assert (res.evidence_or_empty()[~res.is_issue] == "").all()
        return [str(r) for r in res.reason]

    return run


# ---------------------------------------------------------------------------------------------- placeholder

def test_placeholder_codes(reasons):
    got = reasons("placeholder", [
        chat("hi", "Hello! I am {{name}}, built by {{ author }}."),
        chat("Reply to Ann", "Dear {customer_name}, your order has shipped."),
        chat("Write a bio", "[INSERT BIO HERE] is a talented engineer."),
        chat("Sign it", "Thanks for your patience.\n\nBest regards,\n[Your Name]"),
        chat("Greet the user", "Dear <CUSTOMER NAME>, welcome aboard."),
        chat("Describe the product", "Lorem ipsum dolor sit amet, consectetur adipiscing elit."),
    ])
    assert got == ["double_brace_var", "single_brace_var", "insert_marker", "insert_marker", "angle_placeholder",
                   "lorem_ipsum"]


def test_placeholder_ignores_code_json_and_math(reasons):
    got = reasons("placeholder", [
        chat("Format a greeting", 'Use an f-string:\n\n```python\nprint(f"Hello {name}!")\n```\n\nDone.'),
        chat("Inline", "Call `greet({user})` or `{{ value }}` in the template."),
        chat("Give JSON", '{"name": "Ann", "tags": ["a", "b"], "nested": {"k": 1}}'),
        chat("Format", 'print("Total: {total}".format(total=3))'),
        chat("Sets", "The set {x} has one element, and {1, 2, 3} has three."),
        chat("LaTeX", "We get $\\frac{a}{b}$ and \\sqrt{value} here."),
        chat("Generics", "A List<String> holds strings; Map<K, V> maps keys."),
        chat("JSDoc", "/**\n * @param {string} name - the name\n */\nfunction f(name) { return name; }"),
        chat("Call the API", 'url = f"https://api.example.org/weather?q={city}&appid=<YOUR_API_KEY>"'),
        chat("Markdown link", "See [your account settings](https://example.org/settings)."),
        chat("Write a Jinja template", "<p>Hello {{ user.name }}</p>"),
        chat("Render rows", "{% for u in users %}<td>{{ u.name }}</td>{% endfor %}"),
        chat("Write an email template for a welcome message", "Dear {{first_name}}, welcome!"),
    ])
    assert got == [""] * len(got)


# ---------------------------------------------------------------------------------------------- pii

def test_pii_codes(reasons):
    got = reasons("pii", [
        chat("Contact me at jane.smith@gmail.com please.", "Sure."),
        chat("Call me on (415) 867-5309 tonight.", "Will do."),
        chat("UK number: +44 20 7946 0958", "Noted."),
        chat("My card is 4539 1488 0343 6467.", "Please don't share that."),
        chat("Server is at 8.8.4.4, can you ping it?", "Yes."),
        chat("Pay to GB82 WEST 1234 5698 7654 32 today.", "Done."),
        chat("hello", "Write to me at bob.jones@outlook.com and call 212-555-0198."),
    ])
    assert got == ["email", "phone", "phone", "credit_card", "ip_address", "iban", "phone"]


def test_pii_reports_turn_and_role(write_jsonl):
    rows = load(write_jsonl("r.jsonl", [chat("Hi", "Fine.", "My mail: kim.lee@proton.me")])).rows
    res = run_checks(rows, ["pii"])["pii"]
    assert res.reason.tolist() == ["email"]
    assert "turn 2 (user)" in res.summary["detail"]["0"][0]
    assert "kim.lee@proton.me" not in json.dumps(res.summary)  # masked
    assert res.summary["hits_by_role"] == {"user": 1}


def test_pii_ignores_math_versions_and_placeholders(reasons):
    got = reasons("pii", [
        chat("Janet sells 16 - 3 - 4 = 9 eggs at $2; 9 * 2 = 18.", "16 - 3 - 4 = <<16-3-4=9>>9\n#### 18"),
        chat("Compute 1234567890 * 2", "2469135780, and 3.14159 or 1,234,567.89 as well as 2023-10-05."),
        chat("Which version?", "Install version 1.2.3.4 or pin requests==2.31.0.1; see v10.0.0.1."),
        chat("Local server", "Connect to 192.168.1.10 or 127.0.0.1 or 10.0.0.5."),
        chat("Card-like", "4111 1111 1111 1112 fails Luhn; 1234 5678 9012 3456 too; 4444 4444 4444 4448 is 2 digits."),
        chat("Email format", "Use user@example.com, example@gmail.com or a@b.test in docs."),
        chat("Regex", r"Match ^[\w.+-]+@[\w-]+\.[\w.-]+$ against input."),
        chat("IBAN-like", "Code GB00 WEST 1234 5698 7654 32 fails mod-97."),
    ])
    assert got == [""] * len(got)


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and iban_ok("DE89370400440532013000")
    assert not iban_ok("GB00WEST12345698765432")


# ---------------------------------------------------------------------------------------------- secrets

def test_secrets_codes(reasons):
    got = reasons("secrets", [
        chat('client = OpenAI(api_key="sk-proj-esLODEppaCSSvatRhkTgkZKrC4jynCIyR8drNdEQ")', "Rotate it."),
        chat('AWS_ACCESS_KEY_ID = "AKIAEZ7LG0RHX4N10UAC"', "Move it to env."),
        chat("token ghp_1aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4", "ok"),
        chat("slack xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv", "ok"),
        chat("key AIzaSyD3f8Kq9Lm2Np4Rs6Tu8Vw0Xy1Za3Bc5De", "ok"),
        chat("auth", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
                     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
        chat("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "ok"),
        chat("sk-ant-api03-Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc", "ok"),
    ])
    assert got == ["api_key:openai", "api_key:aws", "api_key:github", "api_key:slack", "api_key:google", "jwt",
                   "private_key", "api_key:anthropic"]


def test_secrets_ignore_placeholders(reasons):
    got = reasons("secrets", [
        chat('api_key = "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', "Replace the x's with your key."),
        chat('AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"', "That is the documentation key."),
        chat("Use the sk- prefix and a risk-based approach to ask-for-help.", "ok"),
        chat("Base64 'eyJ' starts a JSON object.", "Right."),
    ])
    assert got == [""] * len(got)


# ---------------------------------------------------------------------------------------------- refusal

def test_refusal_codes(reasons):
    long_answer = "Raised beds drain well and warm early in spring. " * 20
    got = reasons("refusal", [
        chat("Are raised beds worth it?", "I'm sorry, but I can't help with that request."),
        chat("Percent change?", "I am unable to assist with this question."),
        chat("Favourite colour?", "As an AI language model, I do not have preferences. Blue is popular."),
        chat("Your view?", "I don't have personal opinions, but here is a summary: " + long_answer),
        chat("Secret?", long_answer + "As an AI, I cannot share that."),  # late and long: not dominant
    ])
    assert got == ["refusal", "refusal", "ai_boilerplate", "ai_boilerplate", ""]


def test_refusal_negatives(reasons):
    got = reasons("refusal", [
        chat("My order is late", "I'm sorry to hear that! Your parcel ships tomorrow."),
        chat("Can I skip a step?", "You cannot skip the resting step; I can help you plan around it."),
        chat("Garden?", "I can't wait to see it! Water the beds deeply once a week."),
        chat("History?", "The treaty was signed in 1648; historians cannot agree on its causes."),
    ])
    assert got == [""] * len(got)


def test_refusal_prefers_refusal_over_boilerplate(reasons):
    got = reasons("refusal", [chat("Q", "I'm sorry, but as an AI language model I cannot provide advice on this.")])
    assert got == ["refusal"]


# ---------------------------------------------------------------------------------------------- formatting

def test_formatting_codes(reasons):
    got = reasons("formatting", [
        chat("Timeline?", "<div class='x'>Luther posts the theses.</div>"),
        chat("Steps?", "First step.<br><br>Second step."),
        chat("Short answer?", "A&nbsp;short&nbsp;answer &amp; more."),
        chat("Hi", "Hello!<|im_end|>\n<|im_start|>user"),
        chat("Hi", "[INST] Tell me more [/INST] Sure."),
        chat("Hi", "Answer text.\n### Response:\nMore."),
        chat("Hi", "<s>Sure, here it is.</s>"),
        chat("Code?", "Here:\n\n```python\nprint(1)\n\nThat prints one."),
    ])
    assert got == ["html_tag", "html_tag", "html_entity", "template_token", "template_token", "template_token",
                   "template_token", "unbalanced_fence"]


def test_formatting_ignores_code_generics_and_markup_prompts(reasons):
    got = reasons("formatting", [
        chat("Java?", "Use a List<String> and Map<K, V>; if a < b and b > c, swap."),
        chat("C?", "#include <stdio.h>\nint main(void) { return 0; }"),
        chat("Fenced", "Like this:\n\n```html\n<div>Hi</div>&nbsp;<br>\n```\n\nDone."),
        chat("Inline", "Write `<br>` or `&amp;` inside code."),
        chat("Write an HTML page with a heading", "<html><body><h1>Hi</h1><p>Text&nbsp;here</p></body></html>"),
        chat("Give me XML", "<note><to>Tove</to></note>"),
        chat("Math", "Since 3 < 5 and 7 > 2, we get x <= y."),
        chat("Calculator", "16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 9"),
        chat("Two blocks", "```\na\n```\ntext\n~~~\nb\n~~~"),
        chat("Rust", "fn f<T: Clone>(x: Vec<T>) -> Option<T> { x.first().cloned() }"),
    ])
    assert got == [""] * len(got)


# ---------------------------------------------------------------------------------------------- bundled sample

SAMPLE_EXPECT = {"placeholder": ("template_placeholder", {"double_brace_var"}),
                 "pii": ("email_address", {"email"}),
                 "secrets": ("api_key", {"api_key:openai", "api_key:aws"}),
                 "refusal": ("refusal", {"refusal", "ai_boilerplate"}),
                 "formatting": ("html_residue", {"html_tag", "html_entity"})}


def test_sample_defects_found_exactly():
    rows = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    defects = json.loads((ROOT / "sample_data" / "defects.json").read_text())
    results = run_checks(rows, TEXT_CHECKS)
    row_ids = rows["row_id"].to_numpy()
    for check, (defect, codes) in SAMPLE_EXPECT.items():
        res = results[check]
        flagged = {int(r) for r in row_ids[res.is_issue]}
        assert flagged == {d["row_id"] for d in defects[defect]}, check  # every planted row, nothing else
        assert set(res.reason[res.is_issue]) <= codes, check
        assert ((res.score > 0) == res.is_issue).all() and res.score.max() <= 1
    by_id = dict(zip(row_ids.tolist(), range(len(rows)), strict=True))
    assert results["secrets"].reason[by_id[66]] == "api_key:openai"
    assert results["secrets"].reason[by_id[754]] == "api_key:aws"
    assert results["formatting"].reason[by_id[989]] == "html_entity"
    assert results["secrets"].summary["hits_by_role"] == {"user": 2}


# ---------------------------------------------------------------------------------------------- evidence

def evidence_of(write_jsonl, check: str, records: list[dict]) -> list[str]:
    rows = load(write_jsonl(f"{check}.jsonl", records)).rows
    return [str(e) for e in run_checks(rows, [check])[check].evidence_or_empty()]


def test_evidence_is_the_reported_codes_span(write_jsonl):
    assert evidence_of(write_jsonl, "placeholder", [
        chat("hi", "Dear {customer_name}, I am {{name}}."),  # double_brace_var outranks single_brace_var
        chat("Sign it", "Best regards,\n[Your Name]"),
        chat("Greet", "Dear <CUSTOMER NAME>, welcome."),
        chat("Ok", "No placeholder here."),
    ]) == ["{{name}}", "[Your Name]", "<CUSTOMER NAME>", ""]
    assert evidence_of(write_jsonl, "pii", [
        chat("hello", "Write to me at bob.jones@outlook.com and call 212-555-0198."),  # phone outranks email
        chat("My card is 4539-1488-0343-6467.", "ok"),  # as written, separators kept
        chat("Use user@example.com", "ok"),
    ]) == ["212-555-0198", "4539-1488-0343-6467", ""]
    assert evidence_of(write_jsonl, "refusal", [
        chat("Q", "I'm sorry, but as an AI language model I cannot provide advice on this."),
        chat("Q", "As an AI language model, I do not have preferences."),
    ]) == ["I cannot provide", "As an AI language model"]
    assert evidence_of(write_jsonl, "formatting", [
        chat("Hi", "Hello &amp; <br> bye<|im_end|>"),  # template_token outranks html_tag and html_entity
        chat("Code?", "Here:\n\n  ~~~~ js\nx = 1\n"),
        chat("Inline", "Write `<br>` here, then &nbsp; there."),  # code spans are not searched
    ]) == ["<|im_end|>", "~~~~ js", "&nbsp;"]


def test_secrets_evidence_locates_without_revealing_the_key(write_jsonl):
    key = "sk-proj-esLODEppaCSSvatRhkTgkZKrC4jynCIyR8drNdEQ"
    got = evidence_of(write_jsonl, "secrets", [
        chat(f'client = OpenAI(api_key="{key}")', "Rotate it."),
        chat('AWS_ACCESS_KEY_ID = "AKIAEZ7LG0RHX4N10UAC"', "ok"),
        chat("auth", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0"),
        chat("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "ok"),
    ])
    assert got == ["sk-proj-esLO", "AKIAEZ7L", "eyJhbGciOiJIUzI1NiJ9.eyJzdWI", "-----BEGIN OPENSSH PRIVATE KEY-----"]


def test_pii_evidence_from_the_rejected_side_is_found_in_the_source(write_jsonl):
    rows = load(write_jsonl("p.jsonl", [{"prompt": "Contact?", "chosen": "Use the form.",
                                          "rejected": "Mail kim.lee@proton.me"}])).rows
    res = run_checks(rows, ["pii"])["pii"]
    assert res.evidence_or_empty().tolist() == ["kim.lee@proton.me"]
    hits = locate(rows["messages"].iloc[0], "kim.lee@proton.me", source=str(rows["source"].iloc[0]))
    assert [h.turn for h in hits] == [-1]  # not in any turn: the rejected answer lives in the source record


@pytest.fixture(scope="module")
def sample_results():
    rows = load(str(ROOT / "sample_data" / "*.jsonl")).rows
    return rows, run_checks(rows, EVIDENCE_CHECKS)


@pytest.mark.parametrize("check", EVIDENCE_CHECKS)
def test_sample_evidence_is_located(sample_results, check):
    rows, results = sample_results
    res = results[check]
    ev = res.evidence_or_empty()
    assert (ev[~res.is_issue] == "").all()  # unflagged rows carry no evidence
    assert unlocated_evidence(rows, res, allow_empty=check not in SPAN_CHECKS) == []
    with_span = res.is_issue & (ev != "")
    if check in SPAN_CHECKS:
        assert with_span.sum() == res.rows_flagged  # 100 % of flagged rows show their span
    else:  # chat_structure: the sample's only problems are empty turns, which have no span
        assert res.reasons() == {"empty_turn": 2} and with_span.sum() == 0



# ---------------------------------------------------------------------------------------------- real data

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared datasets not found at {SHARED}")


@needs_shared
def test_identity_placeholders():
    rows = load(SHARED / "llamafactory_demo" / "identity.json").rows
    res = run_checks(rows, ["placeholder"])["placeholder"]
    with_braces = rows["response"].str.contains("{{", regex=False).to_numpy()
    assert with_braces.sum() == 85
    assert (res.is_issue == with_braces).all()  # measured: exactly the 85 rows


@needs_shared
def test_gsm8k_pii_is_quiet():
    rows = load(SHARED / "gsm8k" / "test.jsonl").rows
    assert len(rows) == 1319
    assert run_checks(rows, ["pii"])["pii"].rows_flagged <= 13  # measured: 0


@needs_shared
def test_codealpaca_formatting_is_quiet():
    rows = load(SHARED / "codealpaca" / "code_alpaca_2k.json").rows
    assert len(rows) == 2017
    assert run_checks(rows, ["formatting"])["formatting"].rows_flagged <= 0.02 * 2017  # measured: 0
