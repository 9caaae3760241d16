"""What one fresh load's record means: at most one finding's worth of problem per load, the gravest,
and loads with the same problem grouped into one finding that names each of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokaudit.codes import finding
from tokaudit.findings import Finding
from tokaudit.sources.capabilities import LoadRecord

#: a load that raised, got the Python backend, another class or backend, other ids (docs/codes.md#load-check)
RAISED, PYTHON, OTHER_CLASS, OTHER_IDS = "TA601", "TA602", "TA603", "TA604"
#: ids shown per side in an OTHER_IDS finding's detail
SHOWN_IDS = 40


@dataclass(frozen=True)
class Reference:
    """The audit's own load of the side: what every fresh load must match."""

    cls: str | None
    backend: str | None
    ids: tuple[list[int] | str, ...]


@dataclass(frozen=True)
class _Problem:
    code: str
    what: str  # the message after "<side>: load <n>"
    signature: str  # the same for every load with this problem, whichever loads they are
    detail: dict[str, Any]


def judge(
    side: str, ref: Reference, records: list[LoadRecord], where: list[str], threads: int, processes: int
) -> tuple[list[Finding], int]:
    """The findings for one side's loads, and how many loads had a problem."""
    groups: dict[tuple[str, str], tuple[_Problem, list[str]]] = {}
    for record in records:
        problem = _problem(side, ref, record, where)
        if problem is not None:
            groups.setdefault((problem.code, problem.signature), (problem, []))[1].append(record.name)
    of = f"of {_kinds(threads, processes)}"
    out = []
    for problem, loads in groups.values():
        named = f"load {loads[0]}" if len(loads) == 1 else f"loads {', '.join(loads)}"
        out.append(
            finding(
                problem.code,
                f"{side}: {named} ({of}) {problem.what}",
                where=side,
                signature=problem.signature,
                detail={"side": side, "loads": loads, "threads": threads, "processes": processes, **problem.detail},
            )
        )
    return out, sum(len(loads) for _, loads in groups.values())


def _kinds(threads: int, processes: int) -> str:
    """`3 thread and 2 process loads`, `3 thread loads`."""
    parts = [f"{threads} thread" if threads else "", f"{processes} process" if processes else ""]
    return " and ".join(p for p in parts if p) + " loads"


def _problem(side: str, ref: Reference, r: LoadRecord, where: list[str]) -> _Problem | None:
    expected = {"expected_class": ref.cls, "expected_backend": ref.backend}
    if r.error is not None:
        kind = r.error.split(":", 1)[0]
        return _Problem(RAISED, f"raised {r.error}", f"{side}: {kind}", {"exception": r.error, **expected})
    got = {"class": r.cls, "backend": r.backend, **expected}
    ids = list(r.ids) + ["no result"] * (len(ref.ids) - len(r.ids))
    differing = [i for i, (a, b) in enumerate(zip(ref.ids, ids)) if a != b]
    ids_note = _ids_note(differing, where)
    if r.asked_fast and r.backend == "Python":
        what = (
            f"got the Python backend {r.cls} although the fast backend was asked for (the audit's own load got "
            f"{ref.cls}, {ref.backend}); {ids_note}"
        )
        return _Problem(PYTHON, what, f"{side}: {r.cls}", got)
    if (r.cls, r.backend) != (ref.cls, ref.backend):
        what = (
            f"resolved to {r.cls} ({r.backend}), not {ref.cls} ({ref.backend}) as the audit's own load did; {ids_note}"
        )
        return _Problem(OTHER_CLASS, what, f"{side}: {r.cls} ({r.backend})", got)
    if differing:
        first = differing[0]
        what = (
            f"got {r.cls} as the audit's own load did, but other ids on {len(differing)} of {len(where)} built-in "
            f"samples, first {where[first]}: {_short(ids[first])} instead of {_short(ref.ids[first])}"
        )
        evidence = {
            "samples_differing": len(differing),
            "first_sample": where[first],
            "ids": _clip(ids[first]),
            "expected_ids": _clip(ref.ids[first]),
        }
        return _Problem(OTHER_IDS, what, f"{side}: {r.cls}: {where[first]}", {**got, **evidence})
    return None


def _ids_note(differing: list[int], where: list[str]) -> str:
    if not differing:
        return f"its ids match on all {len(where)} built-in samples"
    return f"its ids differ on {len(differing)} of {len(where)} built-in samples (first: {where[differing[0]]})"


def _clip(ids: list[int] | str) -> list[int] | str:
    return ids if isinstance(ids, str) else ids[:SHOWN_IDS]


def _short(ids: list[int] | str, n: int = 8) -> str:
    if isinstance(ids, str):
        return f"an error ({ids})"
    return "[" + ", ".join(map(str, ids[:n])) + (", …]" if len(ids) > n else "]")
