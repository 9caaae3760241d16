"""vocab-check: special tokens. Roles (bos/eos/pad/unk/end-of-turn), added tokens, ids shared or moved."""

from __future__ import annotations

from typing import Any

from tokaudit.checks.vocab.view import ROLE_NAMES, View, id_ranges, show_role
from tokaudit.codes import finding
from tokaudit.findings import Finding

#: findings per code shown one by one; the rest are counted in one more finding
EACH = 10
#: the hint of the one finding that counts the rest
MORE_HINT = "see detail.tokens for the first 50"


def compare_roles(a: View, b: View) -> list[Finding]:
    """TA203: a role both sides know of has another string or id. Unknown on one side is not a mismatch."""
    out = []
    for role, label in ROLE_NAMES.items():
        if role not in a.roles or role not in b.roles:
            continue
        ra, rb = a.roles[role], b.roles[role]
        if ra == rb:
            continue
        out.append(
            finding(
                "TA203",
                f"{label} is {show_role(ra)} on {a.name} but {show_role(rb)} on {b.name}",
                where=label,
                detail={
                    "role": role,
                    "tokens": {a.name: list(ra) if ra else None, b.name: list(rb) if rb else None},
                    "from": {v.name: v.notes[role] for v in (a, b) if role in v.notes},
                },
            )
        )
    return out


def compare_added(a: View, b: View) -> tuple[list[Finding], list[tuple[str, int, int]]]:
    """TA204 (another id), TA205 (one side only), TA206 (special / lstrip / rstrip / ... flags).

    Returns the findings and the moved tokens as (content, id on a, id on b)."""
    moved: list[tuple[str, int, int]] = []
    missing: list[tuple[str, str, int]] = []
    flags: list[Finding] = []
    for content in sorted(set(a.added) | set(b.added), key=lambda c: (a.lookup(c) or b.lookup(c) or 0, c)):
        ia, ib = a.lookup(content), b.lookup(content)
        if ia is None or ib is None:
            has, tid = (a.name, ia) if ib is None else (b.name, ib)
            assert tid is not None  # content is an added token on at least one side
            missing.append((content, has, tid))
        elif ia != ib:
            moved.append((content, ia, ib))
        else:
            flags += _flag_findings(content, ia, a, b)
    out = []
    for content, ia, ib in moved[:EACH]:
        out.append(
            finding(
                "TA204",
                f"{content!r} is id {ia} on {a.name} and id {ib} on {b.name}",
                where=content,
                detail={"token": content, "ids": {a.name: ia, b.name: ib}},
            )
        )
    if len(moved) > EACH:
        out.append(
            finding("TA204", f"{len(moved) - EACH} more special tokens have other ids", **_more(moved[EACH:], a, b))
        )
    for content, has, tid in missing[:EACH]:
        other = b.name if has == a.name else a.name
        out.append(
            finding(
                "TA205",
                f"{content!r} is a special token on {has} (id {tid}) and not a token at all on {other}",
                where=content,
                fill={"other": other, "token": repr(content)},
                detail={"token": content, "present_on": has, "id": tid},
            )
        )
    if len(missing) > EACH:
        rest = [(c, t, -1) if h == a.name else (c, -1, t) for c, h, t in missing[EACH:]]
        out.append(
            finding("TA205", f"{len(missing) - EACH} more special tokens exist on one side only", **_more(rest, a, b))
        )
    if len(flags) > EACH:
        rest = [f.detail["token"] for f in flags[EACH:]]
        flags[EACH:] = [
            finding(
                "TA206",
                f"{len(rest)} more added tokens have other flags on {a.name} and {b.name}",
                where=f"{len(rest)} more",
                hint=MORE_HINT,
                detail={"count": len(rest), "tokens": rest[:50]},
            )
        ]
    return out + flags, moved


def _more(rest: list[tuple[str, int, int]], a: View, b: View) -> dict[str, Any]:
    """where, hint and detail of the one finding that counts the tokens past the first EACH."""
    return {
        "where": f"{len(rest)} more",
        "hint": MORE_HINT,
        "detail": {"count": len(rest), "tokens": [{"token": c, a.name: x, b.name: y} for c, x, y in rest[:50]]},
    }


def _flag_findings(content: str, tid: int, a: View, b: View) -> list[Finding]:
    ea, eb = a.added.get(content), b.added.get(content)
    diffs: dict[str, list[Any]] = {}
    special_a = ea.special if ea else False  # a vocabulary piece, not an added token: matched as text
    special_b = eb.special if eb else False
    if special_a is not None and special_b is not None and special_a != special_b:
        diffs["special"] = [special_a, special_b]
    if ea and eb and ea.flags is not None and eb.flags is not None:
        fa, fb = dict(ea.flags), dict(eb.flags)
        diffs.update({f: [fa[f], fb.get(f)] for f in fa if fa[f] != fb.get(f)})
    if not diffs:
        return []
    shown = ", ".join(f"{k} {x} vs {y}" for k, (x, y) in diffs.items())
    return [
        finding(
            "TA206",
            f"added token {content!r} (id {tid}) has other flags on {a.name} and {b.name}: {shown}",
            where=content,
            detail={"token": content, "id": tid, "flags": {k: {a.name: x, b.name: y} for k, (x, y) in diffs.items()}},
        )
    ]


def shared_ids(views: list[View]) -> list[Finding]:
    """TA207: two different special strings with one id on a side (e.g. a pad string that maps to <unk>)."""
    out = []
    for v in views:
        for tid, names in sorted(v.names_by_id().items()):
            if len(names) > 1:
                shown = ", ".join(repr(n) for n in sorted(names))
                out.append(
                    finding(
                        "TA207",
                        f"on {v.name}, the special tokens {shown} all have id {tid}",
                        where=f"{v.name}: id {tid}",
                        detail={"side": v.name, "id": tid, "tokens": sorted(names)},
                    )
                )
    return out


def holes(a: View, b: View, moved: list[tuple[str, int, int]]) -> list[Finding]:
    """TA208: specials renumbered because one side's id space has holes the other's has not."""
    ha, hb = set(a.holes), set(b.holes)
    if not moved or ha == hb:
        return []
    gap_side, gaps = (a, sorted(ha - hb)) if ha - hb else (b, sorted(hb - ha))
    example = ", ".join(f"{c!r} {x} → {y}" for c, x, y in moved[:3])
    return [
        finding(
            "TA208",
            f"{gap_side.name}'s id space has {len(gaps)} unused ids ({id_ranges(gaps)}) that the other side "
            f"does not keep, and the special tokens were renumbered around them ({example})",
            where=f"{gap_side.name}: {len(gaps)} holes",
            detail={"side": gap_side.name, "holes": gaps[:100], "hole_count": len(gaps), "moved": moved[:50]},
        )
    ]


def pad_is_eos(views: list[View]) -> list[Finding]:
    """TA209: pad and eos are one token, so masking padding masks EOS too."""
    hits = [v for v in views if _same_id(v.roles.get("pad"), v.roles.get("eos"))]
    if not hits:
        return []
    token = hits[0].roles["eos"]
    names = " and ".join(v.name for v in hits)
    return [
        finding(
            "TA209",
            f"pad is the eos token {show_role(token)} on {names}: a loss mask that drops padding drops every "
            "real EOS too, and the model may never learn to stop",
            where=names,
            detail={"sides": [v.name for v in hits], "token": list(token) if token else None},
        )
    ]


def _same_id(pad: tuple[str, int | None] | None, eos: tuple[str, int | None] | None) -> bool:
    return pad is not None and eos is not None and pad[1] is not None and pad[1] == eos[1]
