"""The table and Markdown reports name a `python:` side's interpreter and its library versions."""

from __future__ import annotations

import io

from tokaudit.findings import Report
from tokaudit.report import markdown, table

SIDE = {
    "source": "hf",
    "path": "/m",
    "library": "transformers",
    "backend": "LlamaTokenizerFast",
    "special_text": "parse",
}
HEADER = {
    "tokaudit": "0.1.0",
    "config": None,
    "model": None,
    "sides": {
        "training": {
            **SIDE,
            "version": "4.57.6",
            "python": {"path": "/e/.venv-4x/bin/python", "version": "3.11.7", "packages": {"transformers": "4.57.6"}},
        },
        "serving": {**SIDE, "version": "5.25.0"},
    },
}


def test_the_table_and_markdown_headers_name_the_interpreter() -> None:
    report = Report(command="diff", findings=(), summary={}, header=HEADER)
    out = io.StringIO()
    table.render(report, out, color=False, width=200)
    assert "python: /e/.venv-4x/bin/python (Python 3.11.7; transformers 4.57.6)" in out.getvalue()
    assert out.getvalue().count("python: ") == 1  # the serving side runs here
    out = io.StringIO()
    markdown.render(report, out)
    assert "| training | hf | `LlamaTokenizerFast` | transformers 4.57.6 (python: `/e/.venv-4x/bin/python`) |" in (
        out.getvalue()
    )
