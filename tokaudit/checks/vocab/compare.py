"""vocab-check: the vocabularies themselves. Size against the model, id -> bytes, and a decode round trip.

Special and added tokens are left to vocab_specials (compared by content); everything here is the
regular vocabulary, reduced to bytes so that "▁a", "Ġa" and b" a" compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokaudit.checks.evidence import show_bytes, visible
from tokaudit.checks.vocab.view import View, id_ranges
from tokaudit.codes import finding
from tokaudit.findings import Finding

SHOWN = 10


@dataclass
class VocabStats:
    """Counts for the summary, and the ids both sides agree on (for the round trip)."""

    compared: int = 0
    differing: int = 0
    same_ids: list[int] = field(default_factory=list)


def size_findings(views: list[View], rows: int, where: str) -> list[Finding]:
    """TA201: ids at or above the embedding rows; TA202: rows beyond the tokenizer (info)."""
    out = []
    for v in views:
        if v.size > rows:
            over = [i for i in range(rows, v.size) if v.surfaces[i] is not None]
            out.append(
                finding(
                    "TA201",
                    f"{v.name} has {v.size} ids but the model has {rows} embedding rows ({where}): "
                    f"{len(over)} ids ({id_ranges(over, 4)}) are out of range",
                    where=v.name,
                    detail={
                        "side": v.name,
                        "tokenizer_ids": v.size,
                        "embedding_rows": rows,
                        "source": where,
                        "out_of_range": len(over),
                        "first_ids": over[:SHOWN],
                    },
                )
            )
    smaller = sorted({v.size for v in views if v.size < rows})
    for size in smaller:
        names = [v.name for v in views if v.size == size]
        out.append(
            finding(
                "TA202",
                f"the model has {rows - size} embedding rows beyond the {size} ids of {' and '.join(names)} ({where})",
                where=" and ".join(names),
                detail={
                    "sides": names,
                    "tokenizer_ids": size,
                    "embedding_rows": rows,
                    "unused_rows": rows - size,
                    "source": where,
                },
            )
        )
    return out


def compare_vocab(a: View, b: View) -> tuple[list[Finding], VocabStats]:
    """TA211 ids whose bytes differ, TA212 bytes on one side only, TA213 bytes several ids share."""
    stats = VocabStats()
    special = a.special_ids | b.special_ids
    sa, sb = a.surfaces, b.surfaces
    na, nb = len(sa), len(sb)
    differ: list[int] = []
    for i in range(max(na, nb)):
        ra = sa[i] if i < na else None
        rb = sb[i] if i < nb else None
        if ra == rb:
            if ra is not None and i not in special:
                stats.same_ids.append(i)
            continue
        if i in special:
            continue
        # a token on one side and nothing at this id on the other is "one side only", not a change
        if (ra is None and rb not in a.by_bytes) or (rb is None and ra not in b.by_bytes):
            continue
        differ.append(i)
    stats.compared = len(stats.same_ids) + len(differ)
    stats.differing = len(differ)
    out = []
    if differ:
        out.append(
            finding(
                "TA211",
                f"{len(differ)} ids stand for other bytes on {a.name} and {b.name} "
                f"(first: id {differ[0]} is {show_bytes(_at(sa, differ[0]))!r} vs {show_bytes(_at(sb, differ[0]))!r})",
                where=f"id {differ[0]}",
                detail={
                    "count": len(differ),
                    "examples": [
                        {"id": i, a.name: show_bytes(_at(sa, i)), b.name: show_bytes(_at(sb, i))}
                        for i in differ[:SHOWN]
                    ],
                },
            )
        )
    for this, other in ((a, b), (b, a)):
        only = sorted(this.by_bytes.keys() - other.by_bytes.keys(), key=this.by_bytes.__getitem__)
        if only:
            out.append(
                finding(
                    "TA212",
                    f"{len(only)} vocabulary pieces exist on {this.name} only (first: "
                    f"{show_bytes(only[0])!r}, id {this.by_bytes[only[0]]})",
                    where=f"{this.name} only",
                    fill={"other": other.name},
                    detail={
                        "side": this.name,
                        "count": len(only),
                        "examples": [{"id": this.by_bytes[raw], "bytes": show_bytes(raw)} for raw in only[:SHOWN]],
                    },
                )
            )
    out += _shared(a, b)
    return out, stats


def _shared(a: View, b: View) -> list[Finding]:
    shared: list[tuple[bytes, list[int], list[int]]] = []
    for raw in a.dupes.keys() | b.dupes.keys():
        ia, ib = a.ids_for(raw), b.ids_for(raw)
        if ia and ib and ia != ib:
            shared.append((raw, ia, ib))
    if not shared:
        return []
    shared.sort(key=lambda s: min(s[1] + s[2]))
    raw, ia, ib = shared[0]
    return [
        finding(
            "TA213",
            f"{len(shared)} byte strings map to different sets of ids (first: {show_bytes(raw)!r} is ids {ia} "
            f"on {a.name} and {ib} on {b.name})",
            where=f"bytes {show_bytes(raw)!r}",
            detail={
                "count": len(shared),
                "examples": [{"bytes": show_bytes(r), a.name: x, b.name: y} for r, x, y in shared[:SHOWN]],
            },
        )
    ]


def _at(surfaces: list[bytes | None], i: int) -> bytes | None:
    return surfaces[i] if i < len(surfaces) else None


def round_trip(a: View, b: View, ids: list[int]) -> tuple[list[Finding], dict[str, Any]]:
    """TA214: each id the vocabularies agree on, decoded alone by each library, gives the same text."""
    da, db = a.reader.decode_each(ids), b.reader.decode_each(ids)
    differ = [(i, x, y) for i, x, y in zip(ids, da, db) if x != y]
    stats = {"round_trip_ids": len(ids), "round_trip_differing": len(differ)}
    if not differ:
        return [], stats
    i, x, y = differ[0]
    return [
        finding(
            "TA214",
            f"{len(differ)} ids decode to other text on {a.name} and {b.name} "
            f"(first: id {i} decodes to {visible(x)!r} vs {visible(y)!r})",
            where=f"id {i}",
            detail={
                "count": len(differ),
                "examples": [{"id": j, a.name: visible(p), b.name: visible(q)} for j, p, q in differ[:SHOWN]],
            },
        )
    ], stats
