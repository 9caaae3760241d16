"""The CI gate: check, snapshot / --against, baselines, and the Python API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS_TXT, MINILM, MISTRAL_HF, MISTRAL_SP, invoke, side
from tokaudit.snapshot import dump_lock, ids_hash, pack_ids, read_lock


def _mistral(cfg, **extra):  # type: ignore[no-untyped-def]
    return cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [str(CORPUS_TXT)],
            **extra,
        }
    )


def test_snapshot_then_diff_against_it_now_is_clean(tmp_path: Path, cfg) -> None:
    config = _mistral(cfg)
    lock = tmp_path / "tokaudit.lock.json"
    assert invoke("snapshot", config, "-o", lock).exit_code == 0
    result = invoke("diff", config, "--against", lock, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["findings"] == [] and report["summary"]["sample_sides_compared"] > 100


def test_one_altered_sample_is_named_with_both_version_sets(tmp_path: Path, cfg) -> None:
    config = _mistral(cfg)
    lock_path = tmp_path / "tokaudit.lock.json"
    assert invoke("snapshot", config, "-o", lock_path).exit_code == 0
    lock = read_lock(lock_path)
    data = lock.data
    rows = lock.ids("serving")
    k = next(i for i, s in enumerate(lock.samples) if s["where"] == "mixed.txt:3")
    rows[k] = [rows[k][0], 28705, *rows[k][1:]]  # one extra "▁" token after BOS
    data["ids"]["serving"] = pack_ids(rows, ref=lock.ids("training"))
    data["samples"][k][data["columns"].index("serving")] = ids_hash(rows[k])
    data["environment"]["packages"]["transformers"] = "4.40.0"
    lock_path.write_text(dump_lock(data))

    result = invoke("diff", config, "--against", lock_path, "--format", "json")
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "TA501" and finding["sample"] == "mixed.txt:3"
    assert "serving tokens moved" in finding["message"] and "transformers 4.40.0 → " in finding["message"]
    assert finding["detail"]["versions_then"]["transformers"] == "4.40.0"
    assert finding["detail"]["versions_now"]["transformers"] != "4.40.0"


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda text: text[: len(text) // 2], "truncated or not JSON"),
        (lambda text: text.replace('"tokaudit_lock": 1', '"tokaudit_lock": 99'), "lock format 99"),
        (lambda text: text.replace('"tokaudit_lock": 1', '"other": 1'), "not a tokaudit lock"),
    ],
)
def test_broken_lock_is_one_line_exit_2(tmp_path: Path, cfg, mangle, expected: str) -> None:
    config = _mistral(cfg)
    lock = tmp_path / "tokaudit.lock.json"
    assert invoke("snapshot", config, "-o", lock).exit_code == 0
    lock.write_text(mangle(lock.read_text()))
    result = invoke("diff", config, "--against", lock)
    assert result.exit_code == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_lock_is_compact_one_line_per_sample(tmp_path: Path, cfg) -> None:
    config = _mistral(cfg)
    lock = tmp_path / "tokaudit.lock.json"
    invoke("snapshot", config, "-o", lock)
    lines = lock.read_text().splitlines()
    sample_lines = [line for line in lines if line.strip().startswith('["')]
    assert len(sample_lines) == len(json.loads(lock.read_text())["samples"])


def test_baseline_passes_with_recorded_findings_and_fails_on_a_new_one(tmp_path: Path, cfg) -> None:
    config = _mistral(cfg)
    baseline = tmp_path / "baseline.json"
    assert invoke("diff", config, "--write-baseline", baseline).exit_code == 0
    assert invoke("diff", config, "--baseline", baseline).exit_code == 0
    # More samples of a kind of divergence the baseline knows: still passes (baselines hold signatures).
    same = tmp_path / "same.txt"
    same.write_text(" another leading-space sample\n")
    config2 = _mistral(cfg, corpus=[str(CORPUS_TXT), str(same)])
    assert invoke("diff", config2, "--baseline", baseline).exit_code == 0
    # A new kind of divergence: a space run after punctuation, which the corpus does not have.
    extra = tmp_path / "extra.txt"
    extra.write_text("(  x  )\n")
    config3 = _mistral(cfg, corpus=[str(CORPUS_TXT), str(extra)], builtin_corpus=False)
    result = invoke("diff", config3, "--baseline", baseline, "--format", "json")
    assert result.exit_code == 1
    assert [f["samples"] for f in json.loads(result.stdout)["findings"]] == [["extra.txt:1"]]


def test_unreadable_baseline_is_exit_2(tmp_path: Path, cfg) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{")
    result = invoke("diff", _mistral(cfg), "--baseline", bad)
    assert result.exit_code == 2 and "baseline" in result.stderr


def test_check_runs_every_check_with_inputs_and_gives_one_exit_code(cfg) -> None:
    config = cfg({"training": side("hf-slow", MINILM), "serving": side("hf", MINILM)})
    result = invoke("check", config, "--format", "json")
    report = json.loads(result.stdout)
    assert report["summary"]["checks"][:2] == ["diff", "vocab-check"]
    assert result.exit_code == (1 if report["counts"]["error"] else 0)


def test_audit_api_returns_findings_instead_of_raising(tmp_path: Path) -> None:
    import tokaudit
    from tokaudit.findings import Severity

    report = tokaudit.audit(
        {"training": side("sentencepiece", MISTRAL_SP, add_bos=True), "serving": side("hf", MISTRAL_HF)},
        command="diff",
    )
    assert report.failed(Severity.ERROR)
    assert {f.code for f in report.findings} == {"TA101", "TA106"}
