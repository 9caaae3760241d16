"""The table opens with the distinct problems, one line each (count, first location, the tokens where
the sides part), before the detail panels; the panels show the counts too."""

from __future__ import annotations

import io

from rich.cells import cell_len

from tokaudit.findings import Finding, Report, Severity, SideTokens, TokenView
from tokaudit.report import FORMATTERS
from tokaudit.report.problems import differing_tokens, seen


def _side(*tokens: tuple[int, str]) -> SideTokens:
    return SideTokens(tokens=[TokenView(id=i, piece=t.replace("␣", "▁"), text=t) for i, t in tokens], length=20)


SPECIAL = Finding(
    "TA101",
    Severity.ERROR,
    "'<s>' in the text is a control token on serving (id 1) but plain text on training",
    sample="mixed.txt:12",
    category="special-token",
    count=1234,
    samples=("mixed.txt:12", "a.jsonl:3", "b.txt:9"),
    detail={
        "token_index": 3,
        "training": _side((2188, "␣user"), (4677, "␣wrote"), (523, "␣<"), (28713, "s"), (28767, ">"), (297, "␣in")),
        "serving": _side((2188, "␣user"), (4677, "␣wrote"), (28705, "␣"), (1, "<s>"), (297, "␣in")),
    },
)
LEADING = Finding(
    "TA106",
    Severity.ERROR,
    "whitespace is tokenized differently at character 0: training [␣] vs serving []",
    sample="builtin:leading-space",
    category="whitespace",
    count=2,
    samples=("builtin:leading-space", "builtin:special <s>"),
    detail={
        "token_index": 0,
        "training": _side((28705, "␣"), (5374, "␣leading")),
        "serving": _side((5374, "␣leading"), (2764, "␣space")),
    },
)
ROUND_TRIP = Finding(
    "TA214",
    Severity.WARNING,
    "1 ids decode to other text on training and serving (first: id 35 decodes to '␣' vs '')",
    category="round-trip",
    where="id 35",
)
REPORT = Report("check", (ROUND_TRIP, LEADING, SPECIAL))  # sorted: errors first, then by code


def _render(report: Report = REPORT, **kwargs: object) -> list[str]:
    buf = io.StringIO()
    FORMATTERS["table"](report, buf, color=False, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue().splitlines()


def test_the_distinct_problems_come_first_one_line_each() -> None:
    lines = [line.rstrip() for line in _render()]
    start = lines.index("3 distinct problems")
    assert lines[start : start + 5] == [
        "3 distinct problems",
        "#  code   category       count  first seen             where they part: training ≠ serving",
        "1  TA101  special-token  1,234  mixed.txt:12           ␣< s > ≠ ␣ <s>",
        "2  TA106  whitespace         2  builtin:leading-space  ␣ ≠ ∅",
        "3  TA214  round-trip         1  id 35                  "
        "1 ids decode to other text on training and serving (first: id 35…",
    ]
    assert lines[start + 5].startswith("╭─ #1 TA101 special-token  mixed.txt:12 ")  # then the details


def test_the_detail_panels_show_the_count_and_the_first_samples() -> None:
    body = [line.strip("│ ").rstrip(" │") for line in _render()]
    assert "× 1,234 samples, first: mixed.txt:12, also: a.jsonl:3, b.txt:9, … (1,231 more)" in body
    assert "× 2 samples, first: builtin:leading-space, also: builtin:special <s>" in body
    assert seen(ROUND_TRIP) is None  # not about samples: no count line
    assert seen(Finding("TA106", Severity.ERROR, "m", sample="c.txt:4")) == "× 1 sample: c.txt:4"


def test_lines_fit_the_terminal_width() -> None:
    lines = _render(width=60)
    assert all(cell_len(line) <= 60 for line in lines), [line for line in lines if cell_len(line) > 60]
    row = next(line for line in lines if line.startswith("1  TA101"))
    assert row.startswith("1  TA101  special-token  1,234  mixed.txt:12") and row.endswith("…")


def test_show_limits_the_panels_not_the_list() -> None:
    lines = _render(max_shown=1)
    assert sum(line.startswith("╭─ #") for line in lines) == 1
    assert any(line.startswith("3  TA214") for line in lines)
    assert "… 2 more findings, listed above: --show N for their details (or --format json)" in lines


def test_differing_tokens_run_to_where_the_sides_agree_again() -> None:
    assert differing_tokens(SPECIAL) == {
        "training": SPECIAL.detail["training"]["tokens"][2:5],
        "serving": SPECIAL.detail["serving"]["tokens"][2:4],
    }
    assert differing_tokens(LEADING) == {"training": LEADING.detail["training"]["tokens"][:1], "serving": []}
    assert differing_tokens(ROUND_TRIP) is None


def test_25_distinct_problems_fit_one_screen_before_the_details() -> None:
    many = tuple(
        Finding("TA106", Severity.ERROR, f"problem {k}", sample=f"corpus.txt:{k}", category="whitespace", count=k + 1)
        for k in range(25)
    )
    lines = _render(Report("diff", many))
    first_panel = next(k for k, line in enumerate(lines) if line.startswith("╭─ #1 "))
    assert first_panel <= 30  # the command line, 25 problems and their header: one 40-line screen
    assert lines[first_panel - 1].startswith("25  TA106  whitespace     25  corpus.txt:24")


def test_every_formatter_takes_the_terminal_width() -> None:
    for name, render in FORMATTERS.items():
        buf = io.StringIO()
        render(REPORT, buf, color=False, width=80)
        assert "TA101" in buf.getvalue(), name
