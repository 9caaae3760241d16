"""Checks and chat rendering never touch a library object: only tokaudit/sources/* holds one.

What a check needs beyond the Tokenizer protocol comes from a capability in tokaudit.sources.capabilities
(`isinstance(side, AssistantMasker)`), never from the handle a source keeps its library in
(`side.tok.apply_chat_template`, `tok.mt`, `tok.tf.__version__`). An ast walk of the package.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.sources.test_sources import REAL, TOKENIZERS
from tokaudit.config import SideSpec
from tokaudit.sources.sides import load_side

PACKAGE = ROOT / "tokaudit"
#: the attributes the sources keep their library objects in (test_the_list_names_every_library_handle holds
#: it to what the sources really set); `tok` is also what a check's own View / Pipeline calls its Tokenizer
TOK = "tok"
HANDLES = frozenset({"tf", "mt", "tk", "sp", "_sp", "enc", "_lib", "_backend", "_model", "_vocab", "vllm", "server"})
LIBRARIES = {"transformers", "tokenizers", "sentencepiece", "tiktoken", "mistral_common", "llama_cpp", "vllm"}
#: holder attributes whose value is a Tokenizer (Sides.training / .serving, View.reader, X.tok)
TOKENIZER_ATTRS = {TOK, "training", "serving", "reader"}
TOKENIZER_NAMES = {"tok", "tokenizer", "reader"}


def _checked_files() -> list[Path]:
    return sorted((PACKAGE / "checks").rglob("*.py")) + [PACKAGE / "chat.py"]


def _annotated_tokenizer(annotation: ast.expr | None) -> bool:
    return annotation is not None and "Tokenizer" in ast.unparse(annotation)


def _tokenizer_names(tree: ast.AST) -> set[str]:
    """Names that hold a Tokenizer somewhere in the module: annotated so, or bound from a `.tok` attribute."""
    names = set(TOKENIZER_NAMES)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and _annotated_tokenizer(node.annotation):
            names.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if _annotated_tokenizer(node.annotation):
                names.add(node.target.id)
        elif isinstance(node, ast.Assign) and _is_tokenizer_attr(node.value):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _is_tokenizer_attr(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in TOKENIZER_ATTRS


def reach_throughs(source: str, filename: str = "<snippet>") -> list[str]:
    """Every place `source` reaches into a library object, as `file:line: code`."""
    tree = ast.parse(source, filename)
    tokenizers = _tokenizer_names(tree)
    found = []
    for node in ast.walk(tree):
        bad = False
        if isinstance(node, ast.Attribute):
            if node.attr in HANDLES:
                bad = True
            elif node.attr == TOK:
                base = node.value
                bad = _is_tokenizer_attr(base) or (isinstance(base, ast.Name) and base.id in tokenizers)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"getattr", "hasattr", "setattr"} and len(node.args) >= 2:
                name = node.args[1]
                bad = isinstance(name, ast.Constant) and name.value in HANDLES | {TOK}
        if bad:
            found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)}")
    return found


def test_no_check_and_no_chat_rendering_touches_a_library_object() -> None:
    found = []
    for path in _checked_files():
        found += reach_throughs(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "def f(p):\n    return p.tok.tok.apply_chat_template([])",
        "def f(self):\n    return getattr(getattr(self.tok, 'tok', None), 'legacy', None)",
        "def f(sides):\n    return hasattr(getattr(sides.training, 'tok', None), 'apply_chat_template')",
        "def f(view):\n    tok = view.tok\n    return type(tok.tok).__name__",
        "def f(t):\n    return t.tf.__version__",
        "def f(tok):\n    return tok.mt",
        "def f(side: Tokenizer):\n    return side.tok",
        "def f(sides):\n    return sides.serving.tok",
        "def f(view):\n    return view.reader.sp.encode('x')",
    ],
)
def test_the_walk_catches_a_reach_through(snippet: str) -> None:
    assert reach_throughs(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "def f(view):\n    return view.tok.files_dir()",  # a View's Tokenizer, used through the protocol
        "def f(self):\n    return self.tok.encode_rendered('x', True)",
        "def f(p):\n    return isinstance(p.tok, AssistantMasker) and p.tok.assistant_mask([], '')",
        "def f(tok: Tokenizer):\n    return tok.specials()",
    ],
)
def test_the_walk_lets_a_tokenizer_held_by_a_check_through(snippet: str) -> None:
    assert reach_throughs(snippet) == []


def _library_attributes(obj: object) -> set[str]:
    out = set()
    for name, value in vars(obj).items():
        module = type(value).__module__.split(".")[0]
        if isinstance(value, types.ModuleType) or module in LIBRARIES:
            out.add(name)
    return out


@pytest.mark.parametrize("name", TOKENIZERS)  # a `dataset` side holds stored ids, no library object
def test_the_list_names_every_library_handle(name: str) -> None:
    """Every attribute a loaded source keeps a library object (or module) in is on the forbidden list."""
    tok = load_side(SideSpec(source=name, **REAL[name]))
    handles = _library_attributes(tok)
    assert handles, f"{name} keeps no library object: the walk above may be looking for the wrong names"
    assert handles <= HANDLES | {TOK}
