"""The `tokaudit` command line. Typer only: parse flags, load the config, run, render, exit."""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokaudit import __version__
from tokaudit.errors import TokauditError

if TYPE_CHECKING:
    from tokaudit.options import Options

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
    junit = "junit"
    github = "github"
    markdown = "markdown"
    html = "html"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


ConfigArg = Annotated[
    Path, typer.Argument(help="YAML config naming the model, the training and serving sides.", show_default=False)
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
ShowOpt = Annotated[int, typer.Option("--show", help="Findings shown in detail in the table (other formats: all).")]
FailOnOpt = Annotated[FailOn | None, typer.Option("--fail-on", help="Override the config's fail_on.")]
BaselineOpt = Annotated[
    Path | None, typer.Option("--baseline", help="Fail only on findings not recorded in this baseline FILE.")
]
WriteBaselineOpt = Annotated[
    Path | None, typer.Option("--write-baseline", help="Record today's findings in FILE and exit 0.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]


@dataclass
class Common:
    """Options every checking command takes."""

    fmt: Format = Format.table
    output: Path | None = None
    show: int = 20
    fail_on: FailOn | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    debug: bool = False
    options: Options | None = None


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


def write_text(text: str, output: Path | None, protect: Path) -> None:
    """The report to stdout, or to `output` (atomically; never over the config)."""
    if output is None:
        sys.stdout.write(text)
        return
    from tokaudit.output import write_file

    write_file(text, output, protect)
    typer.echo(f"wrote {output}", err=True)


def guarded(debug: bool):  # type: ignore[no-untyped-def]
    """Context: a TokauditError becomes one `error:` line on stderr and exit 2."""
    from contextlib import contextmanager

    @contextmanager
    def _guard():  # type: ignore[no-untyped-def]
        try:
            yield
        except TokauditError as exc:
            if debug:
                traceback.print_exc()
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return _guard()


def _run(command: str, config: Path, c: Common) -> None:
    """Build the request, let the runner carry it out, render the report, map it to an exit code."""
    import io

    from tokaudit.findings import Severity

    with guarded(c.debug):
        from tokaudit.report import FORMATTERS
        from tokaudit.runner import Request, run

        request = Request(command, config, c.options, baseline=c.baseline, write_baseline=c.write_baseline)
        outcome = run(request)
        for line in outcome.wrote:
            typer.echo(line, err=True)
        if not outcome.judged:
            raise typer.Exit(0)
        buf = io.StringIO()
        color = None if c.output is None and sys.stdout.isatty() else False
        FORMATTERS[c.fmt.value](outcome.report, buf, max_shown=c.show, color=color)
        write_text(buf.getvalue(), c.output, config)
    threshold = Severity(c.fail_on.value) if c.fail_on else outcome.settings.fail_on
    raise typer.Exit(1 if outcome.report.failed(threshold) else 0)


def _options(no_builtin: bool, against: Path | None) -> Options:
    from tokaudit.options import Options

    return Options(builtin=False if no_builtin else None, against=against)


@app.command(
    epilog="Examples:\n\n  tokaudit diff configs/mistral-7b.yaml\n\n"
    "  tokaudit diff configs/cl100k.yaml --format json -o diff.json\n\n"
    "  tokaudit diff configs/mistral-7b.yaml --no-builtin --show 5\n\n"
    "  tokaudit diff configs/mistral-7b.yaml --against tokaudit.lock.json"
)
def diff(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    no_builtin: Annotated[bool, typer.Option("--no-builtin", help="Skip the built-in edge-case corpus.")] = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="Compare with a lock file from `tokaudit snapshot`.")
    ] = None,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Encode every corpus sample with both sides and explain each divergence.

    Each differing sample gets a finding with the first divergence (character offset, the text
    around it with whitespace made visible, both sides' tokens), a root-cause category and a hint.
    """
    _run(
        "diff",
        config,
        Common(fmt, output, show, fail_on, baseline, write_baseline, debug, _options(no_builtin, against)),
    )


def _plain_command(name: str, summary: str, examples: list[str]) -> None:
    """Register a checker command that takes only the common options (vocab-, template-, mask-check)."""

    def command(
        config: ConfigArg,
        fmt: FormatOpt = Format.table,
        output: OutputOpt = None,
        show: ShowOpt = 20,
        fail_on: FailOnOpt = None,
        baseline: BaselineOpt = None,
        write_baseline: WriteBaselineOpt = None,
        debug: DebugOpt = False,
    ) -> None:
        _run(name, config, Common(fmt, output, show, fail_on, baseline, write_baseline, debug))

    command.__doc__ = summary
    epilog = "Examples:\n\n" + "\n\n".join(f"  {e}" for e in examples)
    app.command(name, epilog=epilog)(command)


_plain_command(
    "vocab-check",
    "Compare vocabularies, special tokens and model shape of both sides (no corpus needed).",
    ["tokaudit vocab-check configs/cl100k.yaml", "tokaudit vocab-check configs/minilm-fast-vs-slow.yaml --format json"],
)
_plain_command(
    "template-check",
    "Render each conversation with both sides' chat serialisation and compare text and tokens.",
    ["tokaudit template-check configs/mistral-instruct.yaml"],
)
_plain_command(
    "mask-check",
    "Check that the SFT loss mask covers exactly the assistant's tokens.",
    ["tokaudit mask-check configs/mask-fastchat.yaml"],
)


@app.command(
    epilog="Examples:\n\n  tokaudit check configs/mistral-7b.yaml --format junit -o tokaudit.xml\n\n"
    "  tokaudit check configs/mistral-7b.yaml --baseline tokaudit.baseline.json"
)
def check(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    no_builtin: Annotated[bool, typer.Option("--no-builtin", help="Skip the built-in edge-case corpus.")] = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="Diff against a lock file instead of side vs side.")
    ] = None,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Run every check the config has inputs for; one report, one exit code (the CI gate)."""
    _run(
        "check",
        config,
        Common(fmt, output, show, fail_on, baseline, write_baseline, debug, _options(no_builtin, against)),
    )


@app.command(
    epilog="Examples:\n\n  tokaudit snapshot configs/mistral-7b.yaml -o tokaudit.lock.json\n\n"
    "  pip install -U transformers && tokaudit diff configs/mistral-7b.yaml --against tokaudit.lock.json"
)
def snapshot(
    config: ConfigArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Lock file to write.")] = Path("tokaudit.lock.json"),
    no_builtin: Annotated[bool, typer.Option("--no-builtin", help="Skip the built-in edge-case corpus.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Record both sides' token ids for every sample, with library versions and backends.

    Commit the lock; `diff --against` (or `check --against`) in the job that bumps transformers
    fails if tokenization moved.
    """
    with guarded(debug):
        from tokaudit.runner import SNAPSHOT, Request, run

        outcome = run(Request(SNAPSHOT, config, _options(no_builtin, None), lock=output))
        for line in outcome.wrote:
            typer.echo(line, err=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
