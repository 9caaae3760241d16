"""`chat_format`: the user's own chat formatter (FastChat's get_prompt(), an f-string) as a side's chat
serialisation, through tokaudit.chat's one path for template-check, mask-check and vocab-check.

The formatters are real small modules in tests/pipelines/prompts.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, side
from tests.pipelines import prompts
from tokaudit.chat import PYTHON, RenderError, load_template, render, surface_text
from tokaudit.checks.mask.strategies import Pipeline, per_turn
from tokaudit.checks.mask.truth import DEFAULT_TRAIN_ON
from tokaudit.checks.template import findings as tf
from tokaudit.checks.vocab.turn import end_of_turn
from tokaudit.config import SideSpec, settings_from_dict
from tokaudit.errors import ConfigError
from tokaudit.findings import Report, Severity
from tokaudit.runner import Request, run
from tokaudit.sources.sides import load_side

MISTRAL_JINJA = str(FIXTURES / "templates" / "mistral-instruct.jinja")
CHATS = FIXTURES / "chats" / "mistral.jsonl"
CHAT = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello there."},
    {"role": "user", "content": "How are you?"},
]


def formatted(name: str, **extra: Any) -> SideSpec:
    return SideSpec(source="hf", path=str(MISTRAL_HF), chat_format=f"tests.pipelines.prompts:{name}", **extra)


def test_a_formatter_s_text_is_tokenized_by_the_side_as_a_rendered_chat_is() -> None:
    spec = formatted("llama2")
    tok = load_side(spec)
    template = load_template(tok, spec, "training.chat_template")
    assert template.engine == PYTHON and template.origin == "tests.pipelines.prompts:llama2"
    assert not template.supports_tools  # the formatter is called with messages and the flag, no tools
    r = render(tok, spec, CHAT, side="training", template=template)
    assert r.text == prompts.llama2(CHAT, False) == "<s>[INST] Hi[/INST]Hello there.</s>[INST] How are you?[/INST]"
    assert r.ids == tok.encode_rendered(r.text, True) and not r.from_ids
    # served: add_special_tokens off, so the BOS is the one the text spells
    assert render(tok, spec, CHAT, side="serving", template=template).ids.count(1) == 1


def test_a_formatter_that_returns_ids_is_taken_as_the_ids() -> None:
    spec = formatted("llama2_ids")
    tok = load_side(spec)
    r = render(tok, spec, CHAT, side="training")
    assert r.ids == prompts.llama2_ids(CHAT, False) and r.from_ids and r.engine == PYTHON
    assert r.text == surface_text(tok, r.ids)


def test_a_formatter_that_refuses_a_conversation_is_a_render_error() -> None:
    spec = formatted("llama2")
    tok = load_side(spec)
    with pytest.raises(RenderError, match=r"^ValueError: Conversation roles must alternate"):
        render(tok, spec, CHAT[1:], side="training")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("returns_a_dict", r"returned dict \{'text': .*expected a str or a list of ints"),
        ("NOT_A_FUNCTION", r"a str, not a function \(messages, add_generation_prompt\)"),
        ("no_such_function", r"module 'tests\.pipelines\.prompts' has no attribute 'no_such_function'"),
    ],
)
def test_a_formatter_that_cannot_be_used_is_a_config_error_naming_the_key(name: str, message: str) -> None:
    spec = formatted(name)
    tok = load_side(spec)
    with pytest.raises(
        ConfigError, match=f"^cfg.yaml: training.chat_format: tests.pipelines.prompts:{name}: {message}"
    ):
        render(tok, spec, CHAT, side="training", template=load_template(tok, spec, "cfg.yaml: training.chat_template"))


def test_a_missing_formatter_module_names_the_key() -> None:
    spec = SideSpec(source="hf", path=str(MISTRAL_HF), chat_format="no_such_prompts:fmt")
    with pytest.raises(
        ConfigError, match=r"^training\.chat_format: no_such_prompts:fmt: cannot import 'no_such_prompts'"
    ):
        load_template(load_side(spec), spec, "training.chat_template")


# -- template-check: the seeded slip against the serving Jinja template ---------------------------
def template_report(tmp_path: Path, fmt: str) -> Report:
    config = {
        "training": side("hf", MISTRAL_HF, chat_format=f"tests.pipelines.prompts:{fmt}", chat_add_special_tokens=False),
        "serving": side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA),
        "conversations": str(CHATS),
    }
    return run(Request("template-check", settings_from_dict(config, tmp_path / "c.yaml"))).report


def test_template_check_finds_the_formatter_s_missing_space(tmp_path: Path) -> None:
    report = template_report(tmp_path, "llama2")
    assert report.failed(Severity.ERROR)
    first = next(f for f in report.findings if f.sample == "mistral.jsonl:1 (whole conversation)")
    assert first.code == tf.TEXT and first.detail["text_from"] == "template"
    assert "[/INST]" in first.message and "␣[/INST]" in first.message  # serving has the space, training not


@pytest.mark.parametrize("fmt", ["llama2_faithful", "llama2_ids"])
def test_a_faithful_formatter_matches_the_serving_template(tmp_path: Path, fmt: str) -> None:
    report = template_report(tmp_path, fmt)
    assert not report.failed(Severity.ERROR), [f.message for f in report.findings]
    assert report.summary["renderings_differing"] == 0 and report.summary["conversations"] >= 9


# -- mask-check: the per-turn strategy renders with the formatter ---------------------------------
def test_per_turn_builds_its_segments_from_the_formatter_s_text() -> None:
    slip, jinja = formatted("llama2"), SideSpec(source="hf", path=str(MISTRAL_HF), chat_template=MISTRAL_JINJA)
    tok = load_side(slip)
    chat = CHAT[:2]
    spelled = {}
    for name, spec in (("formatter", slip), ("jinja", jinja)):
        pipe = Pipeline(tok, spec, load_template(tok, spec, "training.chat_template"), DEFAULT_TRAIN_ON)
        assert pipe.render(chat)[0] == (
            prompts.llama2(chat, False) if name == "formatter" else "<s>[INST] Hi [/INST]Hello there.</s>"
        )
        spelled[name] = surface_text(tok, per_turn(pipe, chat).ids)
    assert "Hi[/INST]" in spelled["formatter"] and "Hi [/INST]" in spelled["jinja"]


# -- vocab-check: the end-of-turn token, read off the formatter's rendering -----------------------
def test_vocab_check_reads_the_end_of_turn_token_from_the_formatter() -> None:
    tok = load_side(formatted("llama2"))
    eot = end_of_turn(tok, dict(tok.roles()), tok.added_tokens(), side="training")
    assert eot.known and eot.token == ("</s>", 2) and eot.note.startswith("chat_format tests.pipelines.prompts:llama2")
