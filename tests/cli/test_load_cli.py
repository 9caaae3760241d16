"""End-to-end: `tokaudit load-check` (and `check` with `load_check:`) on real tokenizer folders.

The failing loads come from a test-only tokenizer class (tests/checks/load_fixtures/flaky-bert, loaded
with `trust_remote_code`) that hands one numbered load the Python backend, an exception, another class
or other ids; tokaudit itself is not patched.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import MINILM, MISTRAL_HF, ROOT, invoke, side

FLAKY = ROOT / "tests" / "checks" / "load_fixtures" / "flaky-bert"


def run(config: Path, *extra: str, command: str = "load-check") -> tuple[int, dict[str, Any], str]:
    result = invoke(command, config, "--format", "json", *extra)
    out = result.stdout
    return result.exit_code, (json.loads(out) if out.strip().startswith("{") else {}), result.output


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The MiniLM tokenizer files with the flaky class as its auto_map, and an empty load counter."""
    folder = tmp_path / "flaky-bert"
    folder.mkdir()
    for name in ("tokenizer.json", "vocab.txt", "special_tokens_map.json", "config.json"):
        shutil.copy(MINILM / name, folder / name)
    for item in FLAKY.iterdir():
        if item.is_file():
            shutil.copy(item, folder / item.name)
    counter = tmp_path / "loads"
    counter.mkdir()
    monkeypatch.setenv("FLAKY_LOADS_DIR", str(counter))
    return folder


def flaky_config(cfg: Any, folder: Path, **extra: Any) -> Path:
    # training is a plain folder: its loads must all pass while serving's one bad load is reported
    return cfg(  # type: ignore[no-any-return]
        {"training": side("hf", MINILM), "serving": side("hf", folder, trust_remote_code=True), **extra}
    )


def test_passes_on_the_shipped_hf_fixtures_with_threads_and_processes(cfg: Any) -> None:
    config = cfg({"training": side("hf-slow", MINILM), "serving": side("hf", MISTRAL_HF)})
    code, report, output = run(config, "--threads", "3", "--processes", "2")
    assert code == 0, output
    assert report["findings"] == []
    summary = report["summary"]
    assert summary["loads_checked"] == 10 and summary["loads_failing"] == 0
    assert summary["load_threads"] == 3 and summary["load_processes"] == 2
    # every load of each side got the class the audit's own load got
    ((serving_cls, n),) = summary["serving_loads"].items()
    assert n == 5 and serving_cls.startswith("LlamaTokenizer") and serving_cls.endswith("(tokenizers (Rust))")
    ((training_cls, n),) = summary["training_loads"].items()
    assert n == 5 and training_cls.startswith("BertTokenizer") and training_cls.endswith("(Python)")


def test_passes_on_the_cl100k_conversion_and_skips_the_tiktoken_side() -> None:
    code, report, output = run(ROOT / "configs" / "cl100k.yaml", "--threads", "2", "--processes", "0")
    assert code == 0, output
    assert report["summary"]["loads_checked"] == 2
    assert [s["where"] for s in report["skipped"]] == ["training"]


def test_one_load_in_a_thread_gets_the_python_backend(cfg: Any, flaky: Path) -> None:
    code, report, output = run(flaky_config(cfg, flaky), "--threads", "3", "--processes", "0")
    assert code == 1, output
    (f,) = report["findings"]
    assert f["code"] == "TA602" and f["severity"] == "error" and f["category"] == "python-fallback"
    assert f["where"] == "serving"
    assert re.match(
        r"serving: load thread [123] \(of 3 thread loads\) got the Python backend BertTokenizer(Legacy)? although "
        r"the fast backend was asked for \(the audit's own load got FlakyBertTokenizer, tokenizers \(Rust\)\)",
        f["message"],
    ), f["message"]
    assert len(f["detail"]["loads"]) == 1 and f["detail"]["backend"] == "Python"
    assert report["summary"]["loads_failing"] == 1 and report["summary"]["loads_checked"] == 6
    jsonschema.validate(report, json.loads((ROOT / "docs" / "json-schema.json").read_text(encoding="utf-8")))


def test_one_load_in_a_process_gets_the_python_backend(cfg: Any, flaky: Path) -> None:
    code, report, output = run(flaky_config(cfg, flaky), "--threads", "0", "--processes", "2")
    assert code == 1, output
    (f,) = report["findings"]
    assert f["code"] == "TA602"
    assert re.match(r"serving: load process [12] \(of 2 process loads\) got the Python backend", f["message"])
    assert report["summary"]["serving_loads"] == {
        "FlakyBertTokenizer (tokenizers (Rust))": 1,
        f"{f['detail']['class']} (Python)": 1,
    }


