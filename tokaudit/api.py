"""The Python API, for pipelines that check the invariant at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokaudit.config import load_config, settings_from_dict
from tokaudit.findings import Report
from tokaudit.options import Options


def audit(config: str | Path | dict[str, Any], command: str = "check", **options: Any) -> Report:
    """Run tokaudit and return the Report; findings are returned, never raised.

    `config` is a path to a YAML file or an already-parsed dict (relative paths in a dict resolve
    against the current directory). Config and input problems raise TokauditError, as in the CLI.

        report = tokaudit.audit("configs/mistral-7b.yaml", command="diff")
        if report.failed(Severity.ERROR): ...
    """
    from tokaudit.runner import Request, run

    settings = settings_from_dict(config, Path.cwd() / "<dict>") if isinstance(config, dict) else load_config(config)
    return run(Request(command, settings, Options(**options))).report
