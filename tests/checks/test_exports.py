"""vocab-check on exports: the folder `save_pretrained` wrote under transformers 5 and under 4.57, from the
shipped Mistral 7B files in a real Hub-cache folder whose config.json says `model_type: mistral`.

transformers 5 loads those files as TokenizersBackend and saves that class name, which 4.57 cannot import
(shown by loading the export in the 4.57 environment, through tokaudit.environments as `bump --python`
does); the same files saved by 4.57 keep LlamaTokenizer.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MISTRAL_HF, MISTRAL_SP_DIR, invoke, side
from tests.hub_cache import add_snapshot

OLD_PYTHON = os.environ.get("TOKAUDIT_OLD_PYTHON")
needs_old = pytest.mark.skipif(
    not OLD_PYTHON, reason="needs TOKAUDIT_OLD_PYTHON, the 4.57 environment (scripts/test.sh)"
)
needs_5 = pytest.mark.skipif(
    int(__import__("importlib.metadata").metadata.version("transformers").split(".")[0]) < 5,
    reason="the export under test is the one transformers 5 writes",
)
REPO = "mistralai/Mistral-7B-v0.1"
COMMIT = "26bca36bde8333b5d7f72e9ed20ccda6a618af24"
SAVE = (
    "import sys\nfrom transformers import AutoTokenizer\n"
    "AutoTokenizer.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[2])\n"
)
LOAD = (
    "import sys\nfrom transformers import AutoTokenizer\n"
    "try:\n    print(type(AutoTokenizer.from_pretrained(sys.argv[1])).__name__)\n"
    "except Exception as exc:\n    print('FAILED', exc)\n"
)


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The base model in the HF cache: tokenizer files, a chat template in tokenizer_config.json, configs."""
    config = json.loads((MISTRAL_SP_DIR / "tokenizer_config.json").read_text())
    config["add_eos_token"] = True  # not the class default: an export that drops it changes what a 4.x class adds
    config["chat_template"] = (FIXTURES / "templates" / "mistral-instruct.jinja").read_text()
    files = {
        "tokenizer.json": (MISTRAL_HF / "tokenizer.json").read_bytes(),
        "tokenizer_config.json": json.dumps(config).encode(),
        "config.json": b'{"model_type": "mistral", "vocab_size": 32000}',
        "generation_config.json": b'{"bos_token_id": 1, "eos_token_id": 2}',
    }
    snapshot = add_snapshot(tmp_path / "hub", REPO, COMMIT, files, refs=("main",))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return snapshot


def _in_old_environment(script: str, *args: Path) -> str:
    from tokaudit.environments import interpreter

    env = interpreter(Path(str(OLD_PYTHON)))  # what `bump --python` checks: it runs, tokaudit imports there
    done = subprocess.run([str(env.python), "-c", script, *map(str, args)], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _codes(cfg, export: Path) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """vocab-check, training = the base (a Hub id in the cache), serving = the export."""
    path = cfg(
        {"model": {"name": REPO, "revision": COMMIT}, "training": side("hf", REPO), "serving": side("hf", export)}
    )
    result = invoke("vocab-check", path, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return {f["code"]: f for f in json.loads(result.stdout)["findings"]}


@needs_5
def test_a_transformers_5_export_names_a_class_4x_cannot_import(base: Path, tmp_path: Path, cfg) -> None:
    from transformers import AutoTokenizer

    export = tmp_path / "export-5"
    tok = AutoTokenizer.from_pretrained(str(base))
    assert type(tok).__name__ == "TokenizersBackend"
    tok.save_pretrained(str(export))
    assert json.loads((export / "tokenizer_config.json").read_text())["tokenizer_class"] == "TokenizersBackend"
    found = _codes(cfg, export)
    assert "'TokenizersBackend'" in found["TA230"]["message"] and found["TA230"]["severity"] == "warning"
    # the template moved to chat_template.jinja only; add_bos_token / add_eos_token were dropped; no generation_config
    assert "only in chat_template.jinja" in found["TA231"]["message"]
    assert "keeps it in tokenizer_config.json" in found["TA232"]["message"]
    assert "add_eos_token true → (unset: the loader default)" in found["TA233"]["message"]
    assert "add_bos_token" not in found["TA233"]["message"]  # dropped too, but true is what a loader assumes
    assert "TA234" in found


@needs_5
@needs_old
def test_4_57_cannot_load_the_5_export_and_its_own_export_does_not_fire(base: Path, tmp_path: Path, cfg) -> None:
    from transformers import AutoTokenizer

    export5, export4 = tmp_path / "export-5", tmp_path / "export-4"
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(export5))
    assert "TokenizersBackend does not exist" in _in_old_environment(LOAD, export5)  # the finding is real
    _in_old_environment(SAVE, base, export4)
    assert json.loads((export4 / "tokenizer_config.json").read_text())["tokenizer_class"] == "LlamaTokenizerFast"
    assert _in_old_environment(LOAD, export4) == "LlamaTokenizerFast"
    found = _codes(cfg, export4)
    assert "TA230" not in found and "TA233" not in found  # 4.57 keeps the class it can import and the flags
    assert "TA231" in found  # 4.57 too saves the template to chat_template.jinja only


def test_a_template_moved_to_chat_template_jinja_only_is_a_finding(tmp_path: Path, cfg) -> None:
    base, export = tmp_path / "base", tmp_path / "export"
    for folder in (base, export):
        folder.mkdir()
        (folder / "tokenizer.json").write_bytes((MISTRAL_HF / "tokenizer.json").read_bytes())
    template = (FIXTURES / "templates" / "mistral-instruct.jinja").read_text()
    config = json.loads((MISTRAL_HF / "tokenizer_config.json").read_text())
    (base / "tokenizer_config.json").write_text(json.dumps({**config, "chat_template": template}))
    (export / "tokenizer_config.json").write_text(json.dumps(config))
    (export / "chat_template.jinja").write_text(template)
    path = cfg({"training": side("hf", base), "serving": side("hf", export)})
    result = invoke("vocab-check", path, "--format", "json")
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert {"TA231", "TA232"} <= codes and not codes & {"TA230", "TA233", "TA234"}
    # the same template in both places of both folders: nothing to say
    (base / "chat_template.jinja").write_text(template)
    (export / "tokenizer_config.json").write_text(json.dumps({**config, "chat_template": template}))
    result = invoke("vocab-check", path, "--format", "json")
    assert not {f["code"] for f in json.loads(result.stdout)["findings"]} & {"TA231", "TA232"}
