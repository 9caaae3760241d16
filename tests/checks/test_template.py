"""template-check on real tokenizers and real templates: what each finding code catches."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CL100K_HF, FIXTURES, MISTRAL_HF, mistral_data, side, write_config
from tokaudit.checks.template import findings as tf
from tokaudit.codes import CODES
from tokaudit.config import load_config
from tokaudit.errors import ConfigError, InputError
from tokaudit.findings import Finding, Report
from tokaudit.options import Options
from tokaudit.runner import Request, run

MISTRAL_JINJA = FIXTURES / "templates" / "mistral-instruct.jinja"
CHATML = FIXTURES / "templates" / "chatml.jinja"
CHATS = FIXTURES / "chats" / "mistral.jsonl"


def check(tmp_path: Path, training: dict[str, Any], serving: dict[str, Any], **extra: Any) -> Report:
    config = write_config(tmp_path, {"training": training, "serving": serving, **extra})
    return run(Request("template-check", load_config(config))).report


def by_code(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def errors(report: Report) -> list[str]:
    return [f.code for f in report.findings if f.severity.value == "error"]


def hf_mistral(template: Path | str = MISTRAL_JINJA, **extra: Any) -> dict[str, Any]:
    return side("hf", MISTRAL_HF, chat_template=str(template), **extra)


def template_file(tmp_path: Path, text: str, name: str = "t.jinja") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Done when 1: mistral-common's own encoding vs the HF-style Jinja template: the [/INST] / leading-space skew.
@pytest.mark.parametrize("model", ["tokenizer.model.v1"])
def test_mistral_common_vs_hf_template_finds_the_inst_space(tmp_path: Path, model: str) -> None:
    training = side("mistral-common", mistral_data(model), chat_template="mistral-common")
    report = check(tmp_path, training, hf_mistral(), conversations=str(CHATS))
    assert report.failed(report.findings[0].severity.ERROR)
    # One finding for the space after [/INST], whatever the reply says: every file conversation and the
    # built-in ones whose reply starts with a letter; the evidence is the first one's.
    (inst,) = [f for f in by_code(report, tf.TEXT) if f.signature == "template-text: ⟨[/INST]⟩▶␣ ≠ ⟨[/INST]⟩▶a"]
    whole = [f"mistral.jsonl:{n} (whole conversation)" for n in (1, 2, 3, 4)]
    assert inst.samples == (*whole, "builtin:multi-turn (whole conversation)") and inst.sample == whole[0]
    assert inst.count == 8  # the four above, and built-in empty-content, special-tokens, unicode
    d = inst.detail
    assert d["side_by_side"][0].endswith("[/INST]▶␣The␣capital␣of␣France␣i…")
    assert d["side_by_side"][1].endswith("[/INST]▶The␣capital␣of␣France␣is…")
    assert d["text_from"] == "ids"  # mistral-common builds ids: both sides compared by what their ids spell
    first = d["token_index"]
    assert (
        d["training"]["tokens"][min(2, first)]["piece"] == "▁The"
        and d["serving"]["tokens"][min(2, first)]["piece"] == "The"
    )
    # a reply that starts with a newline is another shape of the same space: its own finding
    (newline,) = [f for f in by_code(report, tf.TEXT) if f is not inst]
    assert newline.signature == "template-text: ⟨[/INST]⟩▶␣ ≠ ⟨[/INST]⟩▶↵"
    assert newline.samples == ("builtin:whitespace (whole conversation)",)
    assert report.summary["by_category"]["template-text"] == 9
    # '</s>' in a user message: a control token on the HF side, literal text in mistral-common.
    (inj,) = by_code(report, tf.INJECTION)
    assert "'</s>' (id 2)" in inj.message and "on serving but stay text on training" in inj.message
    # The v0.1-style template refuses a system message; mistral-common folds it into the first turn.
    (refused,) = by_code(report, tf.REFUSED)
    assert refused.sample == "builtin:system" and "Conversation roles must alternate" in refused.message
    assert report.summary["conversations"] >= 9 and report.summary["renderings_differing"] > 0


# Done when 2: a template that emits {{ bos_token }} on a tokenizer that adds BOS too.
def test_double_bos_reported_once_per_side(tmp_path: Path) -> None:
    report = check(tmp_path, hf_mistral(), hf_mistral(chat_add_special_tokens=True))
    assert sorted(f.detail["side"] for f in by_code(report, tf.DOUBLE_BOS)) == ["serving", "training"]
    f = by_code(report, tf.DOUBLE_BOS)[0]
    assert f.detail["bos"] == "<s>" and [t["id"] for t in f.detail[f.detail["side"]]["tokens"][:2]] == [1, 1]
    assert not by_code(report, tf.TOKENS)  # the doubled BOS is one finding per side, not one per conversation


def test_serving_default_does_not_add_bos(tmp_path: Path) -> None:
    report = check(tmp_path, hf_mistral(), hf_mistral())
    assert [f.detail["side"] for f in by_code(report, tf.DOUBLE_BOS)] == ["training"]


# Done when 3: the same template on both sides, tokenized alike: nothing at error level.
def test_same_template_both_sides_is_clean(tmp_path: Path) -> None:
    report = check(tmp_path, hf_mistral(chat_add_special_tokens=False), hf_mistral(), conversations=str(CHATS))
    assert errors(report) == []
    assert report.summary["renderings_differing"] == 0 and report.summary["renderings_compared"] > 10
    # Control strings in content become control tokens on both sides: no skew, but worth knowing.
    assert [f.code for f in by_code(report, tf.INJECTION_BOTH)] == [tf.INJECTION_BOTH]


def test_tokenizer_own_chat_template_matches_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "mistral-chat"
    shutil.copytree(MISTRAL_HF, folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = MISTRAL_JINJA.read_text()
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    for serving in (side("hf", folder, chat_template="tokenizer"), side("hf", folder)):  # unset: the tokenizer's
        report = check(tmp_path, hf_mistral(chat_add_special_tokens=False), serving)
        assert errors(report) == [] and report.summary["renderings_differing"] == 0


def test_tokenizer_template_missing_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"serving\.chat_template: tokenizer \(.*\) has no chat_template"):
        check(tmp_path, hf_mistral(), side("hf", MISTRAL_HF, chat_template="tokenizer"))


def test_mistral_common_needs_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"training\.chat_template: `mistral-common` needs `source: mistral-common`"):
        check(tmp_path, side("hf", MISTRAL_HF, chat_template="mistral-common"), hf_mistral())


# Done when 4: a syntax error names the file and the line.
def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = template_file(tmp_path, "{% for m in messages %}\n{{ m.content }\n{% endfor %}\n", "broken.jinja")
    with pytest.raises(ConfigError, match=r"training\.chat_template: .*broken\.jinja:2: template syntax error"):
        check(tmp_path, hf_mistral(broken), hf_mistral())


def test_raise_exception_message_is_the_finding(tmp_path: Path) -> None:
    text = MISTRAL_JINJA.read_text().replace(
        "{%- for message in messages %}",
        "{%- if messages | selectattr('content', 'equalto', '7') | list %}"
        "{{ raise_exception('sevens are not allowed here') }}{%- endif %}"
        "{%- for message in messages %}",
    )
    report = check(tmp_path, hf_mistral(template_file(tmp_path, text)), hf_mistral())
    (f,) = by_code(report, tf.REFUSED)
    assert (
        f.message == "the training template refuses this conversation (sevens are not allowed here); serving renders it"
    )
    assert f.detail["error"] == "sevens are not allowed here"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{{ "".__class__.__mro__ }}{{ messages[0].content }}', "SecurityError"),
        ('{% include "/etc/passwd" %}{{ messages[0].content }}', "no loader"),
    ],
)
def test_templates_are_sandboxed(tmp_path: Path, text: str, error: str) -> None:
    report = check(tmp_path, hf_mistral(template_file(tmp_path, text)), hf_mistral())
    refused = by_code(report, tf.REFUSED)
    assert refused and all(error in f.detail["error"] and f.detail["side"] == "training" for f in refused)


def test_nothing_checked_is_an_input_error(tmp_path: Path) -> None:
    nope = template_file(tmp_path, "{{ raise_exception('never') }}")
    with pytest.raises(InputError, match="no conversation could be checked"):
        check(tmp_path, hf_mistral(nope), hf_mistral(nope))


# Generation prompt: an answer that starts with a newline merges with the prompt's last newline (cl100k "\n\n").
def test_generation_prompt_merge_is_a_warning(tmp_path: Path) -> None:
    chatml = side("hf", CL100K_HF, chat_template=str(CHATML))
    report = check(tmp_path, chatml, chatml)
    assert errors(report) == []
    (f,) = by_code(report, tf.PROMPT_TOKENS)
    assert f.severity.value == "warning" and f.sample == "builtin:whitespace (prompt before message 2)"
    assert f.detail["boundary"].startswith("…") and "assistant⏎▶⏎The" in f.detail["boundary"]
    serving_tail = f.detail["serving"]["tokens"][-1]
    assert serving_tail["text"] == "⏎" and "⏎⏎" in [t["text"] for t in f.detail["training"]["tokens"]]


def test_generation_prompt_that_is_not_a_prefix_is_an_error(tmp_path: Path) -> None:
    text = CHATML.read_text().replace("{{- '<|im_start|>assistant\\n' }}", "{{- '<|im_start|>bot\\n' }}")
    assert "bot" in text
    chatml = side("hf", CL100K_HF, chat_template=str(template_file(tmp_path, text)))
    report = check(tmp_path, chatml, chatml)
    found = by_code(report, tf.PROMPT_TEXT)
    assert found and "▶bot⏎" in found[0].detail["context"] and "▶assistant⏎" in found[0].detail["context"]


def test_injection_one_side_literal(tmp_path: Path) -> None:
    chatml = side("hf", CL100K_HF, chat_template=str(CHATML))
    report = check(tmp_path, {**chatml, "special_text": "literal"}, chatml)
    (f,) = by_code(report, tf.INJECTION)
    assert (
        "'<|endoftext|>' (id 100256)" in f.message
        and "becomes a control token on serving but stays text on training" in f.message
    )


def test_tool_calls_run_where_both_templates_support_them(tmp_path: Path) -> None:
    chatml = side("hf", CL100K_HF, chat_template=str(CHATML))
    report = check(tmp_path, chatml, chatml)
    assert "builtin:tool-calls" not in {s.where for s in report.skipped}
    mistral = check(tmp_path, hf_mistral(chat_add_special_tokens=False), hf_mistral())
    (skip,) = [s for s in mistral.skipped if s.where == "builtin:tool-calls"]
    assert "no tool-call support" in skip.reason


def test_mistral_common_v3_with_tools_against_itself(tmp_path: Path) -> None:
    v3 = mistral_data("mistral_instruct_tokenizer_240323.model.v3")
    report = check(
        tmp_path,
        side("mistral-common", v3, chat_template="mistral-common"),
        side("mistral-common", v3, chat_template="tokenizer"),
    )
    # mistral-common v3 writes the system prompt into the last user turn: appending a turn moves it, so the
    # serialisation is not prefix-preserving (TA310, per side); nothing else differs
    assert [f for f in report.findings if f.code != "TA310"] == [] and report.skipped == ()
    assert {f.detail["side"] for f in report.findings} == {"training", "serving"}
    assert report.summary["conversations"] == 7


def test_every_code_has_category_severity_hint_and_docs() -> None:
    codes = [
        v for k, v in vars(tf).items() if re.fullmatch(r"[A-Z_]+", k) and isinstance(v, str) and v.startswith("TA3")
    ]
    assert len(codes) == 9
    docs = (FIXTURES.parent / "docs" / "codes.md").read_text()
    for code in codes:
        spec = CODES[code]
        assert spec.category and spec.hint
        assert f"| {code} | {spec.severity.value} | {spec.category} |" in docs


# At dataset scale a finding is one distinct problem: its exact count over every conversation, a few examples.
def test_many_conversations_with_one_problem_are_one_finding_with_the_exact_count(tmp_path: Path) -> None:
    text = MISTRAL_JINJA.read_text().replace(
        "{%- for message in messages %}",
        "{%- for message in messages %}{%- if 'forbidden' in message['content'] %}"
        "{{ raise_exception('message ' ~ loop.index ~ ' is forbidden') }}{%- endif %}",
    )
    chats = tmp_path / "chats.jsonl"
    rows = []
    for k in range(60):
        first = {"role": "user", "content": f"question {k}: a forbidden word" if k % 2 else f"question {k}"}
        reply = {"role": "assistant", "content": f"answer {k}"}
        last = {"role": "user", "content": "and a forbidden one here" if not k % 2 else "thanks"}
        rows.append(json.dumps({"messages": [first, reply, last]}))
    chats.write_text("\n".join(rows) + "\n")
    config = write_config(
        tmp_path,
        {
            "training": hf_mistral(template_file(tmp_path, text), chat_add_special_tokens=False),
            "serving": hf_mistral(),
            "conversations": str(chats),
        },
    )
    report = run(Request("template-check", load_config(config), options=Options(examples=3))).report
    # the template names message 1 or message 3: one problem, its numbers generalized
    (refused,) = by_code(report, tf.REFUSED)
    assert refused.signature == "template-error: training: message 9 is forbidden"
    assert refused.count == 60 and refused.samples == ("chats.jsonl:1", "chats.jsonl:2", "chats.jsonl:3")
    assert refused.message.startswith("the training template refuses this conversation (message 3 is forbidden)")
    assert report.summary["by_category"]["template-error"] == 60
    assert report.summary["conversations"] == 60 + 5  # and the built-in set but `system` and `tool-calls`
