"""Fuzzed configs: any YAML shape, any types, known and unknown keys. Every one is a valid Settings or one
ConfigError line that starts with the file's path; through the CLI, a report or one `error:` line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS_TXT, FIXTURES, MINILM
from tests.fuzz.conftest import budget, cli, no_hang
from tokaudit.config import load_config, settings_from_dict
from tokaudit.errors import ConfigError
from tokaudit.sources.registry import SOURCES

#: path-like strings: real fixtures, relative and absolute misses, hub-id look-alikes, control characters,
#: names longer than the file system allows, special files
PATHS = st.sampled_from(
    [
        str(MINILM),
        str(MINILM / "tokenizer.json"),
        str(CORPUS_TXT),
        str(FIXTURES / "templates" / "chatml.jinja"),
        str(FIXTURES / "gguf"),
        ".",
        "",
        " ",
        "missing.txt",
        "org/model",
        "./org/model",
        "a\x00b",
        "a\nb",
        "a\rb\x85c\u2028d",
        "x" * 300,
        "org/" + "y" * 300,
        "/" + "z/" * 3000,
        "~nobody-here/x",
        "/dev/null",
    ]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), PATHS, st.dates(), st.binary(max_size=8)
)
KEYS = st.text(max_size=6) | st.integers() | st.booleans() | st.none()
ANY = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3), max_leaves=8
)
REFS = st.sampled_from(["mod:attr", "a.b:c", "no-colon", ":", "x:"]) | ANY


def _side() -> st.SearchStrategy[Any]:
    # every key a side has (SideSpec's own fields, so a key added later is fuzzed too), plus one it has not
    from tokaudit.config import SideSpec

    keys: dict[str, st.SearchStrategy[Any]] = {k: ANY for k in [*SideSpec.model_fields, "unknown"] if k != "source"}
    keys.update(path=PATHS | ANY, chat_template=PATHS | st.sampled_from(["tokenizer", "mistral-common"]), object=REFS)
    keys["chat_format"] = REFS
    source = st.sampled_from([*SOURCES, "sentencepeice"]) | ANY
    return st.fixed_dictionaries({"source": source}, optional=keys) | ANY


CONFIGS = st.fixed_dictionaries(
    {"training": _side(), "serving": _side()},
    optional={
        "model": st.fixed_dictionaries(
            {"name": SCALARS}, optional={"revision": SCALARS, "vocab_size": SCALARS, "config": PATHS}
        )
        | ANY,
        "corpus": st.lists(PATHS | st.fixed_dictionaries({"path": PATHS}, optional={"field": ANY, "limit": SCALARS}))
        | ANY,
        "builtin_corpus": ANY,
        "conversations": PATHS | ANY,
        "mask": st.fixed_dictionaries(
            {"strategy": st.sampled_from(["fastchat", "per-turn", "prefix", "generation", "dataset"]) | ANY},
            optional={"dataset": PATHS, "max_length": SCALARS, "train_on": ANY},
        )
        | ANY,
        "load_check": st.fixed_dictionaries({}, optional={"threads": SCALARS, "processes": SCALARS}) | ANY,
        "fail_on": st.sampled_from(["error", "warning", "info"]) | ANY,
        "ignore": ANY,
        "unknown_key": ANY,
    },
)
#: YAML text that is not what safe_dump writes: tags, anchors, tabs, duplicate keys, documents, junk
RAW_YAML = st.lists(
    st.sampled_from(
        [
            "training:",
            "  source: hf",
            f"  path: {MINILM}",
            "serving: &s {source: hf}",
            "serving: *s",
            "training: *missing",
            "!!python/object:os.system {}",
            "? [a, b]\n: 1",
            "\tsource: hf",
            "---",
            "...",
            "corpus: [",
            "fail_on: !!binary aGVsbG8=",
            "ignore: !!set {TA101}",
            "model: {name: x, name: y}",
            "{",
            "- a",
            "\x00",
            "\ufeff",
            "key: \udcff",
            "x: " + "[" * 200,
        ]
    )
    | st.text(max_size=20),
    max_size=8,
).map("\n".join)


def _write(tmp_path: Path, raw: Any) -> Path | None:
    path = tmp_path / "tokaudit.yaml"
    try:
        text = raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False)
    except yaml.YAMLError:
        return None  # not expressible as YAML (a key PyYAML cannot represent)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


def _load(path: Path) -> None:
    with no_hang():
        try:
            load_config(path)
        except ConfigError as exc:
            message = str(exc)
            assert len(message.splitlines()) == 1, message
            assert message.startswith(f"{path}: "), message


@settings(max_examples=budget(300))
@given(raw=CONFIGS)
@example(raw={"training": {"source": "hf", "path": "x" * 300}, "serving": {"source": "hf", "path": str(MINILM)}})
@example(raw={"training": {"source": "hf", "path": "a\nb"}, "serving": {"source": "hf", "path": str(MINILM)}})
def test_any_config_is_settings_or_one_config_error(tmp_path: Path, raw: Any) -> None:
    path = _write(tmp_path, raw)
    if path is not None:
        _load(path)
    # tokaudit.audit(dict): the same validation without YAML in between (bytes, dates, int keys as they are)
    where = tmp_path / "<dict>"
    with no_hang():
        try:
            settings_from_dict(raw, where)
        except ConfigError as exc:
            assert len(str(exc).splitlines()) == 1 and str(exc).startswith(f"{where}: "), str(exc)


@settings(max_examples=budget(150))
@given(text=RAW_YAML)
def test_any_yaml_text_is_settings_or_one_config_error(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    assert path is not None
    _load(path)


@settings(max_examples=budget(30))
@given(raw=CONFIGS)
def test_any_config_through_the_cli_is_a_report_or_one_error_line(tmp_path: Path, raw: Any) -> None:
    path = _write(tmp_path, raw)
    if path is not None:
        cli("diff", path, "--no-builtin")
