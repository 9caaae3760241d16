"""mask-check's ground truth and strategies on the real Mistral 7B tokenizers (no mocks)."""

from __future__ import annotations

import json
import shutil
import typing
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, MISTRAL_SP, side
from tokaudit.checks.mask.check import GroundTruth, _serving_template
from tokaudit.checks.mask.strategies import STRATEGIES
from tokaudit.checks.mask.truth import DEFAULT_TRAIN_ON, Truth
from tokaudit.config import MaskSpec, settings_from_dict
from tokaudit.errors import ConfigError, InputError
from tokaudit.findings import Report, Severity
from tokaudit.runner import Request, run
from tokaudit.sources.sides import load_sides

TEMPLATES = FIXTURES / "templates"
VICUNA = TEMPLATES / "fastchat-vicuna.jinja"
GENERATION = TEMPLATES / "mistral-instruct-generation.jinja"
MASK_CHATS = FIXTURES / "chats" / "mask-dataset.jsonl"
FASTCHAT_CHATS = FIXTURES / "chats" / "mask-fastchat.jsonl"


def chats(path: Path) -> list[list[dict[str, str]]]:
    return [json.loads(line)["messages"] for line in path.read_text().splitlines() if line]


def vicuna(tmp_path: Path, **mask: Any) -> dict[str, Any]:
    return {
        "training": side("hf", MISTRAL_HF),
        "serving": side("hf", MISTRAL_HF, chat_template=str(VICUNA), chat_add_special_tokens=True),
        "conversations": str(FASTCHAT_CHATS),
        "mask": {"strategy": "fastchat", **mask},
    }


def truth_for(tmp_path: Path, config: dict[str, Any], messages: list[dict[str, str]], train_on: Any = None) -> Truth:
    settings = settings_from_dict(config, tmp_path / "c.yaml")
    sides = load_sides(settings)
    return GroundTruth(settings, sides, _serving_template(settings, sides), train_on or DEFAULT_TRAIN_ON)(messages)


def trained(truth: Truth) -> list[str]:
    return [truth.layout.text[s:e] for (s, e), on in zip(truth.offsets, truth.labels) if on]


def mask_report(tmp_path: Path, config: dict[str, Any]) -> Report:
    return run(Request("mask-check", settings_from_dict(config, tmp_path / "c.yaml"))).report


def codes_by_sample(report: Report) -> dict[str, set[str]]:
    """Each sample's codes, from the grouped findings' example locations (all of them listed here)."""
    out: dict[str, set[str]] = {}
    for f in report.findings:
        assert f.count == len(f.samples) and f.sample == f.samples[0]
        for sample in f.samples:
            out.setdefault(sample, set()).add(f.code)
    return out


CHAT = [
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there!"},
    {"role": "user", "content": "Bye"},
    {"role": "assistant", "content": "Goodbye."},
]


def test_ground_truth_is_the_reply_and_its_end_of_turn(tmp_path: Path) -> None:
    truth = truth_for(tmp_path, vicuna(tmp_path), CHAT)
    # SentencePiece's `▁Hi` holds the header's space too: it overlaps the reply, so it is trained on.
    assert trained(truth) == [" Hi", " there", "!", "</s>", " Good", "bye", ".", "</s>"]
    assert truth.merges == []
    assert [t.index for t in truth.layout.assistant()] == [1, 3]
    header = truth.layout.assistant()[0].header
    assert truth.layout.text[header[0] : header[1]] == "ASSISTANT: "


def test_train_on_picks_the_parts(tmp_path: Path) -> None:
    config = vicuna(tmp_path)
    content = truth_for(tmp_path, config, CHAT, ("content",))
    assert "</s>" not in trained(content)
    with_header = truth_for(tmp_path, config, CHAT, ("header", "content", "end-of-turn"))
    assert trained(with_header)[:5] == [" ASS", "IST", "ANT", ":", " Hi"]


def test_whitespace_after_the_end_of_turn_is_not_trained_unless_asked(tmp_path: Path) -> None:
    template = tmp_path / "newline.jinja"
    template.write_text(GENERATION.read_text().replace("+ eos_token }}", "+ eos_token + '\\n' }}"))
    config = vicuna(tmp_path)
    config["serving"] = side("hf", MISTRAL_HF, chat_template=str(template))
    default = truth_for(tmp_path, config, CHAT)
    assert trained(default)[-2:] == [".", "</s>"]
    assert "\n" in default.layout.text
    everything = truth_for(tmp_path, config, CHAT, ("content", "end-of-turn", "whitespace"))
    extra = list(trained(everything))
    for piece in trained(default):
        extra.remove(piece)
    assert extra and set(extra) == {"\n"}


