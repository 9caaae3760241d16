"""The runner carries out a Request: checks, ignore, baselines and snapshots, without printing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CORPUS_TXT, MINILM, MISTRAL_HF, MISTRAL_SP, side
from tokaudit.errors import InputError
from tokaudit.options import Options
from tokaudit.runner import SNAPSHOT, Request, run
from tokaudit.snapshot import read_lock


def _mistral(cfg, **extra):  # type: ignore[no-untyped-def]
    return cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [str(CORPUS_TXT)],
            **extra,
        }
    )


def test_a_check_runs_and_the_report_names_both_sides(cfg, capsys) -> None:  # type: ignore[no-untyped-def]
    outcome = run(Request("diff", _mistral(cfg), Options(builtin=False)))
    report = outcome.report
    assert outcome.judged and outcome.wrote == ()
    assert {f.code for f in report.findings} >= {"TA101", "TA106"}
    assert report.summary["samples_compared"] == sum(1 for line in CORPUS_TXT.read_text().splitlines() if line)
    assert set(report.header["sides"]) == {"training", "serving"}
    assert capsys.readouterr() == ("", "")  # the runner never prints


def test_check_runs_every_check_the_config_has_inputs_for(cfg) -> None:  # type: ignore[no-untyped-def]
    report = run(Request("check", _mistral(cfg))).report
    assert report.summary["checks"] == ["diff", "vocab-check"]
    assert "diff" in report.summary and "vocab-check" in report.summary


def test_ignore_drops_by_code_and_counts(cfg) -> None:  # type: ignore[no-untyped-def]
    full = run(Request("diff", _mistral(cfg))).report
    kept = run(Request("diff", _mistral(cfg, ignore=["TA101"]))).report
    dropped = sum(f.code == "TA101" for f in full.findings)
    assert dropped > 0 and kept.ignored == dropped
    assert not any(f.code == "TA101" for f in kept.findings)


def test_a_baseline_written_then_applied_leaves_nothing(tmp_path: Path, cfg) -> None:  # type: ignore[no-untyped-def]
    config = _mistral(cfg)
    baseline = tmp_path / "baseline.json"
    written = run(Request("diff", config, write_baseline=baseline))
    assert not written.judged and written.wrote and baseline.is_file()
    again = run(Request("diff", config, baseline=baseline)).report
    assert again.findings == () and again.ignored == len(written.report.findings) > 0


def test_an_unreadable_baseline_fails_before_any_tokenizer_loads(tmp_path: Path, cfg) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    config = cfg({"training": side("hf", tmp_path / "missing-dir"), "serving": side("hf", MINILM)})
    with pytest.raises(Exception) as exc:
        run(Request("diff", config, baseline=bad))
    # the config names a folder that does not exist: either error is one line, but the baseline is read first
    assert "b.json" in str(exc.value) or "missing-dir" in str(exc.value)


def test_snapshot_writes_a_lock_that_diff_against_accepts(tmp_path: Path, cfg) -> None:  # type: ignore[no-untyped-def]
    config = _mistral(cfg)
    lock = tmp_path / "tokaudit.lock.json"
    outcome = run(Request(SNAPSHOT, config, lock=lock))
    assert not outcome.judged and "samples" in outcome.wrote[0]
    data = read_lock(lock)
    assert len(data.samples) == outcome.report.summary["samples"] > 0
    moved = run(Request("diff", config, Options(against=lock))).report
    assert moved.findings == () and moved.summary["sample_sides_compared"] == 2 * len(data.samples)


def test_snapshot_never_overwrites_the_config(cfg) -> None:  # type: ignore[no-untyped-def]
    config = _mistral(cfg)
    before = config.read_text()
    with pytest.raises(Exception, match="refusing to overwrite the config"):
        run(Request(SNAPSHOT, config, lock=config))
    assert config.read_text() == before


def test_nothing_to_compare_is_an_input_error(cfg) -> None:  # type: ignore[no-untyped-def]
    config = cfg({"training": side("hf", MINILM), "serving": side("hf-slow", MINILM)})
    with pytest.raises(InputError, match="nothing to compare"):
        run(Request("diff", config, Options(builtin=False)))


def test_the_api_and_the_runner_agree(cfg) -> None:  # type: ignore[no-untyped-def]
    import tokaudit

    config = _mistral(cfg)
    via_api = tokaudit.audit(config, command="diff", builtin=False)
    via_runner = run(Request("diff", config, Options(builtin=False))).report
    assert json.dumps([f.to_dict() for f in via_api.findings]) == json.dumps([f.to_dict() for f in via_runner.findings])
