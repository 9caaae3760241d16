"""The code registry (tokaudit/codes.py) is the one source of finding codes: docs/codes.md documents exactly
its codes, each with an example, and no module outside it makes a Finding or spells a code as data."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT
from tokaudit.checks.diff.divergence import CATEGORIES
from tokaudit.codes import CODES, code_for, finding
from tokaudit.findings import Severity

DOCS = ROOT / "docs" / "codes.md"
PACKAGE = ROOT / "tokaudit"
CODE = re.compile(r"TA\d{3}")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
#: a registered category; None in the registry is documented as a list ("a / b") or a "(...)" note
PLAIN_CATEGORY = re.compile(r"[a-z][a-z-]*")


def _doc_rows() -> list[tuple[str, str, str, str]]:
    """(code, severity, category, meaning) of every row of the docs' code tables, `\\|` unescaped."""
    rows = []
    in_table = False
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("| code | severity | category | meaning |"):
            in_table = True
            continue
        if not in_table or not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if set(cells[0]) <= {"-", " "}:
            continue
        assert len(cells) == 4, line
        rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def _example_heads() -> dict[str, list[str]]:
    """The category of each example in the docs' fenced blocks, by code (`TA204 special-token  <where>`)."""
    heads: dict[str, list[str]] = {}
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", DOCS.read_text(encoding="utf-8"), re.S | re.M):
        for m in re.finditer(r"^(TA\d{3}) (\S+)  \S", block, re.M):
            heads.setdefault(m.group(1), []).append(m.group(2))
    return heads


def test_docs_document_exactly_the_registered_codes() -> None:
    rows = _doc_rows()
    documented = [r[0] for r in rows]
    assert len(documented) == len(set(documented)), "a code is documented twice"
    assert set(documented) == set(CODES), (
        f"only in docs: {sorted(set(documented) - set(CODES))}; only registered: {sorted(set(CODES) - set(documented))}"
    )
    for code, severity, category, meaning in rows:
        spec = CODES[code]
        assert spec.code == code
        assert severity == spec.severity.value, code
        assert meaning == spec.title, code
        if spec.category is None:  # the check classifies it; the docs say how
            assert not PLAIN_CATEGORY.fullmatch(category), code
        else:
            assert category == spec.category, code


def test_every_registered_code_has_an_example_with_its_category() -> None:
    heads = _example_heads()
    assert set(CODES) - set(heads) == set(), "codes without an example in docs/codes.md"
    assert set(heads) - set(CODES) == set(), "examples of codes nobody registered"
    categories = {c.category for c in CODES.values()} - {None}
    for code, shown in heads.items():
        spec = CODES[code]
        for category in shown:
            assert category == spec.category if spec.category else category in categories, (code, category)


def test_classifying_checks_map_their_categories_through_the_registry() -> None:
    assert [code_for(c, "TA1") for c in CATEGORIES] == [f"TA10{n}" for n in range(1, 9)]
    assert code_for("truncation", "TA4") == "TA404" and code_for("truncation", "TA1") == "TA103"
    with pytest.raises(ValueError, match="0 codes"):
        code_for("no-such-category", "TA1")


# --- finding() ---------------------------------------------------------------------------------------


def test_finding_takes_severity_category_and_hint_from_the_registry() -> None:
    f = finding("TA204", "'<|endoftext|>' moved", where="<|endoftext|>", detail={"token": "<|endoftext|>"})
    spec = CODES["TA204"]
    assert (f.severity, f.category, f.hint) == (spec.severity, spec.category, spec.hint)
    assert f.where == "<|endoftext|>" and f.sample is None and f.location == "<|endoftext|>"
    assert f.to_dict()["where"] == "<|endoftext|>" and f.to_dict()["sample"] is None
    assert finding("TA404", "cut", sample="a.jsonl:1").severity is Severity.WARNING


def test_finding_refuses_a_category_that_contradicts_the_registry() -> None:
    with pytest.raises(ValueError, match="TA204 is registered with category 'special-token', not 'vocab'"):
        finding("TA204", "m", where="x", category="vocab")
    assert finding("TA204", "m", where="x", category="special-token").category == "special-token"


def test_finding_needs_a_category_where_the_check_classifies() -> None:
    with pytest.raises(ValueError, match="TA110 needs a category"):
        finding("TA110", "m", sample="corpus.txt:1")
    assert finding("TA501", "m", sample="corpus.txt:1", category="whitespace").category == "whitespace"


def test_finding_refuses_an_unregistered_code() -> None:
    with pytest.raises(ValueError, match="'TA999' is not a registered finding code"):
        finding("TA999", "m")


def test_hint_placeholders_are_filled_exactly() -> None:
    f = finding("TA205", "m", where="<|im_end|>", fill={"other": "serving", "token": "'<|im_end|>'"})
    assert f.hint == "serving tokenizes '<|im_end|>' as ordinary text: add the token there with the same id, or drop it"
    with pytest.raises(ValueError, match="TA205's hint fills"):
        finding("TA205", "m", where="<|im_end|>")
    with pytest.raises(ValueError, match="TA204's hint fills"):
        finding("TA204", "m", where="x", fill={"other": "serving"})
    with pytest.raises(ValueError, match="not both"):
        finding("TA205", "m", where="x", hint="h", fill={"other": "a", "token": "b"})
    # braces that are not a {name} are hint text (a Jinja expression, a regex repeat)
    assert "{{ bos_token }}" in (finding("TA304", "m", sample="s", fill={"side": "training"}).hint or "")
    assert "\\p{N}{1,3}+" in (finding("TA215", "m", where="{n,m}+").hint or "")