def test_ground_truth_agrees_with_transformers_generation_mask(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(MISTRAL_HF)
    config = vicuna(tmp_path)
    config["serving"] = side("hf", MISTRAL_HF, chat_template=str(GENERATION))
    for messages in chats(MASK_CHATS):
        truth = truth_for(tmp_path, config, messages)
        out = tok.apply_chat_template(
            messages,
            chat_template=GENERATION.read_text(),
            tokenize=True,
            return_dict=True,
            return_assistant_tokens_mask=True,
        )
        assert truth.ids == list(out["input_ids"])
        assert truth.labels == [bool(m) for m in out["assistant_masks"]]


def test_offsets_by_byte_walk_match_the_fast_tokenizer(tmp_path: Path) -> None:
    """A SentencePiece serving side has no offsets: the byte walk along the text must agree with them."""
    fast = vicuna(tmp_path)
    slow = vicuna(tmp_path)
    slow["serving"] = side(
        "sentencepiece", MISTRAL_SP, add_bos=True, special_text="parse",
        chat_template=str(VICUNA), chat_add_special_tokens=True,
    )  # fmt: skip
    for messages in chats(FASTCHAT_CHATS):
        a, b = truth_for(tmp_path, fast, messages), truth_for(tmp_path, slow, messages)
        assert a.ids == b.ids
        assert a.labels == b.labels


def test_every_strategy_runs_and_the_registry_is_exhaustive(tmp_path: Path) -> None:
    literal = typing.get_args(MaskSpec.model_fields["strategy"].annotation)
    assert set(STRATEGIES) | {"dataset"} == set(literal)
    expected = {"generation": set(), "prefix": set(), "per-turn": {"TA406"}, "fastchat": {"TA403"}}
    assert set(expected) == set(STRATEGIES)
    for strategy in STRATEGIES:
        config = {
            "training": side("hf", MISTRAL_HF, chat_add_special_tokens=False),
            "serving": side("hf", MISTRAL_HF, chat_template=str(GENERATION)),
            "conversations": str(MASK_CHATS),
            "mask": {"strategy": strategy},
        }
        report = mask_report(tmp_path, config)
        assert report.summary["samples_checked"] == 6, strategy
        assert {f.code for f in report.findings} <= expected[strategy] | {"TA401", "TA402"}, strategy
        assert {f.code for f in report.findings} >= expected[strategy], strategy


def test_per_turn_tokenization_is_skew_on_sentencepiece(tmp_path: Path) -> None:
    config = {
        "training": side("hf", MISTRAL_HF, chat_add_special_tokens=False),
        "serving": side("hf", MISTRAL_HF, chat_template=str(GENERATION)),
        "conversations": str(MASK_CHATS),
        "mask": {"strategy": "per-turn"},
    }
    report = mask_report(tmp_path, config)
    first = next(f for f in report.findings if f.sample == "mask-dataset.jsonl:1")
    assert first.code == "TA406" and first.detail["token_index"] == 15
    assert first.detail["training"]["tokens"][2]["piece"] == "▁Paris"
    assert first.detail["serving"]["tokens"][2]["piece"] == "Par"


def test_fastchat_non_legacy_flag_on_a_legacy_tokenizer_loses_multi_turn_samples(tmp_path: Path) -> None:
    """tokenizer.legacy false, but the tokenizer still adds `▁` after `</s>`: FastChat's `- 1` is wrong every
    turn after the first, so its counts never match and it drops every multi-turn sample."""
    model = tmp_path / "nonlegacy"
    model.mkdir()
    shutil.copy(MISTRAL_SP, model / "tokenizer.model")
    settings = json.loads((MISTRAL_SP.parent / "tokenizer_config.json").read_text())
    (model / "tokenizer_config.json").write_text(json.dumps({**settings, "legacy": False}))
    config = vicuna(tmp_path)
    config["training"] = side("sentencepiece", model / "tokenizer.model", add_bos=True, special_text="parse")
    report = mask_report(tmp_path, config)
    codes = codes_by_sample(report)
    for line in (4, 7):
        assert codes[f"mask-fastchat.jsonl:{line}"] == {"TA403"}
    lost = next(f for f in report.findings if f.sample == "mask-fastchat.jsonl:4")
    assert lost.detail["fastchat"]["legacy"] is False
    assert lost.detail["fastchat"]["warning"].startswith("WARNING: tokenization mismatch: ")
    assert codes["mask-fastchat.jsonl:2"] == {"TA401"}  # the first turn has no `- 1`: still just shifted


def test_boundary_merge_is_a_warning(tmp_path: Path) -> None:
    template = tmp_path / "no-space.jinja"
    template.write_text(VICUNA.read_text().replace("'ASSISTANT: ' +", "'ASSISTANT:' +"))
    config = vicuna(tmp_path, strategy="prefix")
    config["serving"]["chat_template"] = str(template)
    chat = tmp_path / "quote.jsonl"
    messages = [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "'Paris', of course."},
    ]
    chat.write_text(json.dumps({"messages": messages}) + "\n")
    config["conversations"] = str(chat)
    report = mask_report(tmp_path, config)
    merge = next(f for f in report.findings if f.code == "TA405")
    assert merge.severity is Severity.WARNING and merge.category == "boundary-merge"
    k = merge.detail["tokens"][0]
    token = next(t for t in merge.detail["mask_view"]["tokens"] if t["i"] == k)
    assert token["text"] == ":'" and token["expected"] == "trained"