def test_a_load_that_raises_names_the_load_and_the_exception(
    cfg: Any, flaky: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_DOES", "raise")
    code, report, output = run(flaky_config(cfg, flaky), "--threads", "2", "--processes", "0")
    assert code == 1, output
    (f,) = report["findings"]
    assert f["code"] == "TA601" and f["category"] == "load-error"
    assert re.fullmatch(
        r"serving: load thread [12] \(of 2 thread loads\) raised "
        r"NotImplementedError: load 2 came back half-initialised",
        f["message"],
    ), f["message"]


def test_a_load_of_another_class_is_a_resolution_error(cfg: Any, flaky: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAKY_DOES", "other")
    code, report, output = run(flaky_config(cfg, flaky), "--threads", "2", "--processes", "0")
    assert code == 1, output
    (f,) = report["findings"]
    assert f["code"] == "TA603" and f["category"] == "resolution"
    assert " resolved to " in f["message"] and "not FlakyBertTokenizer (tokenizers (Rust))" in f["message"]
    assert f["detail"]["class"] != "FlakyBertTokenizer"


def test_a_load_with_other_ids_shows_the_first_sample(cfg: Any, flaky: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAKY_DOES", "ids")
    code, report, output = run(flaky_config(cfg, flaky), "--threads", "2", "--processes", "0")
    assert code == 1, output
    (f,) = report["findings"]
    assert f["code"] == "TA604" and f["detail"]["first_sample"] == "builtin:plain"
    assert f["detail"]["ids"] != f["detail"]["expected_ids"]
    assert "first builtin:plain: [101, " in f["message"]


def test_loads_with_the_same_problem_are_one_finding(cfg: Any, flaky: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAKY_AT", "1,3")
    code, report, output = run(flaky_config(cfg, flaky), "--threads", "3", "--processes", "0")
    assert code == 1, output
    (f,) = report["findings"]
    assert f["code"] == "TA602" and len(f["detail"]["loads"]) == 2
    assert re.match(r"serving: loads thread \d, thread \d \(of 3 thread loads\) got the Python backend", f["message"])


def test_check_runs_the_loads_when_the_config_asks(cfg: Any, flaky: Path) -> None:
    config = flaky_config(cfg, flaky, load_check={"threads": 2})
    code, report, output = run(config, command="check")
    assert code == 1, output
    assert "load-check" in report["summary"]["checks"]
    assert report["summary"]["load-check"]["load_processes"] == 0
    assert [f["code"] for f in report["findings"] if f["code"].startswith("TA6")] == ["TA602"]


@pytest.mark.parametrize(
    ("load_check", "message"),
    [
        ({"threads": -1}, "load_check.threads: Input should be greater than or equal to 0"),
        ({"threads": "4"}, "load_check.threads: Input should be a valid integer"),
        ({"processes": 100000}, "load_check.processes: Input should be less than or equal to 256"),
        ({}, "load_check: set `threads` and/or `processes` above 0"),
        ({"thread": 2}, "load_check.thread: unknown key"),
        (4, "load_check: Input should be a valid dictionary"),
    ],
)
def test_bad_load_check_config_is_one_line_exit_2(cfg: Any, load_check: Any, message: str) -> None:
    config = cfg({"training": side("hf", MINILM), "serving": side("hf", MINILM), "load_check": load_check})
    result = invoke("load-check", config)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {config}: {message}"), result.stderr


def test_a_config_without_an_hf_side_is_exit_2(cfg: Any) -> None:
    tiktoken = side("tiktoken", encoding="cl100k_base")
    config = cfg({"training": tiktoken, "serving": tiktoken})
    result = invoke("load-check", config)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {config}: load-check loads `hf` and `hf-slow` sides, and this config has none "
        "(training: tiktoken, serving: tiktoken)\n"
    )


def test_no_loads_at_all_is_exit_2(cfg: Any) -> None:
    config = cfg({"training": side("hf", MINILM), "serving": side("hf", MINILM)})
    result = invoke("load-check", config, "--threads", "0", "--processes", "0")
    assert result.exit_code == 2
    assert result.stderr == f"error: {config}: load_check: nothing to load: --threads and --processes are both 0\n"


def test_load_check_in_a_config_without_an_hf_side_fails_before_any_check(cfg: Any) -> None:
    tiktoken = side("tiktoken", encoding="cl100k_base")
    config = cfg({"training": tiktoken, "serving": tiktoken, "load_check": {"threads": 2}})
    result = invoke("check", config)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {config}: load_check: load-check loads `hf` and `hf-slow` sides, and this config has none "
        "(training: tiktoken, serving: tiktoken)\n"
    )


def test_too_many_loads_from_the_flags_is_exit_2(cfg: Any) -> None:
    config = cfg({"training": side("hf", MINILM), "serving": side("hf", MINILM)})
    result = invoke("load-check", config, "--processes", "257")
    assert result.exit_code == 2
    assert result.stderr == f"error: {config}: --threads / --processes: at most 256 loads of each kind\n"


def test_help_states_the_checks_defaults() -> None:
    from tokaudit.checks.load.check import DEFAULT_PROCESSES, DEFAULT_THREADS

    text = " ".join(invoke("load-check", "--help").output.split())
    assert f"load_check.threads, else {DEFAULT_THREADS})" in text
    assert f"load_check.processes, else {DEFAULT_PROCESSES})" in text
