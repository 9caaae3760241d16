"""`diff`: encode every sample with both sides; one finding per distinct divergence, with its count.

The runner streams the corpus in shards through `scan.scan` (in workers, or on Ray) and merges the
DiffTally each shard returns; `finish` turns the merged tally into the check's result.
"""

from __future__ import annotations

from tokaudit.checks.base import CheckResult
from tokaudit.checks.diff.scan import DiffTally, scan
from tokaudit.config import Settings
from tokaudit.corpus import no_samples
from tokaudit.errors import InputError
from tokaudit.options import Options

__all__ = ["DiffTally", "finish", "scan", "tally"]


def tally(options: Options) -> DiffTally:
    return DiffTally(keep=options.examples)


def finish(settings: Settings, t: DiffTally) -> CheckResult:
    """The merged tally as findings and a summary. Nothing compared is an InputError."""
    cfg = settings.config_path
    for i, entry in enumerate(settings.corpus):
        if not t.read[i]:
            first = [t.first_skip[i][1]] if i in t.first_skip else []
            raise InputError(no_samples(cfg, i, entry.path, t.skips[i], first))
    skipped = t.skipped.items()
    if t.compared == 0:
        raise InputError(
            f"{cfg}: no sample could be compared ({t.skipped.count} skipped; "
            f"first: {skipped[0].where}: {skipped[0].reason})"
            if skipped
            else f"{cfg}: no sample could be compared"
        )
    findings = t.groups.findings()
    return CheckResult(
        findings=findings,
        skipped=skipped,
        summary={
            "samples_compared": t.compared,
            "samples_differing": t.differing,
            "samples_skipped": t.skipped.count,
            "distinct_divergences": len(findings),
            "tokens": t.tokens,
            "tokens_affected": t.affected,
            "share_tokens_affected": round(t.affected / t.tokens, 6) if t.tokens else 0.0,
            "by_category": t.by_category(),
        },
    )
