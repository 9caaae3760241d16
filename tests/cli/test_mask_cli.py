"""End-to-end: `tokaudit mask-check` on the real Mistral 7B tokenizers. Exit code first, then the findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, MISTRAL_SP, ROOT, invoke, side

TEMPLATES = FIXTURES / "templates"
GENERATION = TEMPLATES / "mistral-instruct-generation.jinja"
DATASETS = FIXTURES / "datasets"
MASK_CHATS = FIXTURES / "chats" / "mask-dataset.jsonl"
MASK_FASTCHAT = FIXTURES / "chats" / "mask-fastchat.jsonl"


def mask_json(config: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = invoke("mask-check", config, "--format", "json", *extra)
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {})


def by_sample(report: dict[str, Any]) -> dict[str, set[str]]:
    """Each sample's codes, from the grouped findings' example locations (all of them listed here)."""
    out: dict[str, set[str]] = {}
    for f in report["findings"]:
        assert f["count"] == len(f["samples"]) and f["sample"] == f["samples"][0]
        for sample in f["samples"]:
            out.setdefault(sample, set()).add(f["code"])
    return out


def mistral(strategy: str, **mask: Any) -> dict[str, Any]:
    """Training and serving both the Mistral fast tokenizer, served with the generation-marked template."""
    return {
        "training": side("hf", MISTRAL_HF, chat_add_special_tokens=False),
        "serving": side("hf", MISTRAL_HF, chat_template=str(GENERATION)),
        "conversations": str(MASK_CHATS),
        "mask": {"strategy": strategy, **mask},
    }


def dataset(name: str) -> dict[str, Any]:
    cfg = mistral("dataset", dataset=str(DATASETS / name))
    del cfg["conversations"]
    return cfg


# 1. FastChat's -2 / -1 arithmetic on Mistral 7B's SentencePiece model: misalignments found and located.
FASTCHAT_EXPECTED = {
    "mask-fastchat.jsonl:2": {"TA401"},  # "42 ..." : the space before the digit is trained on
    "mask-fastchat.jsonl:3": {"TA401"},  # "\n```python": the space before the newline is trained on
    "mask-fastchat.jsonl:5": {"TA403"},  # "<s>old</s>" in the user's text: FastChat masks the whole sample
    "mask-fastchat.jsonl:7": {"TA401"},  # "1. Two" in the second turn
}


def test_fastchat_example_config_finds_and_locates_the_shift() -> None:
    code, report = mask_json(ROOT / "configs" / "mask-fastchat.yaml")
    assert code == 1
    assert by_sample(report) == FASTCHAT_EXPECTED
    # one finding per distinct problem: the space after `ASSISTANT:` trained on, in three samples
    first = next(f for f in report["findings"] if f["sample"] == "mask-fastchat.jsonl:2")
    assert first["signature"] == "mask-trained-wrongly (fastchat): p|␣" and first["count"] == 3
    assert len(report["findings"]) == 2
    assert first["category"] == "mask-trained-wrongly" and first["severity"] == "error" and first["hint"]
    d = first["detail"]
    assert (
        d["token_index"] == 43
        and d["tokens_wrong"] == [43]
        and d["context"].endswith("ASSISTANT:▶␣42␣is␣the␣answer.</s>")
    )
    view = {t["i"]: t for t in d["mask_view"]["tokens"]}
    assert d["mask_view"]["first"] == 43
    assert view[43]["text"] == "␣" and (view[43]["label"], view[43]["expected"]) == ("trained", "masked")
    assert view[44]["text"] == "4" and view[44]["label"] == view[44]["expected"] == "trained"
    assert (
        d["fastchat"]["sep"] == " ASSISTANT: " and d["fastchat"]["sep2"] == "</s>" and d["fastchat"]["legacy"] is True
    )
    lost = next(f for f in report["findings"] if f["sample"] == "mask-fastchat.jsonl:5")
    assert lost["category"] == "sample-lost"
    assert lost["detail"]["fastchat"]["warning"] == "WARNING: tokenization mismatch: 1 vs. 69. #turn = 2. (ignored)"
    s = report["summary"]
    assert (s["samples_checked"], s["samples_misaligned"], s["samples_lost"], s["samples_skew"]) == (7, 4, 1, 0)
    assert 0 < s["share_label_tokens_wrong"] < 0.1


def test_fastchat_with_the_fast_tokenizer_on_the_training_side_finds_the_same(cfg) -> None:
    config = (ROOT / "configs" / "mask-fastchat.yaml").read_text().replace("../", f"{ROOT}/")
    config = config.replace(f"source: sentencepiece\n  path: {MISTRAL_SP}", f"source: hf\n  path: {MISTRAL_HF}")
    assert "source: hf\n  path:" in config.split("serving:")[0]
    code, report = mask_json(cfg(config))
    assert code == 1
    assert by_sample(report) == FASTCHAT_EXPECTED


def test_fastchat_table_shows_the_labels_and_the_first_misalignment() -> None:
    result = invoke("mask-check", ROOT / "configs" / "mask-fastchat.yaml", "--show", "1")
    assert result.exit_code == 1
    assert "TA401 mask-trained-wrongly  mask-fastchat.jsonl:2" in result.stdout
    assert "␣ASS IST ANT : ␣ 4 2 ␣is" in result.stdout
    assert "··· ··· · ✗ ━ ━ ━━━" in result.stdout
    assert "samples misaligned" in result.stdout


# 2. `generation` with {% generation %} markers: transformers' mask equals the ground truth.
def test_generation_markers_match_the_ground_truth(cfg) -> None:
    code, report = mask_json(cfg(mistral("generation")))
    assert code == 0
    assert report["findings"] == [] and report["skipped"] == []
    assert report["summary"]["samples_checked"] == 6 and report["summary"]["label_tokens_wrong"] == 0


def test_generation_block_without_the_end_of_turn_masks_it(tmp_path: Path, cfg) -> None:
    template = tmp_path / "no-eos.jinja"
    text = GENERATION.read_text().replace("message['content'] + eos_token }}", "message['content'] }}")
    template.write_text(text.replace("{%- endgeneration %}", "{%- endgeneration %}{{- eos_token }}"))
    config = mistral("generation")
    config["serving"]["chat_template"] = str(template)
    code, report = mask_json(cfg(config))
    assert code == 1
    assert set(by_sample(report)) == {f"mask-dataset.jsonl:{n}" for n in range(1, 7)}
    assert {f["code"] for f in report["findings"]} == {"TA402"}
    for f in report["findings"]:
        first = f["detail"]["mask_view"]["first"]
        token = next(t for t in f["detail"]["mask_view"]["tokens"] if t["i"] == first)
        assert token["text"] == "</s>" and (token["label"], token["expected"]) == ("masked", "trained")


def test_max_length_cuts_are_warnings(cfg) -> None:
    path = cfg(mistral("generation", max_length=24))
    code, report = mask_json(path)
    assert code == 0
    assert {f["code"] for f in report["findings"]} == {"TA404"}
    cut = {f["sample"]: f for f in report["findings"]}
    assert set(cut) == {"mask-dataset.jsonl:2", "mask-dataset.jsonl:3", "mask-dataset.jsonl:5"}
    assert cut["mask-dataset.jsonl:3"]["detail"]["dropped"] == [{"message": 3, "tokens": [33, 35]}]
    assert invoke("mask-check", path, "--fail-on", "warning").exit_code == 1


# 3. `dataset`: a correct file passes; shifted labels are reported by line, exactly those lines.
def test_dataset_correct_file_passes(cfg) -> None:
    code, report = mask_json(cfg(dataset("mask-mistral.jsonl")))
    assert code == 0
    assert report["findings"] == []
    assert report["summary"]["samples_checked"] == 6 and report["summary"]["label_tokens"] > 150


def test_dataset_shifted_labels_reported_by_line(cfg) -> None:
    code, report = mask_json(cfg(dataset("mask-mistral-shifted.jsonl")))
    assert code == 1
    assert by_sample(report) == {
        "mask-mistral-shifted.jsonl:2": {"TA402"},
        "mask-mistral-shifted.jsonl:5": {"TA401", "TA402"},
    }
    f = next(f for f in report["findings"] if f["sample"] == "mask-mistral-shifted.jsonl:2")
    assert f["detail"]["token_index"] == 16 and f["detail"]["label_values_wrong"] > 0
    assert report["summary"]["samples_misaligned"] == 2


# 4. input_ids that are not the serving tokenization: tokenization skew, not a mask error.
def test_dataset_tokenization_skew_is_not_a_mask_error(cfg) -> None:
    code, report = mask_json(cfg(dataset("mask-mistral-skew.jsonl")))
    assert code == 1
    assert by_sample(report) == {"mask-mistral-skew.jsonl:3": {"TA406"}}
    f = report["findings"][0]
    assert f["category"] == "tokenization-skew" and "an extra '<s>' in front" in f["message"]
    assert f["detail"]["token_index"] == 1
    assert report["summary"]["samples_skew"] == 1 and report["summary"]["samples_misaligned"] == 0


# 5. Malformed records: one finding per line; exit 2 when nothing could be checked.
def test_dataset_malformed_lines_reported_per_line(cfg) -> None:
    code, report = mask_json(cfg(dataset("mask-malformed.jsonl")))
    assert code == 1
    found = {int(f["sample"].rsplit(":", 1)[1]): f for f in report["findings"]}
    assert set(found) == {2, 3, 4, 5, 6} and {f["code"] for f in found.values()} == {"TA407"}
    assert "`labels` is missing" in found[2]["message"]
    assert "19 ids but `labels` has 18" in found[3]["message"]
    assert "`input_ids[0]` is '1' (str), not an integer" in found[4]["message"]
    assert "not JSON" in found[5]["message"]
    assert "(float), not an integer" in found[6]["message"]
    assert report["summary"]["samples_checked"] == 1 and report["summary"]["samples_malformed"] == 5


def test_dataset_with_nothing_checkable_is_exit_2(tmp_path: Path, cfg) -> None:
    lines = (DATASETS / "mask-malformed.jsonl").read_text().splitlines()[1:]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    config = dataset("mask-malformed.jsonl")
    config["mask"]["dataset"] = str(bad)
    result = invoke("mask-check", cfg(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "no sample could be checked" in result.stderr
    assert "bad.jsonl:1: `labels` is missing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.pop("mask"), "mask: mask-check needs a `mask:` section"),
        (lambda c: c["mask"].pop("dataset"), "mask.dataset: required for strategy `dataset`"),
        (lambda c: c["serving"].pop("chat_template"), "serving.chat_template: mask-check renders"),
        (lambda c: c["mask"].update(train_on=["reply"]), "mask.train_on: unknown part 'reply'"),
        (lambda c: c["mask"].update(train_on=["header", "end-of-turn"]), "mask.train_on: name adjacent parts"),
        (lambda c: c["mask"].update(strategy="generation"), "`generation` needs `{% generation %}` markers"),
    ],
)
def test_config_problems_are_exit_2(cfg, change: Any, expected: str) -> None:
    config = dataset("mask-mistral.jsonl")
    config["conversations"] = str(MASK_CHATS)
    if "generation" in expected:
        config["serving"]["chat_template"] = str(TEMPLATES / "mistral-instruct.jinja")
    change(config)
    result = invoke("mask-check", cfg(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and expected in result.stderr


# 6. Baselines hold signatures: written on a few records, they pass on more records of the same kind.
def test_a_baseline_written_on_a_few_records_passes_on_more_of_the_same_kind(tmp_path: Path, cfg) -> None:
    lines = (FIXTURES / "chats" / "mask-fastchat.jsonl").read_text().splitlines()
    # replies that start with a digit or a newline: FastChat trains on the space after `ASSISTANT:`
    more = [
        json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
        for q, a in [
            ("How many legs does a spider have?", "8 legs."),
            ("Show a list.", "\n- one\n- two"),
            ("What year did the war end?", "1945, in Europe."),
            ("Count to three.", "1, 2, 3."),
            ("Write a haiku.", "\nsilent pond\na frog jumps in"),
            ("Name a colour.", "Blue."),
        ]
    ]
    files = {"few": lines[:3], "many": [*lines[:3], lines[6], *more], "new": [*lines[:3], lines[4]]}
    config = (ROOT / "configs" / "mask-fastchat.yaml").read_text().replace("../", f"{ROOT}/")
    paths = {}
    for name, rows in files.items():
        (tmp_path / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
        paths[name] = cfg(config.replace(str(MASK_FASTCHAT), str(tmp_path / f"{name}.jsonl")), f"{name}.yaml")
    baseline = tmp_path / "baseline.json"
    assert invoke("mask-check", paths["few"], "--write-baseline", baseline).exit_code == 0
    code, report = mask_json(paths["many"])
    (shift,) = report["findings"]
    assert code == 1 and shift["code"] == "TA401" and shift["count"] == 8
    assert invoke("mask-check", paths["many"], "--baseline", baseline).exit_code == 0
    # a kind the baseline has not seen still fails: FastChat drops the sample with `<s>` in its text
    code, report = mask_json(paths["new"], "--baseline", baseline)
    assert code == 1 and [f["code"] for f in report["findings"]] == ["TA403"]


# 7. `mask.dataset` in any format the readers take gives the same findings.
def test_a_parquet_or_save_to_disk_dataset_gives_the_same_findings(tmp_path: Path, cfg) -> None:
    import datasets

    source = DATASETS / "mask-mistral-shifted.jsonl"
    rows = [json.loads(line) for line in source.read_text().splitlines() if line]
    ds = datasets.Dataset.from_list(rows)
    ds.to_parquet(str(tmp_path / "shifted.parquet"))
    ds.save_to_disk(str(tmp_path / "shifted"), num_shards=2)

    def shape(path: Path) -> tuple[list[Any], dict[str, Any]]:
        config = dataset("mask-mistral-shifted.jsonl")
        config["mask"]["dataset"] = str(path)
        code, report = mask_json(cfg(config))
        assert code == 1, path
        report = json.loads(json.dumps(report).replace(f'"{path.name}:', '"DATA:'))
        return [(f["code"], f["signature"], f["samples"], f["detail"]) for f in report["findings"]], report["summary"]

    first = shape(source)
    assert {s for f in first[0] for s in f[2]} == {"DATA:2", "DATA:5"}
    assert shape(tmp_path / "shifted.parquet") == first
    assert shape(tmp_path / "shifted") == first