def write_records(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def dataset_config(path: Path) -> dict[str, Any]:
    return {
        "training": side("hf", MISTRAL_HF),
        "serving": side("hf", MISTRAL_HF, chat_template=str(GENERATION)),
        "mask": {"strategy": "dataset", "dataset": str(path)},
    }


def good_records() -> list[dict[str, Any]]:
    lines = (FIXTURES / "datasets" / "mask-mistral.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_record_cut_short_is_truncation_not_skew(tmp_path: Path) -> None:
    record = good_records()[2]  # two turns; the second reply ("4</s>") is the last two tokens
    cut = {**record, "input_ids": record["input_ids"][:-1], "labels": record["labels"][:-1]}
    report = mask_report(tmp_path, dataset_config(write_records(tmp_path / "d.jsonl", [cut])))
    assert codes_by_sample(report) == {"d.jsonl:1": {"TA404"}}
    f = report.findings[0]
    assert f.severity is Severity.WARNING
    assert f.detail["cut"] == [{"message": 3, "tokens": [len(record["input_ids"]) - 2, len(record["input_ids"])]}]


def test_right_mask_with_other_label_ids_is_a_label_value_error(tmp_path: Path) -> None:
    record = good_records()[0]
    ids = record["input_ids"]
    shifted_values = [
        (ids[k + 1] if k + 1 < len(ids) else ids[k]) if v != -100 else v for k, v in enumerate(record["labels"])
    ]
    report = mask_report(
        tmp_path, dataset_config(write_records(tmp_path / "d.jsonl", [{**record, "labels": shifted_values}]))
    )
    assert codes_by_sample(report) == {"d.jsonl:1": {"TA408"}}


def test_nothing_checked_is_an_input_error(tmp_path: Path) -> None:
    config = vicuna(tmp_path, strategy="generation")
    config["serving"] = side("hf", MISTRAL_HF, chat_template=str(GENERATION))
    chat = tmp_path / "system.jsonl"
    system = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    chat.write_text(json.dumps({"messages": [*system, {"role": "assistant", "content": "Hello."}]}) + "\n")
    config["conversations"] = str(chat)
    with pytest.raises(InputError, match="no sample could be checked.*system.jsonl:1: serving template: "):
        mask_report(tmp_path, config)


def test_generation_needs_an_hf_training_side(tmp_path: Path) -> None:
    config = vicuna(tmp_path, strategy="generation")
    config["serving"] = side("hf", MISTRAL_HF, chat_template=str(GENERATION))
    config["training"] = side("sentencepiece", MISTRAL_SP)
    with pytest.raises(ConfigError, match="training.source: strategy `generation`"):
        mask_report(tmp_path, config)


def test_every_code_is_documented_with_its_severity_and_category() -> None:
    from tokaudit.codes import CODES, code_for

    mask = [c for c in CODES.values() if c.code.startswith("TA4")]
    assert [c.code for c in mask] == [f"TA40{n}" for n in range(1, 9)]
    codes_md = (FIXTURES.parent / "docs" / "codes.md").read_text()
    mask_md = (FIXTURES.parent / "docs" / "mask.md").read_text()
    for spec in mask:
        code, severity, category = spec.code, spec.severity.value, spec.category
        assert category is not None and code_for(category, "TA4") == code
        assert f"| {code} | {severity} | {category} |" in codes_md
        assert f"| {code} | {severity} | {category} |" in mask_md