# --- no code outside the registry --------------------------------------------------------------------


@dataclass
class Scan:
    """What the package does with codes, read from its syntax trees."""

    problems: list[str] = field(default_factory=list)
    #: codes named by a constant alias (`TEXT = "TA301"`), by name
    aliases: dict[str, str] = field(default_factory=dict)
    #: every code the package can make: finding() literals, aliases, and code_for() families
    reachable: set[str] = field(default_factory=set)
    #: (where, code or alias name, keys of fill= or None, whether a hint may be given) per finding() call
    calls: list[tuple[str, ast.expr, set[str] | None, bool]] = field(default_factory=list)


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _aliases(tree: ast.Module) -> dict[int, str]:
    """Constants of module-level `NAME = "TA..."` / `A, B = "TA...", "TA..."`, by node id -> alias name."""
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        pairs = (
            list(zip(target.elts, value.elts))
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts)
            else [(target, value)]
        )
        for t, v in pairs:
            if isinstance(t, ast.Name) and t.id.isupper() and isinstance(v, ast.Constant):
                out[id(v)] = t.id
    return out


def scan(sources: dict[str, str]) -> Scan:
    """Apply the rule to module sources (path -> text). A string that is a code (`TA` and three digits)
    may appear only as the first argument of a finding() call or as a module-level UPPER_CASE alias, and
    must be registered; a code inside other text only in a docstring; Finding(...) is never called."""
    found = Scan()
    for path, text in sources.items():
        tree = ast.parse(text, path)
        docs, aliases = _docstrings(tree), _aliases(tree)
        first_args = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name == "Finding":
                found.problems.append(f"{path}:{node.lineno}: Finding(...) outside tokaudit/codes.py")
            elif name == "finding" and node.args:
                first_args.add(id(node.args[0]))
                kw = {k.arg: k.value for k in node.keywords}
                fill = kw.get("fill")
                keys = None
                if isinstance(fill, ast.Dict):
                    keys = {k.value for k in fill.keys if isinstance(k, ast.Constant)}
                elif fill is not None:
                    keys = {"?"}
                # `**kwargs` may hold the hint: not checked here (finding() itself refuses a wrong fill)
                found.calls.append((f"{path}:{node.lineno}", node.args[0], keys, "hint" in kw or None in kw))
            elif name == "code_for" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant):
                family = node.args[1].value
                found.reachable |= {c for c, s in CODES.items() if c.startswith(family) and s.category is not None}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            where = f"{path}:{node.lineno}"
            if CODE.fullmatch(node.value):
                if node.value not in CODES:
                    found.problems.append(f"{where}: {node.value} is not registered in tokaudit/codes.py")
                elif id(node) in aliases:
                    found.aliases[aliases[id(node)]] = node.value
                    found.reachable.add(node.value)
                elif id(node) in first_args:
                    found.reachable.add(node.value)
                else:
                    found.problems.append(f"{where}: {node.value} outside a finding() call or a named alias")
            elif CODE.search(node.value) and id(node) not in docs:
                found.problems.append(f"{where}: a code inside text ({node.value[:40]!r}): put it in tokaudit/codes.py")
    for where, arg, keys, has_hint in found.calls:
        code = arg.value if isinstance(arg, ast.Constant) else found.aliases.get(_name(arg) or "")
        if code not in CODES or has_hint:
            continue  # a code chosen at run time (code_for, a parameter), or a hint of the check's own
        wanted = set(PLACEHOLDER.findall(CODES[code].hint or ""))
        if (keys or set()) != wanted:
            found.problems.append(f"{where}: {code} fills {sorted(keys or [])}, its hint needs {sorted(wanted)}")
    return found


def _package() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in sorted(PACKAGE.rglob("*.py"))
        if p != PACKAGE / "codes.py"
    }


def test_no_module_but_the_registry_makes_a_finding_or_spells_a_code() -> None:
    assert scan(_package()).problems == []


def test_every_registered_code_can_be_made() -> None:
    assert set(CODES) - scan(_package()).reachable == set(), "registered codes no check makes"


def test_the_rule_catches_what_it_is_for() -> None:
    bad = {
        "m.py": '''"""Docstrings may name TA101 and TA204."""
from tokaudit.findings import Finding
A, B = "TA301", "TA302"
lower = "TA303"
def f(code):
    """TA201 in a docstring is prose."""
    if code == "TA204":
        pass
    finding("TA205", "m", where="x")
    finding("TA999", "m")
    finding(A, f"see TA215 for {code}")
    return Finding("TA101", None, "m")
'''
    }
    found = scan(bad)
    assert found.aliases == {"A": "TA301", "B": "TA302"}
    assert set(found.problems) == {
        "m.py:4: TA303 outside a finding() call or a named alias",
        "m.py:7: TA204 outside a finding() call or a named alias",
        "m.py:9: TA205 fills [], its hint needs ['other', 'token']",
        "m.py:10: TA999 is not registered in tokaudit/codes.py",
        "m.py:11: a code inside text ('see TA215 for '): put it in tokaudit/codes.py",
        "m.py:12: Finding(...) outside tokaudit/codes.py",
        "m.py:12: TA101 outside a finding() call or a named alias",
    }
    assert len(found.problems) == 7
