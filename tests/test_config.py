"""Config validation: one line naming the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CORPUS_TXT, MISTRAL_HF, MISTRAL_SP, side
from tokaudit.config import load_config
from tokaudit.errors import ConfigError
from tokaudit.findings import Severity


def _base() -> dict:
    return {"training": side("sentencepiece", MISTRAL_SP, add_bos=True), "serving": side("hf", MISTRAL_HF)}


def test_issue_shape_loads_and_resolves_relative_paths(cfg, tmp_path: Path) -> None:
    path = cfg(
        {
            "model": {
                "name": "mistralai/Mistral-7B-v0.1",
                "revision": "26bca36bde8333b5d7f72e9ed20ccda6a618af24",
                "vocab_size": 32000,
            },
            **_base(),
            "corpus": [str(CORPUS_TXT), {"path": str(CORPUS_TXT), "limit": 3}],
            "fail_on": "warning",
            "ignore": ["TA106"],
        }
    )
    s = load_config(path)
    assert s.model and s.model.vocab_size == 32000
    assert s.fail_on is Severity.WARNING
    assert [c.limit for c in s.corpus] == [None, 3]
    assert s.training.add_bos is True


def test_relative_paths_are_relative_to_the_config(tmp_path: Path, cfg) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("hello\n")
    path = cfg({**_base(), "corpus": ["sub/c.txt"]})
    assert load_config(path).corpus[0].path == tmp_path / "sub" / "c.txt"


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"trainig": {}}, "trainig: unknown key"),
        ({"training": side("sentencepeice", MISTRAL_SP)}, "training.source: unknown source 'sentencepeice'"),
        ({"training": side("sentencepiece", MISTRAL_SP, add_bos="yes")}, "training.add_bos:"),
        ({"model": {"name": "m", "vocab_size": "32000"}}, "model.vocab_size:"),
        ({"training": side("sentencepiece", "nope/tokenizer.model")}, "training.path: no such file"),
        ({"corpus": ["missing.txt"]}, "corpus[0].path: no such file"),
        ({"corpus": [{"path": str(CORPUS_TXT), "feild": "x"}]}, "corpus[0].feild: unknown key"),
        ({"fail_on": "fatal"}, "fail_on: must be one of: error, warning, info"),
        ({"serving": None}, "serving:"),
        ({"training": side("sentencepiece", MISTRAL_SP, special_text="maybe")}, "training.special_text:"),
    ],
)
def test_bad_config_names_file_and_key(cfg, patch: dict, expected: str) -> None:
    path = cfg({**_base(), **patch})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    assert expected in msg
    assert "\n" not in msg


def test_yaml_syntax_error_names_the_line(cfg) -> None:
    path = cfg("training:\n  source: hf\n  path: [unclosed\n")
    with pytest.raises(ConfigError, match=r"YAML syntax error: line \d+"):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping(cfg) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(cfg("- a\n- b\n"))


def test_hub_id_is_accepted_for_hf(cfg) -> None:
    s = load_config(cfg({**_base(), "serving": side("hf", "mistralai/Mistral-7B-v0.1", revision="main")}))
    assert s.serving.path == "mistralai/Mistral-7B-v0.1"


def test_rollouts_key(cfg) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import FIXTURES

    base = {"training": side("hf", MISTRAL_HF), "serving": side("hf", MISTRAL_HF)}
    dump = FIXTURES / "rollouts" / "qwen3-tools.jsonl"
    settings = load_config(cfg({**base, "rollouts": {"path": str(dump), "turns": "turns"}}))
    assert settings.rollouts is not None and settings.rollouts.decode.skip_special_tokens is False
    for rollouts, problem in (
        ({"path": str(dump)}, "rollouts: map `turns`"),
        (
            {"path": str(dump), "input_ids": "ids", "loss_mask": "m", "turns": "t", "typo": 1},
            "rollouts.typo: unknown key",
        ),
        ({"path": str(dump), "turns": "t", "loss_mask": "m"}, "`loss_mask` needs `input_ids`"),
        ({"path": "missing.jsonl", "turns": "t"}, "rollouts.path: no such file"),
    ):
        with pytest.raises(ConfigError, match=problem.replace("`", ".")):
            load_config(cfg({**base, "rollouts": rollouts}))
