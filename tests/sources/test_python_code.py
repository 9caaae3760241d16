"""`source: python`: the user's own tokenizer object, imported and called as their pipeline calls it.

The objects are real small modules in tests/pipelines/; the libraries under them are the real ones."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import tokenizers

from tests.conftest import CORPUS_TXT, MISTRAL_HF, write_config
from tokaudit.config import SideSpec, load_config
from tokaudit.corpus import BUILTIN_CASES
from tokaudit.errors import ConfigError, SourceError
from tokaudit.sources.python_code import UNAVAILABLE, PythonTokenizer
from tokaudit.sources.sides import load_side, load_sides

TEXTS = [line for line in CORPUS_TXT.read_text(encoding="utf-8").splitlines() if line] + list(BUILTIN_CASES.values())


def python_side(obj: str, **args: Any) -> PythonTokenizer:
    tok = load_side(SideSpec(source="python", object=obj, args=args or None))
    assert isinstance(tok, PythonTokenizer)
    return tok


def test_a_factory_is_called_with_args_and_encode_is_called_as_the_pipeline_calls_it() -> None:
    tok = python_side("tests.pipelines.faithful:build", path=str(MISTRAL_HF))
    lib = tokenizers.Tokenizer.from_file(str(MISTRAL_HF / "tokenizer.json"))
    assert tok.encode_all(TEXTS) == [lib.encode(t).ids for t in TEXTS]
    # evidence from the object's own methods: its pieces, their bytes under the vocabulary's spelling
    hello = lib.encode("Hello world", add_special_tokens=False).ids
    assert [tok.piece(i) for i in hello] == ["▁Hello", "▁world"]
    assert [tok.surface(i) for i in hello] == [b" Hello", b" world"]
    d = tok.describe()
    assert d["source"] == "python" and d["path"] == "tests.pipelines.faithful:build" and d["backend"] == "Faithful"
    assert d["args"] == {"path": str(MISTRAL_HF)} and d["version"].startswith("sha256:")
    assert d["evidence"]["pieces"] == "id_to_token" and d["evidence"]["bytes"] == "id_to_token (metaspace pieces)"


def test_an_attribute_with_encode_is_the_tokenizer_and_a_class_is_a_factory() -> None:
    tok = python_side("tests.pipelines.broken:raises_on_tabs")
    assert tok.encode_all(["ab"]) == [[97, 98]]
    cls = python_side("tests.pipelines.compat:CompatTokenizer", path=str(MISTRAL_HF))
    assert cls.backend() == "CompatTokenizer"
    with pytest.raises(SourceError, match="has `encode`, so it is the tokenizer and takes no `args`") as exc:
        python_side("tests.pipelines.broken:raises_on_tabs", path="x")
    assert exc.value.key == "args"


def test_encode_batch_is_used_when_the_object_has_it() -> None:
    tok = python_side("tests.pipelines.batching:build")
    tok.tok.calls.clear()
    batched = tok.encode_all(TEXTS)
    assert tok.tok.calls == [("encode_batch", len(TEXTS))]
    assert batched == [tok.encode_all([t])[0] for t in TEXTS]  # one at a time: encode(text)
    assert ("encode", 1) in tok.tok.calls


def test_hf_style_evidence_specials_and_roles() -> None:
    tok = python_side("tests.pipelines.compat:build", path=str(MISTRAL_HF))
    specials = tok.specials()
    assert specials["<s>"] == 1 and specials["<|assistant|>"] == 32001 and specials["<pad>"] == 32000
    assert (tok.bos_id, tok.eos_id, tok.pad_id) == (1, 2, 32000)
    assert tok.roles()["pad"] == ("<pad>", 32000)
    assert tok.surface(32001) == b"<|assistant|>" and tok.piece(1) == "<s>"
    assert tok.describe()["evidence"]["pieces"] == "convert_ids_to_tokens"
    assert tok.chat_templates() == {}  # the fixture's tokenizer ships none


def test_a_sample_encode_refuses_is_that_sample_s_error_not_a_crash() -> None:
    tok = python_side("tests.pipelines.broken:raises_on_tabs")
    out = tok.encode_all(["fine", "a\tb", "also fine"])
    assert out[0] == [102, 105, 110, 101] and out[2] == [ord(c) for c in "also fine"]
    assert out[1] == "ValueError: tabs are not supported"
    # only decode: pieces and bytes come from decode([id])
    assert tok.piece(104) == "h" and tok.surface(104) == b"h"
    assert tok.describe()["evidence"]["bytes"] == "decode([id])"


def test_an_object_with_no_evidence_methods_shows_ids_and_says_pieces_are_unavailable() -> None:
    tok = python_side("tests.pipelines.broken:only_ids")
    assert tok.encode_all(["ab"]) == [[97, 98]]
    assert tok.piece(97) == UNAVAILABLE and tok.surface(97) is None
    evidence = tok.describe()["evidence"]
    assert evidence["methods"] == [] and evidence["pieces"] is None and "pieces are unavailable" in evidence["note"]
    with pytest.raises(SourceError, match="lists no vocabulary"):
        tok.vocab_bytes()


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ("tests.pipelines.no_such_module:build", r"cannot import 'tests\.pipelines\.no_such_module' \(ModuleNotFound"),
        ("tests.pipelines.faithful:no_such_factory", "module 'tests.pipelines.faithful' has no attribute"),
        ("tests.pipelines.broken:factory_raises", r"calling it raised FileNotFoundError: no tokenizer at ''"),
        ("tests.pipelines.broken:no_encode", "returned a NoEncode, which has no `encode` method"),
        ("tests.pipelines.broken:strings", r"encode\('Hello world'\) returned list \['Hello', 'world'\]; expected"),
        ("tests.pipelines.prompts:NOT_A_FUNCTION", "a str, neither a tokenizer"),
    ],
)
def test_an_object_that_cannot_be_used_is_a_source_error_naming_it(obj: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as exc:
        python_side(obj)
    assert exc.value.key == "object" and str(exc.value).startswith(f"{obj}: ")
    assert "\n" not in str(exc.value)


# -- config ----------------------------------------------------------------------------------------
def _config(tmp_path: Path, training: dict[str, Any], serving: dict[str, Any] | None = None) -> Path:
    return write_config(
        tmp_path, {"training": training, "serving": serving or {"source": "hf", "path": str(MISTRAL_HF)}}
    )


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"source": "python"}, "training.object: `source: python` needs `object` (module:attribute)"),
        ({"source": "python", "object": "my_pipeline.build"}, "training.object: expected `module:attribute`"),
        ({"source": "python", "object": "a:b", "add_bos": True}, "training.add_bos: not used by `source: python`"),
        ({"source": "python", "object": "a:b", "special_text": "parse"}, "training.special_text: not used"),
        ({"source": "python", "object": "a:b", "path": "."}, "training.path: not used by `source: python`"),
        ({"source": "hf", "path": str(MISTRAL_HF), "object": "a:b"}, "training.object: only a `source: python`"),
        ({"source": "hf", "path": str(MISTRAL_HF), "args": {"x": 1}}, "training.args: only a `source: python`"),
        (
            {"source": "hf", "path": str(MISTRAL_HF), "chat_format": "a:b", "chat_template": "tokenizer"},
            "training.chat_format: set `chat_template` or `chat_format`, not both",
        ),
        ({"source": "hf", "path": str(MISTRAL_HF), "chat_format": "a.b"}, "training.chat_format: expected `module:"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, training: dict[str, Any], message: str) -> None:
    path = _config(tmp_path, training)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value).startswith(f"{path}: {message}")


def test_the_config_folder_is_first_on_sys_path_for_the_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    package = tmp_path / "my_pipeline_beside_config"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "tokenizer.py").write_text(
        "from tests.pipelines.faithful import Faithful\n\ndef build(path):\n    return Faithful(path)\n",
        encoding="utf-8",
    )
    training = {
        "source": "python",
        "object": "my_pipeline_beside_config.tokenizer:build",
        "args": {"path": str(MISTRAL_HF)},
    }
    settings = load_config(_config(tmp_path, training))
    assert settings.training.config_dir == tmp_path.resolve() and settings.serving.config_dir == tmp_path.resolve()
    sides = load_sides(settings)
    assert sys.path[0] == str(tmp_path.resolve())
    assert sides.training.encode_all(["Hello world"]) == sides.serving.encode_all(["Hello world"])
