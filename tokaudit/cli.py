"""The `tokaudit` command line. Typer only: parse flags into a Request, run it, render, exit."""

from __future__ import annotations

import functools
import shutil
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from tokaudit.errors import TokauditError
from tokaudit.options import Options
from tokaudit.version import __version__

app = typer.Typer(
    name="tokaudit",
    help="Catch training-serving tokenizer skew before it silently costs a training run.\n\n"
    "Exit codes: 0 clean, 1 findings at or above `fail_on`, 2 usage, config or input error or a fault,"
    " 130 interrupted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _Command(typer.core.TyperCommand):
    """Usage lines as people write them: `tokaudit diff [OPTIONS] CONFIG` (Typer brackets required
    arguments as `{CONFIG}`, which reads like a literal to type)."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [piece.strip("{}") for piece in super().collect_usage_pieces(ctx)]


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


class Engine(str, Enum):
    local = "local"
    ray = "ray"


ConfigArg = Annotated[
    Path,
    typer.Argument(
        metavar="CONFIG", help="YAML config naming the model, the training and serving sides.", show_default=False
    ),
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
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and third-party log output.")]
NoBuiltinOpt = Annotated[bool, typer.Option("--no-builtin", help="Skip the built-in edge-case corpus.")]
ExamplesOpt = Annotated[int, typer.Option("--examples", min=1, help="Example locations kept per distinct finding.")]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", "-j", min=1, help="Worker processes (default: one per CPU, past 1 MiB of input)."),
]
EngineOpt = Annotated[
    Engine, typer.Option("--engine", help="local: processes here; ray: a Ray Data job (RAY_ADDRESS for a cluster).")
]
SampleOpt = Annotated[
    int | None, typer.Option("--sample", min=1, help="Check a reproducible random sample of N samples.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for --sample.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@dataclass
class Common:
    """How to render and judge a run (the request itself is built from the rest)."""

    fmt: Format = Format.table
    output: Path | None = None
    show: int = 20
    fail_on: FailOn | None = None
    baseline: Path | None = None
    write_baseline: Path | None = None
    debug: bool = False
    quiet: bool = False


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


def _examples(*lines: str) -> str:
    # "\b" keeps click from re-wrapping the paragraph, so no example breaks mid-command
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def write_text(text: str, output: Path | None, protect: Path) -> None:
    """The report to stdout, or to `output` (atomically; never over the config)."""
    if output is None:
        sys.stdout.write(text)
        return
    from tokaudit.output import write_file

    write_file(text, output, protect)
    typer.echo(f"wrote {output}", err=True)


@contextmanager
def guarded(debug: bool) -> Iterator[None]:
    """A TokauditError becomes one `error:` line on stderr and exit 2; Ctrl-C (SIGINT) one line and 130,
    the shell's code for it. Files are written whole or not at all (tokaudit.output), so an interrupted
    run leaves an existing report, baseline or lock as it was."""
    try:
        yield
    except TokauditError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        typer.echo("error: interrupted", err=True)
        raise typer.Exit(130) from None


def _progress(quiet: bool) -> object | None:
    """A progress bar on stderr, only when stderr is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    from tokaudit.report.progress import Bar

    return Bar()


def _run(command: str, config: Path, c: Common, options: Options, **request: Any) -> None:
    """Build the request, let the runner carry it out, render the report, map it to an exit code.

    `request`: the Request fields only one command has (bump's --python / --with)."""
    import dataclasses
    import io

    from tokaudit.findings import Severity

    with guarded(c.debug):
        from tokaudit.report import FORMATTERS
        from tokaudit.runner import Request, run

        options = dataclasses.replace(options, debug=c.debug, progress=_progress(c.quiet))  # type: ignore[arg-type]
        outcome = run(
            Request(command, config, options, baseline=c.baseline, write_baseline=c.write_baseline, **request)
        )
        for line in outcome.wrote:
            typer.echo(line, err=True)
        if not outcome.judged:
            raise typer.Exit(0)
        buf = io.StringIO()
        terminal = c.output is None and sys.stdout.isatty()
        color = None if terminal else False
        width = shutil.get_terminal_size().columns if terminal else None
        FORMATTERS[c.fmt.value](outcome.report, buf, max_shown=c.show, color=color, width=width)
        write_text(buf.getvalue(), c.output, config)
    threshold = Severity(c.fail_on.value) if c.fail_on else outcome.settings.fail_on
    raise typer.Exit(1 if outcome.report.failed(threshold) else 0)


def _streaming(
    no_builtin: bool,
    against: Path | None,
    examples: int,
    workers: int | None,
    engine: Engine,
    sample: int | None,
    seed: int,
) -> Options:
    return Options(
        builtin=False if no_builtin else None,
        against=against,
        examples=examples,
        workers=workers,
        engine=engine.value,
        sample=sample,
        seed=seed,
    )


@app.command(
    cls=_Command,
    epilog=_examples(
        "tokaudit diff configs/mistral-7b.yaml",
        "tokaudit diff configs/cl100k.yaml --format json -o diff.json",
        "tokaudit diff configs/mistral-7b.yaml --no-builtin --workers 8 --examples 3",
        "tokaudit diff configs/mistral-7b.yaml --sample 10000 --seed 1",
        "RAY_ADDRESS=ray://head:10001 tokaudit diff configs/mistral-7b.yaml --engine ray",
        "tokaudit diff configs/mistral-7b.yaml --against tokaudit.lock.json",
    ),
)
def diff(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    no_builtin: NoBuiltinOpt = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="Compare with a lock file from `tokaudit snapshot`.")
    ] = None,
    examples: ExamplesOpt = 5,
    workers: WorkersOpt = None,
    engine: EngineOpt = Engine.local,
    sample: SampleOpt = None,
    seed: SeedOpt = 0,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Encode every corpus sample with both sides; report each distinct divergence once.

    Differing samples are grouped by the shape of their first divergence: each finding has the
    exact count of samples, the first few locations, and the evidence of its first example (the
    text around it with whitespace made visible, both sides' tokens), a root-cause category and
    a hint. Corpora stream in shards through --workers processes (or Ray), in bounded memory.
    """
    options = _streaming(no_builtin, against, examples, workers, engine, sample, seed)
    _run("diff", config, Common(fmt, output, show, fail_on, baseline, write_baseline, debug, quiet), options)


@app.command(
    "rollout-check",
    cls=_Command,
    epilog=_examples(
        "tokaudit rollout-check configs/rollouts-qwen3.yaml",
        "tokaudit rollout-check configs/rollouts-qwen3.yaml --workers 8 --format json -o rollouts.json",
        "tokaudit rollout-check configs/rollouts-qwen3.yaml --sample 10000 --seed 1",
    ),
)
def rollout_check(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    examples: ExamplesOpt = 5,
    workers: WorkersOpt = None,
    engine: EngineOpt = Engine.local,
    sample: SampleOpt = None,
    seed: SeedOpt = 0,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Audit a rollout dump: what the engine sampled against what the trainer trains on.

    Per trajectory: each completion's decode -> encode round trip, append-only turns, the trainer's
    re-rendering of `messages` against the engine's ids, and the trainer's row (loss mask, stop token,
    logprobs, id range). One finding per distinct cause, with exact counts and shares.
    """
    options = _streaming(True, None, examples, workers, engine, sample, seed)
    common = Common(fmt, output, show, fail_on, baseline, write_baseline, debug, quiet)
    _run("rollout-check", config, common, options)


def _plain_command(name: str, summary: str, examples: list[str], grouped: bool = False) -> None:
    """Register a checker command that takes the common options (vocab-, template-, mask-check), and
    `--examples` where the check groups its findings (template-, mask-check)."""

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
        _run(name, config, Common(fmt, output, show, fail_on, baseline, write_baseline, debug), Options())

    def grouped_command(
        config: ConfigArg,
        fmt: FormatOpt = Format.table,
        output: OutputOpt = None,
        show: ShowOpt = 20,
        fail_on: FailOnOpt = None,
        baseline: BaselineOpt = None,
        write_baseline: WriteBaselineOpt = None,
        examples: ExamplesOpt = 5,
        debug: DebugOpt = False,
    ) -> None:
        options = Options(examples=examples)
        _run(name, config, Common(fmt, output, show, fail_on, baseline, write_baseline, debug), options)

    chosen = grouped_command if grouped else command
    chosen.__doc__ = summary
    app.command(name, cls=_Command, epilog=_examples(*examples))(chosen)


_plain_command(
    "vocab-check",
    "Compare vocabularies, special tokens and model shape of both sides (no corpus needed).",
    ["tokaudit vocab-check configs/cl100k.yaml", "tokaudit vocab-check configs/minilm-fast-vs-slow.yaml --format json"],
)
_plain_command(
    "template-check",
    "Render each conversation with both sides' chat serialisation and compare text and tokens.",
    [
        "tokaudit template-check configs/mistral-instruct.yaml",
        "tokaudit template-check configs/mistral-instruct.yaml --examples 10",
    ],
    grouped=True,
)
_plain_command(
    "mask-check",
    "Check that the SFT loss mask covers exactly the assistant's tokens.",
    ["tokaudit mask-check configs/mask-fastchat.yaml"],
    grouped=True,
)


@app.command(
    "load-check",
    cls=_Command,
    epilog=_examples(
        "tokaudit load-check configs/mistral-7b.yaml",
        "tokaudit load-check configs/minilm-fast-vs-slow.yaml --threads 16 --processes 4",
        "tokaudit load-check configs/mistral-7b.yaml --processes 0 --format json -o loads.json",
    ),
)
def load_check(
    config: ConfigArg,
    threads: Annotated[
        int | None,
        typer.Option("--threads", min=0, help="Loads at once in threads (default: load_check.threads, else 4)."),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes", min=0, help="Loads at once in new processes (default: load_check.processes, else 2)."
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Load each `hf` side many times at once, fresh, and check every load got the same tokenizer.

    Each load starts from its own copy of the files and an empty HF cache; every one must resolve
    to the class and backend of the audit's own load, not fall back to the Python backend, not
    raise, and give the same ids on the built-in corpus.
    """
    options = Options(threads=threads, processes=processes)
    _run("load-check", config, Common(fmt, output, show, fail_on, baseline, write_baseline, debug), options)


@app.command(
    cls=_Command,
    epilog=_examples(
        "tokaudit check configs/mistral-7b.yaml --format junit -o tokaudit.xml",
        "tokaudit check configs/mistral-7b.yaml --baseline tokaudit.baseline.json",
        "tokaudit check configs/mistral-7b.yaml --sample 20000 --seed 7 --format markdown",
    ),
)
def check(
    config: ConfigArg,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    no_builtin: NoBuiltinOpt = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="Diff against a lock file instead of side vs side.")
    ] = None,
    examples: ExamplesOpt = 5,
    workers: WorkersOpt = None,
    engine: EngineOpt = Engine.local,
    sample: SampleOpt = None,
    seed: SeedOpt = 0,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run every check the config has inputs for; one report, one exit code (the CI gate)."""
    options = _streaming(no_builtin, against, examples, workers, engine, sample, seed)
    _run("check", config, Common(fmt, output, show, fail_on, baseline, write_baseline, debug, quiet), options)


class Server(str, Enum):
    """Mirrors tokaudit.init.choose.SERVERS (a test keeps them equal)."""

    hf = "hf"
    vllm = "vllm"
    llama_cpp = "llama.cpp"
    gguf = "gguf"


@app.command(
    "init",
    cls=_Command,
    epilog=_examples(
        "tokaudit init ./my-model && tokaudit check tokaudit.yaml",
        "tokaudit init mistralai/Mistral-7B-v0.1 --revision main -o mistral.yaml",
        "tokaudit init model.Q4_K_M.gguf --serving llama.cpp",
        "tokaudit init ./my-model --serving vllm --force",
    ),
)
def init_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="A model folder, a .gguf file, or a Hub id in the local HF cache.",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Config file to write.")] = Path("tokaudit.yaml"),
    serving: Annotated[Server, typer.Option("--serving", help="The server whose tokenizer load to audit.")] = Server.hf,
    revision: Annotated[
        str | None, typer.Option("--revision", help="A Hub id's branch, tag or commit (resolved in the local cache).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config file.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a commented config for a model: the training side its files imply, the serving side as the
    chosen server loads it, the model's revision, vocabulary size and chat templates.

    It prints what it found and chose; missing pieces (no chat template, no config.json) are comments in
    the file. Never overwrites a file without --force.
    """
    with guarded(debug):
        from tokaudit.init.write import InitRequest, init

        for line in init(InitRequest(target, output, serving.value, revision, force)):
            typer.echo(line)


@app.command(
    cls=_Command,
    epilog=_examples(
        "tokaudit snapshot configs/mistral-7b.yaml -o tokaudit.lock.json",
        "pip install -U transformers",
        "tokaudit diff configs/mistral-7b.yaml --against tokaudit.lock.json",
    ),
)
def snapshot(
    config: ConfigArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Lock file to write.")] = Path("tokaudit.lock.json"),
    no_builtin: NoBuiltinOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Record both sides' token ids for every sample, with library versions and backends.

    Commit the lock; `diff --against` (or `check --against`) in the job that bumps transformers
    fails if tokenization moved.
    """
    with guarded(debug):
        from tokaudit.runner import SNAPSHOT, Request, run

        outcome = run(Request(SNAPSHOT, config, Options(builtin=False if no_builtin else None), lock=output))
        for line in outcome.wrote:
            typer.echo(line, err=True)


@app.command(
    cls=_Command,
    epilog=_examples(
        "tokaudit bump configs/mistral-bump.yaml --python .venv-4x/bin/python",
        "tokaudit bump configs/mistral-bump.yaml --with 'transformers==4.57.6'",
        "tokaudit bump configs/mistral-7b.yaml --with 'transformers==4.57.6' --with 'tokenizers==0.22.1' -f markdown",
    ),
)
def bump(
    config: ConfigArg,
    python: Annotated[
        Path | None,
        typer.Option("--python", metavar="PATH", help="The other environment's python (with tokaudit)."),
    ] = None,
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            metavar="SPEC",
            help="Snapshot in a throwaway environment with this requirement (repeatable; uv, else venv + pip).",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    no_builtin: NoBuiltinOpt = False,
    examples: ExamplesOpt = 5,
    show: ShowOpt = 20,
    fail_on: FailOnOpt = None,
    debug: DebugOpt = False,
) -> None:
    """What moves if you upgrade: snapshot in the other environment, diff here, name both version sets.

    The snapshot is taken there and checked here, so the report reads other -> this; run bump from
    the environment you are moving to. Exits as `diff --against` does.
    """
    if (python is None) == (not with_):
        typer.echo("error: bump: give --python PATH or --with SPEC, one of the two", err=True)
        raise typer.Exit(2)
    options = Options(builtin=False if no_builtin else None, examples=examples)
    common = Common(fmt, output, show, fail_on, debug=debug)
    say = functools.partial(typer.echo, err=True)
    _run("bump", config, common, options, python=python, with_specs=tuple(with_ or ()), say=say)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
