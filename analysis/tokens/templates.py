"""Chat templates: render a row's turns into the exact text a trainer tokenizes (issue 7, "Tokens and templates").

Built-ins (Jinja sources, rendered exactly like `transformers`' `apply_chat_template` renders them):

- `chatml`: the reference ChatML template of the Hugging Face chat-templating docs (also OpenHermes-2.5's
  `tokenizer_config.json`): `<|im_start|>{role}\\n{content}<|im_end|>\\n` per turn, nothing injected. It is *not*
  Qwen2.5's own template, which adds a default "You are Qwen, created by Alibaba Cloud…" system turn when a row
  has none and has a tool-calling branch; point `--template` at a Qwen `tokenizer_config.json` for that.
- `llama3`: Meta-Llama-3-8B-Instruct's `chat_template`, verbatim: `<|begin_of_text|>` then per turn
  `<|start_header_id|>{role}<|end_header_id|>\\n\\n{content | trim}<|eot_id|>`.
- `alpaca`: the Stanford Alpaca prompt (tatsu-lab/stanford_alpaca `train.py`): "Below is an instruction that
  describes a task… ### Instruction:\\n…\\n\\n### Response:" immediately followed by the output and the
  tokenizer's EOS, as Stanford trained. The canonical table joins Alpaca's `instruction` and `input` into one user
  turn (a blank line between), so rows render with the no-input preamble and the input inside the instruction; a
  user message with an explicit `input` key gets the "paired with an input" preamble and an `### Input:` block. A
  system turn replaces the preamble; further turns repeat the Instruction/Response blocks separated by a blank line.

`load_template(spec)` also takes a Jinja file, a `tokenizer_config.json` (its `chat_template`: a string, or a list
of `{name, template}` from which "default" is used) or a folder holding one (or a `chat_template.jinja`).

A user's template is untrusted code: it is compiled and rendered in a worker process (`analysis.tokens.sandbox`)
with hard memory, CPU-time and wall-clock limits, in `jinja2.sandbox.ImmutableSandboxedEnvironment` with
`trim_blocks`/`lstrip_blocks` and the globals `transformers` provides (`raise_exception`, `strftime_now`, a
`tojson` filter, `{% generation %}` blocks, loop controls), plus caps on `range`, `*`/`+`/`%`/`**` and output
size. Attribute access outside the sandbox or any overrun raises `TemplateLimitError` (a ValueError) that names
the template and the row.

Preference rows: the canonical `messages` of a preference row are the shared prompt turns plus the *chosen*
response, so rendering a row renders the chosen conversation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.tokens.sandbox import TemplateLimitError, worker  # noqa: F401 - re-exported for callers

CHATML = (r"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'"
          r" + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

LLAMA3 = (r"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
          r"'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
          r"'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
          r"{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
          r"{% endif %}")

ALPACA_PREAMBLE = ("Below is an instruction that describes a task. "
                   "Write a response that appropriately completes the request.\n\n")
ALPACA_PREAMBLE_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further "
                         "context. Write a response that appropriately completes the request.\n\n")
ALPACA = r"""{{- bos_token -}}
{%- if messages and messages[0]['role'] == 'system' -%}
{%- set loop_messages = messages[1:] -%}
{{- messages[0]['content'] + '\n\n' -}}
{%- else -%}
{%- set loop_messages = messages -%}
{%- set first_user = messages | selectattr('role', 'equalto', 'user') | first -%}
{%- if first_user and first_user['input'] -%}
{{- '""" + ALPACA_PREAMBLE_INPUT.replace("\n", r"\n") + r"""' -}}
{%- else -%}
{{- '""" + ALPACA_PREAMBLE.replace("\n", r"\n") + r"""' -}}
{%- endif -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- if message['role'] == 'assistant' -%}
{{- message['content'] + eos_token -}}
{%- else -%}
{%- if not loop.first -%}{{- '\n\n' -}}{%- endif -%}
{{- '### Instruction:\n' + message['content'] + '\n\n' -}}
{%- if message['input'] -%}{{- '### Input:\n' + message['input'] + '\n\n' -}}{%- endif -%}
{{- '### Response:' -}}
{%- endif -%}
{%- endfor -%}"""

DEFAULT_TEMPLATE = "auto"  # the tokenizer folder's own chat_template when it has one, else chatml


@dataclass(frozen=True)
class ChatTemplate:
    """A Jinja chat template with a stable `name` (a built-in name or the file path) and the special tokens its
    source defines (None: use the tokenizer's)."""

    name: str
    source: str
    bos_token: str | None = None
    eos_token: str | None = None
    extra_tokens: tuple[tuple[str, str], ...] = ()  # other *_token entries of a tokenizer_config.json


BUILTINS: dict[str, ChatTemplate] = {
    "chatml": ChatTemplate("chatml", CHATML),
    "llama3": ChatTemplate("llama3", LLAMA3, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"),
    "alpaca": ChatTemplate("alpaca", ALPACA),
}


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def _from_config(config: dict[str, Any], where: str) -> ChatTemplate:
    raw = config.get("chat_template")
    if isinstance(raw, list):
        named = {str(t.get("name")): t.get("template") for t in raw if isinstance(t, dict)}
        if "default" not in named:
            raise ValueError(f"{where}: chat_template lists {', '.join(sorted(named)) or 'nothing'} but no 'default'")
        raw = named["default"]
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{where}: no chat_template in this tokenizer_config.json")
    extra = tuple(sorted((k, t) for k, v in config.items()
                         if k.endswith("_token") and k not in ("bos_token", "eos_token")
                         and (t := _token_text(v)) is not None))
    return ChatTemplate(where, raw, _token_text(config.get("bos_token")), _token_text(config.get("eos_token")), extra)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return doc


def load_template(spec: str | None = None, tokenizer: Any | None = None) -> ChatTemplate:
    """A built-in name (`chatml`, `llama3`, `alpaca`), a Jinja file, a `tokenizer_config.json`, or a folder with
    `tokenizer_config.json` / `chat_template.jinja`. `auto` (the default) takes the chat_template of the
    tokenizer's own `tokenizer_config.json` when it has one, else `chatml`. The source is compiled here, so a syntax
    error surfaces as a ValueError before any row is rendered."""
    spec = (spec or DEFAULT_TEMPLATE).strip()
    if spec == "auto":
        config = getattr(tokenizer, "config", None) or {}
        where = str(getattr(tokenizer, "config_path", None) or "tokenizer_config.json")
        template = _from_config(config, where) if config.get("chat_template") else BUILTINS["chatml"]
    elif spec.lower() in BUILTINS:
        template = BUILTINS[spec.lower()]
    else:
        path = Path(spec).expanduser()
        if path.is_dir():
            config, jinja = path / "tokenizer_config.json", path / "chat_template.jinja"
            if not config.is_file() and not jinja.is_file():
                raise ValueError(f"{path}: no tokenizer_config.json or chat_template.jinja in this folder")
            # transformers >= 4.43 saves the template as chat_template.jinja beside a config without one
            path = jinja if jinja.is_file() and not (config.is_file() and _read_json(config).get("chat_template")) \
                else config
        if not path.is_file():
            raise ValueError(f"unknown template {spec!r}: built-ins are {', '.join(BUILTINS)}; or give a Jinja "
                             "file, a tokenizer_config.json or a folder holding one")
        where = str(path.resolve())
        if path.suffix == ".json":
            template = _from_config(_read_json(path), where)
        else:
            template = ChatTemplate(where, path.read_text(encoding="utf-8"))
    worker().compile(template.source, template.name)  # syntax errors and compile-time abuse: a ValueError here
    return template


def clean_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Canonical turns as templates expect them: `role` and `content` strings (None content becomes "")."""
    out = []
    for t in messages:
        turn = {"role": str(t.get("role") or "user"), "content": str(t.get("content") or "")}
        if t.get("input"):
            turn["input"] = str(t["input"])
        out.append(turn)
    return out


def _variables(template: ChatTemplate, tokenizer: Any | None) -> dict[str, Any]:
    """The special tokens a template may use: its own source's, else the tokenizer's, else ""."""
    tok_bos = getattr(tokenizer, "bos_token", None) if tokenizer is not None else None
    tok_eos = getattr(tokenizer, "eos_token", None) if tokenizer is not None else None
    return {**dict(template.extra_tokens), "bos_token": template.bos_token or tok_bos or "",
            "eos_token": template.eos_token or tok_eos or ""}


def render(messages: Sequence[dict[str, Any]], template: ChatTemplate | str, *, tokenizer: Any | None = None,
           add_generation_prompt: bool = False) -> str:
    """The exact text a trainer tokenizes for these turns under `template` (a ChatTemplate or a spec string).
    Raises ValueError when the template refuses the turns (its `raise_exception`), and TemplateLimitError (a
    ValueError) when the sandbox stops it."""
    tpl = template if isinstance(template, ChatTemplate) else load_template(template, tokenizer)
    texts, errors = worker().render(tpl.source, tpl.name, [clean_messages(messages)], _variables(tpl, tokenizer),
                                    add_generation_prompt)
    if errors[0]:
        raise ValueError(f"template {tpl.name} cannot render this row: {errors[0]}")
    return texts[0]


def render_rows(rows_messages: Sequence[Sequence[dict[str, Any]]], template: ChatTemplate,
                tokenizer: Any | None = None, *, row_ids: Sequence[Any] | None = None) -> tuple[list[str], list[str]]:
    """Render every row in the sandbox worker, in batches: (texts, errors). A row the template refuses gets "" and
    its error; a sandbox stop (unsafe operation, resource cap) aborts the whole run with a TemplateLimitError naming
    the row (`row_ids[i]` when given, else its position): the template is unsafe, not the row."""
    return worker().render(template.source, template.name, [clean_messages(m) for m in rows_messages],
                           _variables(template, tokenizer), labels=row_ids)


def turn_prefix_counts(messages: Sequence[dict[str, Any]], template: ChatTemplate, tokenizer: Any) -> list[int]:
    """Token count of the rendering of turns[:k+1], for each turn k (one batched render, one batched count)."""
    texts, errors = render_rows([messages[:k + 1] for k in range(len(messages))], template, tokenizer)
    for k, err in enumerate(errors):
        if err:
            raise ValueError(f"template {template.name} cannot render turns 1-{k + 1} of this row: {err}")
    return [int(c) for c in tokenizer.count(texts)] if texts else []


def turn_tokens(messages: Sequence[dict[str, Any]], template: ChatTemplate | str, tokenizer: Any) -> list[int]:
    """Tokens attributed to each turn, the standard way: render the conversation up to and including turn k,
    count it, and take differences between consecutive prefixes (turn 0 also carries whatever the template puts
    before the first turn: BOS, a default system prompt). The list sums exactly to the full rendering's count; a
    template that renders earlier turns differently once later ones follow can make an entry approximate."""
    tpl = template if isinstance(template, ChatTemplate) else load_template(template, tokenizer)
    counts = turn_prefix_counts(messages, tpl, tokenizer)
    return [c - p for c, p in zip(counts, [0, *counts[:-1]], strict=True)]
