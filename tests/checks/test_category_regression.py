"""Every pair the project can build from its fixtures and llama.cpp's vocab files, diffed on the built-in
corpus (and each GGUF family's test strings): the set of distinct divergences (signature, category) equals
the audited set in category_regression.yaml. Each row there was looked at by hand once, with both sides'
tokens; a new divergence, a lost one or a changed category fails here.

Pairs: each GGUF family through `gguf` (transformers' conversion) against `llama.cpp`; each family's golden
ids (llama.cpp's `.out`, made by the original tokenizer) as a `dataset` side against `gguf` and against
`llama.cpp`; the configs in configs/ that diff; Mistral's v7 instruct SentencePiece model against the HF
tokenizer transformers builds from it; mistral-common's tekken against transformers' conversion of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, gguf_vocab, mistral_data, needs_llama_cpp, side
from tests.gguf_files import read_tests
from tokaudit.config import load_config, settings_from_dict
from tokaudit.options import Options
from tokaudit.runner import run_checks
from tokaudit.sources.sides import load_sides

AUDITED: dict[str, list[list[str]]] = yaml.safe_load(
    (Path(__file__).parent / "category_regression.yaml").read_text(encoding="utf-8")
)
CONFIGS = ("cl100k", "mistral-7b", "mistral-bump", "mistral-hf-vs-tokenizers", "minilm-fast-vs-slow")
TEKKEN = "tekken_240911.json"


def _major() -> int:
    import transformers

    return int(transformers.__version__.split(".")[0])


def _golden(tmp: Path, family: str) -> dict[str, Any]:
    """llama.cpp's test strings with the original tokenizer's ids, as a tokenized dataset."""
    path = tmp / f"{family}.jsonl"
    rows = read_tests(gguf_vocab(family))
    path.write_text("".join(json.dumps({"text": t, "ids": ids}) + "\n" for t, ids in rows), encoding="utf-8")
    return side("dataset", path, text_field="text", ids_field="ids")


def _inputs(tmp: Path, family: str) -> list[dict[str, Any]]:
    path = tmp / f"{family}-inp.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t, _ in read_tests(gguf_vocab(family))))
    return [{"path": str(path), "field": "text"}]


def _tekken_hf(tmp: Path) -> Path:
    from transformers.integrations.mistral import convert_tekken_tokenizer

    folder = tmp / "tekken-hf"
    convert_tekken_tokenizer(str(mistral_data(TEKKEN))).save_pretrained(folder)
    return folder


def _v7_hf(tmp: Path) -> Path:
    folder = tmp / "v7-hf"
    folder.mkdir()
    shutil.copy(mistral_data("mistral_instruct_tokenizer_241114.model.v7"), folder / "tokenizer.model")
    shutil.copy(ROOT / "fixtures" / "mistral-7b" / "tokenizer_config.json", folder / "tokenizer_config.json")
    return folder


def settings(pair: str, tmp: Path) -> Any:
    kind, _, name = pair.partition("/")
    if kind == "config":
        return load_config(ROOT / "configs" / f"{name}.yaml")
    if kind == "v7":
        folder = _v7_hf(tmp)
        training = side("sentencepiece", folder / "tokenizer.model", add_bos=True)
        data = {"training": training, "serving": side("hf", folder)}
    elif kind == "tekken":
        served = side("hf", _tekken_hf(tmp), **({"add_bos": True} if name.endswith("-bos") else {}))
        data = {"training": side("mistral-common", mistral_data(TEKKEN)), "serving": served}
    elif kind == "golden":
        family, _, source = name.partition("/")
        served = side(source, gguf_vocab(family), add_bos=False, add_eos=False)  # as llama.cpp's test encodes
        data = {"training": _golden(tmp, family), "serving": served}
    else:  # gguf/<family>: transformers' conversion against llama.cpp's own tokenizer
        data = {
            "training": side("gguf", gguf_vocab(name)),
            "serving": side("llama.cpp", gguf_vocab(name)),
            "corpus": _inputs(tmp, name),
        }
    return settings_from_dict(data, tmp / "tokaudit.yaml")


def _marks(pair: str) -> list[Any]:
    return [needs_llama_cpp] if pair.startswith("gguf/") or pair.endswith("/llama.cpp") else []


@pytest.mark.parametrize("pair", [pytest.param(p, marks=_marks(p)) for p in AUDITED])
def test_each_pair_gives_exactly_its_audited_divergences(tmp_path: Path, pair: str) -> None:
    if _major() < 5:
        pytest.skip("audited under transformers 5's conversions")
    s = settings(pair, tmp_path)
    report = run_checks(s, load_sides(s), "diff", Options(workers=1))
    found = sorted([f.category, f.signature.partition(": ")[2]] for f in report.findings)
    assert found == sorted(AUDITED[pair])


def test_the_audited_set_has_a_real_divergence_of_every_category() -> None:
    from tokaudit.checks.diff.divergence import CATEGORIES

    seen = {category for rows in AUDITED.values() for category, _ in rows}
    # bos-eos, id-mapping, special-token, whitespace, segmentation come from real pairs; the rest from
    # constructed cases on real libraries (tests/checks/test_diff_categories.py, test_category_rules.py)
    assert seen == set(CATEGORIES) - CONSTRUCTED_ONLY


#: the categories no buildable pair produces: each has a real-library case in test_diff_categories.py
CONSTRUCTED_ONLY = {"truncation", "normalization", "unknown"}
