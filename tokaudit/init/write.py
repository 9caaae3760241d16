"""`tokaudit init`, step three: the plan as a commented YAML config, written atomically, never over a file
unless asked (`--force`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tokaudit.errors import InputError
from tokaudit.init.choose import Plan, Section, choose
from tokaudit.init.inspect import inspect
from tokaudit.output import write_file


@dataclass(frozen=True)
class InitRequest:
    target: str
    output: Path = Path("tokaudit.yaml")
    serving: str = "hf"
    revision: str | None = None
    force: bool = False


def _scalar(value: Any) -> str:
    """A value as YAML in one line (flow style for a mapping), quoted only where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _section(s: Section) -> list[str]:
    out = [f"# {line}" for line in s.why]
    out.append(f"{s.name}:")
    for k in s.keys:
        line = f"{'# ' if k.off else ''}{k.key}: {_scalar(k.value)}"
        if k.why:
            line = f"{line}    # {k.why}" if len(line) + len(k.why) < 110 else f"# {k.why}\n  {line}"
        out += [f"  {part}" if not part.startswith("  ") else part for part in line.split("\n")]
    return out


def render(plan: Plan, target: str, notes: list[str]) -> str:
    lines = [
        f"# tokaudit config for {target}, written by `tokaudit init`. Run: tokaudit check <this file>",
        "# Every key is documented in docs/config.md; each choice below says why and what to change.",
    ]
    lines += [f"# note: {n}" for n in notes]
    lines.append("")
    lines += _section(plan.model) + [""] + _section(plan.training) + [""] + _section(plan.serving) + [""]
    lines += [
        "# corpus: your own samples, as .txt / .jsonl (with `field`) / .parquet; the built-in edge cases always run",
        "# corpus:",
        "#   - path: data/train.jsonl",
        "#     field: text",
        "#     limit: 10000",
        "# conversations: data/chats.jsonl   # for template-check, with the built-in conversations",
        "fail_on: error",
        "ignore: []",
        "",
    ]
    return "\n".join(lines)


def init(request: InitRequest) -> list[str]:
    """Inspect, choose, write. Returns the lines to print; raises InputError (one line) when it cannot."""
    output = request.output
    if output.exists() and not request.force:
        raise InputError(f"{output}: already exists; pass --force to overwrite it")
    found = inspect(request.target, request.revision)
    plan = choose(found, request.serving, output.resolve().parent)
    text = render(plan, request.target, found.notes)
    yaml.safe_load(text)  # what we write must parse: a bug here is a traceback, not a broken file
    write_file(text, output)
    kind = {"folder": "folder", "gguf": "GGUF", "hub": "Hub id"}[found.kind]
    pinned = f" @ {found.hub.shown()} (local cache)" if found.hub is not None else ""
    head = [f"found: {kind} {request.target}{pinned}: {', '.join(found.files[:10])}"]
    head += [f"found: {note}" for note in found.notes]
    head += [f"chose: {line}" for line in plan.lines]
    return [*head, f"wrote {output}; next: tokaudit check {output}"]
