"""The `tokaudit` command line. Typer only: parse flags, load the config, run, render, exit."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tokaudit import __version__
from tokaudit.errors import TokauditError

app = typer.Typer(
    name="tokaudit",
    help="Catch training-serving tokenizer skew before it silently costs a training run.\n\n"
    "Exit codes: 0 clean, 1 findings at or above `fail_on`, 2 usage, config or input error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, Enum):
    """Mirrors tokaudit.report.FORMATTERS (a test keeps them equal; importing it here costs rich)."""

    table = "table"
    json = "json"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


ConfigArg = Annotated[
    Path,
    typer.Argument(help="YAML config naming the model, the training and serving sides.", show_default=False),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
ShowOpt = Annotated[
    int, typer.Option("--show", help="Findings shown in detail in the table (json shows all).")
]
FailOnOpt = Annotated[FailOn | None, typer.Option("--fail-on", help="Override the config's fail_on.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tokaudit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """tokaudit: training-serving tokenizer skew audit."""


def _write(text: str, output: Path | None, config: Path) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists() and output.resolve() == config.resolve():
        raise TokauditError(f"{output}: refusing to overwrite the config file with the report")
    # Write beside the target and rename, so a failed run never leaves half a report.
    fd, tmp = tempfile.mkstemp(dir=output.parent if str(output.parent) else ".", prefix=".tokaudit-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, output)
    typer.echo(f"wrote {output}", err=True)


def _run(
    command: str,
    config: Path,
    fmt: Format,
    output: Path | None,
    show: int,
    fail_on: FailOn | None,
    debug: bool,
    options: dict[str, object],
) -> None:
    import io

    from tokaudit.config import load_config
    from tokaudit.findings import Severity

    try:
        settings = load_config(config)
        from tokaudit.report import FORMATTERS
        from tokaudit.runner import run

        report = run(settings, command, options)
        buf = io.StringIO()
        color = None if output is None and sys.stdout.isatty() else False
        FORMATTERS[fmt.value](report, buf, max_shown=show, color=color)
        _write(buf.getvalue(), output, config)
    except TokauditError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    threshold = Severity(fail_on.value) if fail_on else settings.fail_on
    raise typer.Exit(1 if report.failed(threshold) else 0)


@app.command(
    epilog="Examples:\n\n  tokaudit diff configs/mistral-7b.yaml\n\n"
    "  tokaudit diff configs/cl100k.yaml --format json -o diff.json\n\n"
    "  tokaudit diff configs/mistral-7b.yaml --no-builtin --show 5"
)
def diff(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    no_builtin: Annotated[
        bool, typer.Option("--no-builtin", help="Skip the built-in edge-case corpus.")
    ] = False,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Encode every corpus sample with both sides and explain each divergence.

    Each differing sample gets a finding with the first divergence (character offset, the text
    around it with whitespace made visible, both sides' tokens), a root-cause category and a hint.
    """
    options: dict[str, object] = {"builtin": False} if no_builtin else {}
    _run("diff", config, fmt, output, show, fail_on, debug, options)


@app.command(
    "vocab-check",
    epilog="Examples:\n\n  tokaudit vocab-check configs/cl100k.yaml\n\n"
    "  tokaudit vocab-check configs/minilm-fast-vs-slow.yaml --format json",
)
def vocab_check(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Compare vocabularies, special tokens and model shape of both sides (no corpus needed)."""
    _run("vocab-check", config, fmt, output, show, fail_on, debug, {})


@app.command("template-check", epilog="Examples:\n\n  tokaudit template-check configs/mistral-instruct.yaml")
def template_check(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Render each conversation with both sides' chat serialisation and compare text and tokens."""
    _run("template-check", config, fmt, output, show, fail_on, debug, {})


@app.command("mask-check", epilog="Examples:\n\n  tokaudit mask-check configs/mask-fastchat.yaml")
def mask_check(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check that the SFT loss mask covers exactly the assistant's tokens."""
    _run("mask-check", config, fmt, output, show, fail_on, debug, {})


def main() -> None:
    app()


if __name__ == "__main__":
    main()
