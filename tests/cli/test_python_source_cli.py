"""End-to-end: `source: python` and `chat_format`, the code a team really trains with, through the real CLI.

The user code is real small modules in tests/pipelines/ over the real libraries. Exit code first, then the
findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS_TXT, FIXTURES, MISTRAL_HF, invoke, side

MISTRAL_JINJA = str(FIXTURES / "templates" / "mistral-instruct.jinja")
EXE = Path(sys.executable).parent / "tokaudit"


def python(obj: str, **args: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"source": "python", "object": f"tests.pipelines.{obj}"}
    if args:
        out["args"] = args
    return out


def run_json(command: str, config: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = invoke(command, config, "--format", "json", *extra)
    out = result.stdout
    return result.exit_code, (json.loads(out) if out.strip().startswith("{") else {}), result.stderr


def categories(report: dict[str, Any]) -> set[str]:
    return {f["category"] for f in report["findings"]}


# Done when 1: a naive re-implementation of the tokenizer.json pre-tokenizer vs that file through `hf`.
def test_a_naive_pre_tokenizer_is_caught_as_a_whitespace_divergence(cfg) -> None:
    path = cfg({"training": python("naive_metaspace:build", path=str(MISTRAL_HF)), "serving": side("hf", MISTRAL_HF)})
    code, report, _ = run_json("diff", path)
    assert code == 1
    assert categories(report) & {"whitespace", "segmentation"}
    ws = next(f for f in report["findings"] if f["category"] == "whitespace")
    tokens = ws["detail"]["training"]["tokens"]
    assert all(t["piece"] != "(piece unavailable)" for t in tokens)  # the object's own pieces as evidence
    assert report["header"]["sides"]["training"]["source"] == "python"


def test_a_faithful_wrapper_is_clean_over_the_whole_built_in_corpus(cfg) -> None:
    path = cfg({"training": python("faithful:build", path=str(MISTRAL_HF)), "serving": side("hf", MISTRAL_HF)})
    code, report, _ = run_json("diff", path)
    assert code == 0, [f["message"] for f in report["findings"]]
    assert report["findings"] == [] and report["summary"]["samples_compared"] > 30


# Done when 2: a compatibility layer around AutoTokenizer vs the plain AutoTokenizer on the same folder.
def compat(cfg, variant: str, builtin: bool = False) -> tuple[int, dict[str, Any]]:
    path = cfg(
        {
            "training": python("compat:build", path=str(MISTRAL_HF), variant=variant),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [str(CORPUS_TXT)],
            "builtin_corpus": builtin,
        }
    )
    code, report, _ = run_json("diff", path)
    return code, report


def test_a_layer_that_only_delegates_is_clean(cfg) -> None:
    code, report = compat(cfg, "delegate")
    assert code == 0 and report["findings"] == []
    # the built-in corpus types every special of either side: the layer's own added tokens are real skew
    code, report = compat(cfg, "delegate", builtin=True)
    assert code == 1 and categories(report) == {"special-token"}
    assert {"<|assistant|>", "<pad>"} == {
        m for f in report["findings"] for m in ("<|assistant|>", "<pad>") if m in f["message"]
    }


@pytest.mark.parametrize("variant", ["strip", "prefix-space"])
def test_a_layer_that_alters_the_text_before_delegating_is_a_finding(cfg, variant: str) -> None:
    code, report = compat(cfg, variant)
    assert code == 1
    assert "whitespace" in categories(report)


def test_an_object_with_no_piece_method_still_shows_the_ids(cfg, tmp_path: Path) -> None:
    (tmp_path / "tabs.txt").write_text("plain\nhas\ttab\n", encoding="utf-8")
    path = cfg(
        {
            "training": python("broken:raises_on_tabs"),
            "serving": python("broken:only_ids"),
            "corpus": [str(tmp_path / "tabs.txt")],
            "builtin_corpus": False,
        }
    )
    code, report, _ = run_json("diff", path)
    assert code == 1
    (refused,) = report["findings"]
    assert refused["code"] == "TA110" and "tabs are not supported" in json.dumps(refused)
    assert report["header"]["sides"]["serving"]["evidence"]["pieces"] is None


# Done when 3: a FastChat-style formatter (training) vs the Jinja template (serving).
def chat_config(cfg, fmt: str, **extra: Any) -> Path:
    return cfg(
        {
            "training": side(
                "hf", MISTRAL_HF, chat_format=f"tests.pipelines.prompts:{fmt}", chat_add_special_tokens=False
            ),
            "serving": side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA),
            "conversations": str(FIXTURES / "chats" / "mistral.jsonl"),
            **extra,
        }
    )


def test_template_check_finds_the_formatter_s_seeded_difference(cfg) -> None:
    code, report, _ = run_json("template-check", chat_config(cfg, "llama2"))
    assert code == 1
    text = [f for f in report["findings"] if f["code"] == "TA301"]
    assert text and all("[/INST]" in f["message"] for f in text)
    code, report, _ = run_json("template-check", chat_config(cfg, "llama2_faithful"))
    assert code == 0 and not [f for f in report["findings"] if f["severity"] == "error"]


def test_mask_check_per_turn_renders_with_the_formatter(cfg) -> None:
    per_turn = {"mask": {"strategy": "per-turn"}}
    code, slip, _ = run_json("mask-check", chat_config(cfg, "llama2", **per_turn))
    assert code == 1 and slip["summary"]["samples_checked"] > 0
    _, faithful, _ = run_json("mask-check", chat_config(cfg, "llama2_faithful", **per_turn))

    def glued(f: dict[str, Any]) -> bool:  # "[" of "[/INST]" with no "▁" before it: the formatter's missing space
        pieces = [t["piece"] for t in f["detail"]["training"]["tokens"]]
        return any(p.endswith("[") and not p.startswith("▁") and q == "/" for p, q in zip(pieces, pieces[1:]))

    assert any(glued(f) for f in slip["findings"]) and not any(glued(f) for f in faithful["findings"])


# Done when 4: unusable user code is one line naming the key and the object; exit 2; --debug shows the traceback.
@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ("no_such_module:build", "cannot import 'tests.pipelines.no_such_module'"),
        ("faithful:no_such_factory", "has no attribute 'no_such_factory'"),
        ("broken:factory_raises", "calling it raised FileNotFoundError"),
        ("broken:no_encode", "which has no `encode` method"),
        ("broken:strings", "returned list ['Hello', 'world']; expected a sequence of ints"),
    ],
)
def test_unusable_user_code_is_one_line_exit_2(cfg, obj: str, problem: str) -> None:
    path = cfg({"training": python(obj), "serving": side("hf", MISTRAL_HF)})
    result = invoke("diff", path)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: training.object: tests.pipelines.{obj}: ") and problem in line
    assert "Traceback" not in result.output
    debug = invoke("diff", path, "--debug")
    assert debug.exit_code == 2 and "Traceback" in debug.stderr


def test_an_unusable_chat_format_is_one_line_exit_2(cfg) -> None:
    path = chat_config(cfg, "no_such_function")
    result = invoke("template-check", path)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: training.chat_format: tests.pipelines.prompts:no_such_function: ")
    assert "Traceback" not in result.output


# The config's folder is on sys.path: the installed console script imports the package beside the config.
@pytest.mark.skipif(not EXE.exists(), reason="console script not installed")
def test_the_console_script_imports_the_package_beside_the_config(tmp_path: Path) -> None:
    package = tmp_path / "project" / "my_pipeline"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "tokenizer.py").write_text(
        "import tokenizers\n\n\nclass Tok:\n    def __init__(self, path):\n"
        "        self.tk = tokenizers.Tokenizer.from_file(path + '/tokenizer.json')\n\n"
        "    def encode(self, text):\n        return self.tk.encode(text).ids\n\n\n"
        "def build(path):\n    return Tok(path)\n",
        encoding="utf-8",
    )
    config = tmp_path / "project" / "tokaudit.yaml"
    config.write_text(
        f"training:\n  source: python\n  object: my_pipeline.tokenizer:build\n  args: {{path: {MISTRAL_HF}}}\n"
        f"serving:\n  source: hf\n  path: {MISTRAL_HF}\nbuiltin_corpus: false\ncorpus: [{CORPUS_TXT}]\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1"}
    result = subprocess.run([str(EXE), "diff", str(config)], capture_output=True, text=True, cwd="/", env=env)
    assert result.returncode == 0, result.stderr
