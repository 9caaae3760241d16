"""Done when 1: template-check with `training: hf` (transformers' rendering) against `serving: vllm` (vLLM's own
chat path). Every expectation below was measured with vLLM 0.32.0 (the renderings are in docs/vllm.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, MISTRAL_VLLM, side
from tests.vllm.conftest import GEMMA4, LLAMA31, MISTRAL_SMALL, VLLM, run_json

pytestmark = VLLM

#: conversations the built-in set has not: an empty tool_calls list, text parts, a developer message
REWRITES = [
    '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!", "tool_calls": []}, '
    '{"role": "user", "content": "Bye"}]}',
    '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", '
    '"text": "Part one"}, {"type": "text", "text": "part two"}]}]}',
    '{"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}',
]


def pair(cfg, template: Path, **extra: object) -> Path:  # type: ignore[no-untyped-def]
    # the same Jinja file on both sides, tokenized as apply_chat_template does on training (no BOS added)
    return cfg(
        {
            "training": side("hf", MISTRAL_HF, chat_template=str(template), chat_add_special_tokens=False),
            "serving": side("vllm", MISTRAL_VLLM, chat_template=str(template)),
            **extra,
        }
    )


def by_sample(report: dict, sample: str) -> dict:
    return next(f for f in report["findings"] if f["sample"] == sample)


def test_gemma4_system_message_reaches_the_template_as_a_list_of_parts(cfg) -> None:
    code, report, _ = run_json("template-check", pair(cfg, GEMMA4))
    assert code == 1
    serving = report["header"]["sides"]["serving"]
    assert serving["source"] == "vllm" and "chat content format openai" in serving["backend"]
    assert serving["chat_content_format"] == "openai" and serving["resolved_mode"] == "hf"
    f = by_sample(report, "builtin:system (whole conversation)")
    assert f["code"] == "TA301"
    shown = f["detail"]["renderings"]
    assert "<|turn>system⏎You␣are␣a␣concise␣assistant.<turn|>" in shown["training"]
    assert "<|turn>system⏎[{'type':␣'text',␣'text':␣'You␣are␣a␣concise␣assistant.'}]<turn|>" in shown["serving"]
    # conversations without a system message render alike: only the system turn and tool calls part
    text = [f["sample"] for f in report["findings"] if f["code"] == "TA301"]
    assert text == ["builtin:system (whole conversation)", "builtin:tool-calls (whole conversation)"]


@pytest.mark.parametrize(("template", "fmt"), [(LLAMA31, "string"), (MISTRAL_SMALL, "openai")])
def test_templates_vllm_renders_like_transformers_on_plain_chats(cfg, template: Path, fmt: str) -> None:
    code, report, _ = run_json("template-check", pair(cfg, template))
    assert f"chat content format {fmt}" in report["header"]["sides"]["serving"]["backend"]
    differing = [f for f in report["findings"] if f["code"] in ("TA301", "TA302", "TA303", "TA309")]
    # the only difference on the built-in set: vLLM parses the tool call's JSON arguments into a mapping, which
    # the template writes with tojson; transformers hands it the string, which tojson quotes again
    assert [f["sample"] for f in differing] == ["builtin:tool-calls (whole conversation)"]
    shown = differing[0]["detail"]["renderings"]
    quoted, parsed = '"{\\"city\\":␣\\"Paris\\"}"', '{"city":␣"Paris"}'
    assert quoted in shown["training"] and quoted not in shown["serving"] and parsed in shown["serving"]
    assert code == 1


def test_vllm_rewrites_messages_before_rendering(cfg, tmp_path: Path) -> None:
    chats = tmp_path / "rewrites.jsonl"
    chats.write_text("\n".join(REWRITES) + "\n", encoding="utf-8")
    code, report, _ = run_json("template-check", pair(cfg, LLAMA31, conversations=str(chats)))
    assert code == 1
    found = {f["sample"]: f for f in report["findings"] if f["sample"].startswith("rewrites.jsonl")}
    # an empty tool_calls list: vLLM drops it; transformers passes it and the template refuses
    empty = found["rewrites.jsonl:1"]
    assert empty["code"] == "TA309" and empty["detail"]["side"] == "training"
    assert "single tool-calls" in empty["detail"]["error"]
    # text parts: vLLM joins them with a newline for a "string" template; transformers passes the list
    parts = found["rewrites.jsonl:2 (whole conversation)"]["detail"]["renderings"]
    assert "Part␣one⏎part␣two<|eot_id|>" in parts["serving"] and "[{'type':␣'text'" in parts["training"]
    # a developer message: vLLM makes it the system message (the template has no developer role)
    dev = found["rewrites.jsonl:3 (whole conversation)"]["detail"]["renderings"]
    assert "2024⏎⏎Be␣brief.<|eot_id|>" in dev["serving"] and "<|start_header_id|>developer" in dev["training"]


def test_mask_check_takes_vllms_rendering_as_serving_truth(cfg) -> None:
    path = cfg(
        {
            "training": side("hf", MISTRAL_HF),
            "serving": side("vllm", MISTRAL_VLLM, chat_template=str(FIXTURES / "templates" / "mistral-instruct.jinja")),
            "conversations": str(FIXTURES / "chats" / "mistral.jsonl"),
            "mask": {"strategy": "per-turn"},
        }
    )
    code, report, err = run_json("mask-check", path)
    assert code in (0, 1), err
    assert report["summary"]["samples_checked"] > 0
