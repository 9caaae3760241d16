"""tokaudit.chat: rendering a conversation as each pipeline does, on real tokenizers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, mistral_data
from tokaudit.chat import RenderError, add_special_default, load_template, render
from tokaudit.config import SideSpec
from tokaudit.sources.sides import load_side

CHAT = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi"}]
JINJA = str(FIXTURES / "templates" / "mistral-instruct.jinja")


def test_jinja_render_text_and_ids() -> None:
    spec = SideSpec(source="hf", path=str(MISTRAL_HF), chat_template=JINJA)
    tok = load_side(spec)
    r = render(tok, spec, CHAT, side="serving")
    assert r.text == "<s>[INST] Hello [/INST]Hi</s>" and r.engine == "jinja"
    assert r.ids[0] == 1 and r.ids[-1] == 2 and r.ids.count(1) == 1 and not r.bos_added
    trained = render(tok, spec, CHAT, side="training")
    assert trained.ids[:2] == [1, 1] and trained.bos_added


def test_mistral_common_renders_ids_and_the_text_they_spell() -> None:
    spec = SideSpec(
        source="mistral-common", path=str(mistral_data("tokenizer.model.v1")), chat_template="mistral-common"
    )
    tok = load_side(spec)
    r = render(tok, spec, CHAT)
    assert r.engine == "mistral-common" and r.text == "<s> [INST] Hello [/INST] Hi</s>"
    prompt = render(tok, spec, CHAT[:1], add_generation_prompt=True)
    assert r.ids[: len(prompt.ids)] == prompt.ids
    with pytest.raises(RenderError, match="must start with a user message"):
        render(tok, spec, [{"role": "assistant", "content": "Hi"}])


def test_generation_spans(tmp_path: Path) -> None:
    path = tmp_path / "g.jinja"
    path.write_text(
        "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}"
        "{% else %}{{ m.content }}|{% endif %}{% endfor %}"
    )
    spec = SideSpec(source="hf", path=str(MISTRAL_HF), chat_template=str(path))
    r = render(load_side(spec), spec, CHAT)
    assert r.text == "Hello|Hi" and [r.text[a:b] for a, b in r.spans] == ["Hi"]


def test_defaults_and_template_loading() -> None:
    spec = SideSpec(source="hf", path=str(MISTRAL_HF), chat_template=JINJA)
    assert add_special_default(spec, "serving") is False and add_special_default(spec, "training") is True
    assert add_special_default(spec.model_copy(update={"chat_add_special_tokens": False}), "training") is False
    template = load_template(load_side(spec), spec, "serving.chat_template")
    assert template.origin == JINJA and not template.supports_tools


def test_one_template_resolution_each_caller_words_its_own_error(tmp_path: Path) -> None:
    """template-/mask-check (load_template) and vocab-check (end_of_turn) read chat_template the same way, and
    keep their own message and error class (both exit 2) for a file that cannot be read."""
    from tokaudit.chat import TemplateReadError, choose_template
    from tokaudit.checks.vocab.turn import end_of_turn
    from tokaudit.errors import ConfigError, InputError

    bad = tmp_path / "latin1.jinja"
    bad.write_bytes(b"{{ '\xe9' }}")
    spec = SideSpec(source="hf", path=str(MISTRAL_HF), chat_template=str(bad))
    tok = load_side(spec)
    with pytest.raises(TemplateReadError):
        choose_template(tok, spec)
    with pytest.raises(ConfigError, match=rf"^serving\.chat_template: cannot read {bad}: 'utf-8' codec"):
        load_template(tok, spec, "serving.chat_template")
    with pytest.raises(InputError, match=rf"^{bad}: cannot read the chat template \('utf-8' codec"):
        end_of_turn(load_side(spec), {}, {})
    assert choose_template(tok, spec.model_copy(update={"chat_template": JINJA})).named == {
        "default": Path(JINJA).read_text(encoding="utf-8")
    }
    own = choose_template(tok, spec.model_copy(update={"chat_template": None}))
    assert own.kind == "tokenizer" and not own.explicit and own.named == tok.chat_templates()
    tekken = SideSpec(source="mistral-common", path=str(mistral_data("tekken_240911.json")))
    assert choose_template(load_side(tekken), tekken).engine == "mistral-common"
