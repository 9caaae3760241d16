"""template-check's prefix property (TA310) on real templates and their vocabularies: Qwen3's template
re-renders history when a turn is appended (reasoning dropped); Llama 3.1's does not."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import invoke
from tests.rollouts import data as d


def _template_check(tmp_path: Path, folder: Path, template: Path) -> dict:
    conversations = tmp_path / "conversations.jsonl"
    msgs = d.tool_trajectory("Paris")
    conversations.write_text(json.dumps({"messages": msgs, "tools": [d.WEATHER]}) + "\n", encoding="utf-8")
    side = {"source": "hf", "path": str(folder), "chat_template": str(template)}
    config = tmp_path / "template.yaml"
    config.write_text(
        yaml.safe_dump({"training": side, "serving": dict(side), "conversations": str(conversations)}),
        encoding="utf-8",
    )
    result = invoke("template-check", str(config), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_qwen3_template_is_not_prefix_preserving(tmp_path: Path) -> None:
    report = _template_check(tmp_path, d.QWEN, d.QWEN3)
    prefix = [f for f in report["findings"] if f["code"] == "TA310"]
    assert {f["detail"]["side"] for f in prefix} == {"training", "serving"}
    assert {f["category"] for f in prefix} == {"reasoning-dropped"}
    ours = next(f for f in prefix if f["sample"].startswith("conversations.jsonl:1"))
    # the first assistant turn of the tool loop keeps its reasoning until the follow-up question comes:
    # computed with transformers, the first cut whose continuation does not start with it
    tok = d.tokenizer()
    msgs = d.tool_trajectory("Paris")
    broken = []
    for j, m in enumerate(msgs):
        if m["role"] == "assistant" and j + 1 < len(msgs):
            short = tok(d.render(msgs[: j + 1], d.QWEN3, False, [d.WEATHER]))["input_ids"]
            long = tok(d.render(msgs[: j + 2], d.QWEN3, False, [d.WEATHER]))["input_ids"]
            if long[: len(short)] != short:
                broken.append(j + 1)
    assert broken and ours["detail"]["after_message"] == broken[0]
    assert "reasoning dropped" in ours["message"]
    assert report["summary"]["prefix_preserving"] == {"training": False, "serving": False}


def test_llama31_template_is_prefix_preserving(tmp_path: Path) -> None:
    report = _template_check(tmp_path, d.LLAMA, d.LLAMA31)
    assert report["summary"]["conversations"] >= 2
    assert [f for f in report["findings"] if f["code"] == "TA310"] == []
    assert report["summary"]["prefix_preserving"] == {"training": True, "serving": True}
