"""Whole datasets: one finding per distinct divergence with exact counts, the same report whatever
the engine or the number of workers, baselines that hold across corpus sizes, reproducible samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MISTRAL_HF, MISTRAL_SP, invoke, side

WHITESPACE = "    return value_{k}"  # SentencePiece and transformers split the indentation differently
SPECIAL = "The user typed <s> here {k}"  # `<s>` is a control token on serving only
CLEAN = "plain words here {k}"


def _corpus(path: Path, n: int, special_every: int = 997, extra: str = "") -> Path:
    lines = []
    for k in range(n):
        template = SPECIAL if k % special_every == 3 else (WHITESPACE if k % 3 else CLEAN)
        lines.append(template.format(k=k))
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def _config(cfg, corpus, **extra):  # type: ignore[no-untyped-def]
    return cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [corpus] if isinstance(corpus, dict) else [str(corpus)],
            "builtin_corpus": False,
            **extra,
        }
    )


def _diff(config: Path, *flags: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = invoke("diff", config, "--format", "json", *flags)
    return result.exit_code, (json.loads(result.stdout) if result.stdout.startswith("{") else {}), result.stdout


def test_thousands_of_samples_with_one_problem_are_one_finding_with_the_exact_count(tmp_path: Path, cfg) -> None:
    import sentencepiece
    from transformers import AutoTokenizer

    corpus = _corpus(tmp_path / "c.txt", 6000)
    code, report, _ = _diff(_config(cfg, corpus), "--workers", "1")
    assert code == 1

    # the per-sample truth, straight from the two libraries
    sp = sentencepiece.SentencePieceProcessor(model_file=str(MISTRAL_SP))
    hf = AutoTokenizer.from_pretrained(str(MISTRAL_HF))
    lines = corpus.read_text(encoding="utf-8").splitlines()
    differing = [k for k, t in enumerate(lines, 1) if [1, *sp.encode(t)] != hf(t)["input_ids"]]
    specials = [k for k in differing if "<s>" in lines[k - 1]]
    spaces = [k for k in differing if lines[k - 1].startswith("    ")]
    assert len(specials) == 7 and len(spaces) > 3900 and len(differing) == len(specials) + len(spaces)

    findings = report["findings"]
    assert sorted((f["code"], f["category"], f["count"]) for f in findings) == [
        ("TA101", "special-token", 7),
        ("TA106", "whitespace", len(spaces)),
    ]
    by_code = {f["code"]: f for f in findings}
    assert by_code["TA101"]["samples"] == [f"c.txt:{k}" for k in specials[:5]]
    assert by_code["TA106"]["samples"] == [f"c.txt:{k}" for k in spaces[:5]]
    assert by_code["TA106"]["sample"] == f"c.txt:{spaces[0]}" and by_code["TA106"]["detail"]["serving"]["tokens"]
    summary = report["summary"]
    assert summary["samples_compared"] == len(lines)
    assert summary["samples_differing"] == len(differing)
    assert summary["by_category"] == {"special-token": 7, "whitespace": len(spaces)}
    assert summary["distinct_divergences"] == 2


def test_examples_sets_how_many_locations_a_finding_keeps(tmp_path: Path, cfg) -> None:
    config = _config(cfg, _corpus(tmp_path / "c.txt", 300))
    _, report, _ = _diff(config, "--examples", "2")
    assert {len(f["samples"]) for f in report["findings"]} == {1, 2}  # 1: a finding with a single sample


def _big_corpus(tmp_path: Path) -> Path:
    # > 2 shards of 1 MiB, so two workers really split it
    return _corpus(tmp_path / "big.txt", 120_000, special_every=4999)


def test_the_report_is_the_same_for_one_and_two_workers(tmp_path: Path, cfg) -> None:
    config = _config(cfg, _big_corpus(tmp_path))
    one = _diff(config, "--workers", "1")
    two = _diff(config, "--workers", "2")
    assert one[0] == two[0] == 1
    assert one[2] == two[2]  # byte for byte
    assert one[1]["summary"]["samples_compared"] == 120_000


def test_the_ray_engine_gives_the_same_report_as_the_local_one(tmp_path: Path, cfg) -> None:
    pytest.importorskip("ray", reason="the `ray` extra (scripts/test.sh installs it in .venv)")
    config = _config(cfg, _big_corpus(tmp_path))
    exe = Path(sys.executable).parent / "tokaudit"
    env = {**os.environ, "RAY_ADDRESS": ""}  # a local Ray with 2 CPUs, started by tokaudit itself
    runs = {}
    for name, flags in (("local", ["--workers", "2"]), ("ray", ["--engine", "ray", "--workers", "2"])):
        out = tmp_path / f"{name}.json"
        done = subprocess.run(
            [str(exe), "diff", str(config), "--format", "json", "-o", str(out), *flags],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and "core_worker" not in done.stderr  # Ray's logs stay hidden
        runs[name] = out.read_bytes()
    assert runs["ray"] == runs["local"]
    assert json.loads(runs["ray"])["summary"]["samples_compared"] == 120_000


def test_a_baseline_from_a_slice_holds_on_the_whole_corpus_until_a_new_kind_appears(tmp_path: Path, cfg) -> None:
    corpus = _corpus(tmp_path / "c.txt", 20_000, special_every=500)
    baseline = tmp_path / "baseline.json"
    sliced = _config(cfg, {"path": str(corpus), "limit": 1000})
    assert invoke("diff", sliced, "--write-baseline", baseline).exit_code == 0
    whole = _config(cfg, corpus)
    assert invoke("diff", whole, "--baseline", baseline).exit_code == 0
    # one new kind of problem (a space run after punctuation) anywhere in the corpus fails the gate
    grown = _corpus(tmp_path / "grown.txt", 20_000, special_every=500, extra="(  x  )\n")
    code, report, _ = _diff(_config(cfg, grown), "--baseline", str(baseline))
    assert code == 1
    assert [(f["code"], f["samples"]) for f in report["findings"]] == [("TA106", ["grown.txt:20001"])]


def test_sample_is_reproducible_for_a_seed(tmp_path: Path, cfg) -> None:
    config = _config(cfg, _corpus(tmp_path / "c.txt", 5000, special_every=50))
    first = _diff(config, "--sample", "400", "--seed", "7")
    again = _diff(config, "--sample", "400", "--seed", "7")
    other = _diff(config, "--sample", "400", "--seed", "8")
    assert first[2] == again[2]
    assert first[1]["summary"]["samples_compared"] == 400
    assert [f["samples"] for f in first[1]["findings"]] != [f["samples"] for f in other[1]["findings"]]
