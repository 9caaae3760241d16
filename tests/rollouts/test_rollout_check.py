"""rollout-check end to end on dumps built with transformers (tests/rollouts/data.py); every expected count
is computed here from transformers' own ids, never from tokaudit."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke
from tests.rollouts import data as d


def _report(config: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    result = invoke("rollout-check", str(config), "--format", "json", *flags)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _by_code(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["code"], []).append(f)
    return out


def _first_diff(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _write(fmt: str, path: Path, records: list[dict[str, Any]]) -> Path:
    if fmt == "jsonl":
        return d.write_jsonl(path.with_suffix(".jsonl"), records)
    if fmt == "jsonl.gz":
        import gzip

        out = path.with_suffix(".jsonl.gz")
        out.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
        return out
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = path.with_suffix(".parquet")
    pq.write_table(pa.Table.from_pylist(records), out)
    return out


# -- Done when 1: Qwen3's template drops reasoning from history ---------------------------------------------
@cache
def _qwen3_case() -> tuple[list[dict[str, Any]], list[tuple[int, int, int, int, int]]]:
    """Three 3-turn tool trajectories with a follow-up question and one without, and what transformers says
    about each: (append-only break index, its tokens, re-render break index, its tokens, sampled tokens)."""
    tools = [d.WEATHER]
    records, expected = [], []
    tok = d.tokenizer()
    source = d.QWEN3.read_text(encoding="utf-8")
    for city in ("Paris", "Oslo", "Lima"):
        msgs = d.tool_trajectory(city)
        turns = d.engine_turns(msgs, tools=tools)
        assert len(turns) == 3
        records.append(d.record(msgs, turns, tools))
        p = [t["prompt_ids"] for t in turns]
        c = [t["completion_ids"] for t in turns]
        # append-only, from transformers' ids: which turn's prompt stops extending the previous turn's ids
        breaks = [k for k in (1, 2) if p[k][: len(p[k - 1]) + len(c[k - 1])] != p[k - 1] + c[k - 1]]
        assert breaks == [2]  # turn 3 (the follow-up question) re-renders turns 1 and 2 without reasoning
        i = _first_diff(p[1] + c[1], p[2])
        spans = [(len(p[0]), len(p[0]) + len(c[0])), (len(p[1]), len(p[1]) + len(c[1]))]
        tokens = sum(max(0, e - max(s, i)) for s, e in spans)
        # re-render: the trainer renders the whole conversation; which turns' ids does it not start with
        row = tok(tok.apply_chat_template(msgs, tools=tools, chat_template=source, tokenize=False))["input_ids"]
        off = [k for k in range(3) if row[: len(p[k]) + len(c[k])] != p[k] + c[k]]
        assert off == [0, 1]
        j = _first_diff(p[0] + c[0], row)
        affected = sum(len(p[k]) + len(c[k]) - max(_first_diff(p[k] + c[k], row), len(p[k])) for k in off)
        expected.append((i, tokens, j, affected, sum(len(x) for x in c)))
    # a trajectory that never leaves its first question keeps its reasoning: clean
    clean = d.tool_trajectory("Rome", follow_up=False)
    records.append(d.record(clean, d.engine_turns(clean, tools=tools), tools))
    return records, expected


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet"])
def test_qwen3_tool_trajectory_reasoning_dropped_at_the_right_turn(tmp_path: Path, fmt: str) -> None:
    records, expected = _qwen3_case()
    dump = _write(fmt, tmp_path / "rollouts", records)
    code, report = _report(d.config(tmp_path, dump))
    assert code == 1
    found = _by_code(report)
    assert set(found) == {"TA711", "TA714"}, [f["message"] for f in report["findings"]]
    (append,), (rerender,) = found["TA711"], found["TA714"]
    name = dump.name
    assert append["count"] == 3 and append["samples"] == [f"{name}:{n}" for n in (1, 2, 3)]
    assert append["category"] == "reasoning-dropped"
    assert append["detail"]["turn"] == 3 and append["detail"]["token_index"] == expected[0][0]
    assert append["detail"]["position"] == "in turn 1's completion"
    assert append["detail"]["removed"].startswith("<think>⏎The␣user␣wants")
    assert rerender["count"] == 3 and rerender["detail"]["turn"] == 1
    assert rerender["detail"]["token_index"] == expected[0][2]
    summary = report["summary"]
    assert summary["trajectories"] == 4 and summary["turns"] == 11
    assert summary["trajectories_by_cause"] == {"append-only: reasoning dropped": 3, "re-render: reasoning dropped": 3}
    assert summary["tokens_by_cause"] == {
        "append-only: reasoning dropped": sum(e[1] for e in expected),
        "re-render: reasoning dropped": sum(e[3] for e in expected),
    }
    sampled = sum(e[4] for e in expected) + sum(len(t["completion_ids"]) for t in records[-1]["turns"])
    assert summary["tokens_sampled"] == sampled
    assert summary["share_trajectories_by_cause"]["append-only: reasoning dropped"] == 0.75


def test_qwq_drops_reasoning_inside_a_tool_loop(tmp_path: Path) -> None:
    """QwQ-32B strips `<think>` from every earlier assistant turn: each turn after the first breaks."""
    msgs = d.tool_trajectory("Paris", follow_up=False)
    for m in msgs:  # QwQ reads reasoning from the content
        if m["role"] == "assistant":
            m["content"] = f"<think>\n{m.pop('reasoning_content')}\n</think>\n\n{m['content']}"
    turns = d.engine_turns(msgs, d.QWQ, tools=[d.WEATHER])
    p, c = [t["prompt_ids"] for t in turns], [t["completion_ids"] for t in turns]
    assert p[1][: len(p[0]) + len(c[0])] != p[0] + c[0]
    dump = d.write_jsonl(tmp_path / "qwq.jsonl", [d.record(msgs, turns, [d.WEATHER])])
    _, report = _report(d.config(tmp_path, dump, template=d.QWQ))
    (append,) = _by_code(report)["TA711"]
    assert append["detail"]["turn"] == 2
    assert append["detail"]["token_index"] == _first_diff(p[0] + c[0], p[1])


# -- Done when 2: non-canonical samples; 10,000 canonical trajectories are clean ----------------------------
def _simple(n: int) -> list[dict[str, Any]]:
    """A one-question conversation with reasoning, varied by n."""
    words = ["river", "mountain", "city", "forest", "ocean", "desert", "valley", "island", "bridge", "castle"]
    a, b = words[n % 10], words[(n // 10) % 10]
    return [
        {"role": "user", "content": f"Tell me about the {a} near the {b} ({n})."},
        {
            "role": "assistant",
            "reasoning_content": f"The user asks about a {a} and a {b}.",
            "content": f"The {a} near the {b} is beautiful, especially at dawn #{n}.",
        },
    ]


def test_non_canonical_completions_counted_exactly(tmp_path: Path) -> None:
    tok = d.tokenizer()
    source = d.QWEN3.read_text(encoding="utf-8")
    records, bad, rerendered = [], 0, 0
    for n in range(20):
        msgs = _simple(n)
        split = {0: 30 + n} if n % 3 == 0 else None  # a third of them sampled in two pieces
        turns = d.engine_turns(msgs, split=split)
        p, c = turns[0]["prompt_ids"], turns[0]["completion_ids"]
        bad += tok.encode(tok.decode(c), add_special_tokens=False) != c
        row = tok(tok.apply_chat_template(msgs, chat_template=source, tokenize=False))["input_ids"]
        rerendered += row[: len(p) + len(c)] != p + c
        records.append(d.record(msgs, turns))
    assert bad > 3
    dump = d.write_jsonl(tmp_path / "r.jsonl", records)
    code, report = _report(d.config(tmp_path, dump))
    found = _by_code(report)
    # the trainer's re-rendering encodes the same text canonically too: TA716 (same text, other ids)
    assert code == 1 and set(found) == {"TA701", "TA716"}, [f["message"] for f in report["findings"]]
    assert found["TA701"][0]["count"] == bad and found["TA716"][0]["count"] == rerendered == bad
    assert found["TA701"][0]["category"] == "non-canonical"
    shares = report["summary"]["share_trajectories_by_cause"]
    assert shares["round trip: non-canonical split"] == round(bad / 20, 6)


def test_ten_thousand_canonical_trajectories_exit_0(tmp_path: Path) -> None:
    distinct = [d.record(m, d.engine_turns(m)) for m in (_simple(n) for n in range(100))]
    lines = [json.dumps(r) + "\n" for r in distinct]
    dump = tmp_path / "clean.jsonl"
    dump.write_text("".join(lines * 100), encoding="utf-8")
    result = invoke("rollout-check", str(d.config(tmp_path, dump)), "--format", "json", "--workers", "2")
    assert result.exit_code == 0, result.output[-2000:]
    report = json.loads(result.stdout)
    assert report["findings"] == [] and report["summary"]["trajectories"] == 10_000


# -- Done when 3: loss masks ----------------------------------------------------------------------------------
def test_loss_mask_training_scaffolding_and_missing_stop_token(tmp_path: Path) -> None:
    msgs = d.tool_trajectory("Paris", follow_up=False)
    turns = d.engine_turns(msgs, tools=[d.WEATHER])
    p, c = [t["prompt_ids"] for t in turns], [t["completion_ids"] for t in turns]
    row = p[1] + c[1]  # token-in/token-out: the last prompt + completion holds every turn
    assert row[len(p[0]) : len(p[0]) + len(c[0])] == c[0]
    good = [0] * len(row)
    for k in range(2):
        good[len(p[k]) : len(p[k]) + len(c[k])] = [1] * len(c[k])
    scaffolding = list(good)
    scaffolding[len(p[0]) + len(c[0]) : len(p[1])] = [1] * (len(p[1]) - len(p[0]) - len(c[0]))
    no_stop = list(good)
    end = d.tokenizer().convert_tokens_to_ids(d.END)
    stops = [len(p[k]) + len(c[k]) - 1 for k in range(2)]
    assert all(row[i] == end for i in stops)
    for i in stops:
        no_stop[i] = 0
    records = [
        d.record(msgs, turns, [d.WEATHER], input_ids=row, loss_mask=mask) for mask in (good, scaffolding, no_stop)
    ]
    dump = d.write_jsonl(tmp_path / "rows.jsonl", records)
    config = d.config(tmp_path, dump, input_ids="input_ids", loss_mask="loss_mask")
    code, report = _report(config)
    found = _by_code(report)
    assert code == 1 and set(found) == {"TA721", "TA722"}, [f["message"] for f in report["findings"]]
    (trains,), (stop,) = found["TA721"], found["TA722"]
    assert trains["count"] == 1 and trains["samples"] == ["rows.jsonl:2"]
    assert trains["detail"]["tokens"] == len(p[1]) - len(p[0]) - len(c[0])
    assert stop["count"] == 1 and stop["detail"]["tokens"] == 2
    tokens = report["summary"]["tokens_by_cause"]
    assert tokens == {
        "row: scaffolding between turns trained": len(p[1]) - len(p[0]) - len(c[0]),
        "row: sampled stop token not trained": 2,
    }
    assert report["summary"]["tokens_trained"] == sum(good) * 3 + (len(p[1]) - len(p[0]) - len(c[0])) - 2


def test_logprobs_and_ids_past_the_embedding_rows(tmp_path: Path) -> None:
    msgs = _simple(1)
    turns = d.engine_turns(msgs)
    short = [{**turns[0], "logprobs": [-0.1] * (len(turns[0]["completion_ids"]) - 1)}]
    dump = d.write_jsonl(tmp_path / "r.jsonl", [d.record(msgs, turns), d.record(msgs, short)])
    config = d.config(tmp_path, dump)
    data = __import__("yaml").safe_load(config.read_text())
    rows = max(turns[0]["completion_ids"])  # the largest sampled id has no row: every trajectory
    data["model"] = {"name": "qwen2 (truncated embeddings)", "vocab_size": rows}
    config.write_text(__import__("yaml").safe_dump(data), encoding="utf-8")
    _, report = _report(config)
    found = _by_code(report)
    assert found["TA724"][0]["count"] == 1 and found["TA725"][0]["count"] == 2


# -- Done when 5: bad input -----------------------------------------------------------------------------------
def test_bad_records_are_skipped_with_where_and_why(tmp_path: Path) -> None:
    msgs = _simple(2)
    turns = d.engine_turns(msgs)
    two = d.engine_turns(d.tool_trajectory("Paris", follow_up=False), tools=[d.WEATHER])
    lines = [
        json.dumps({"messages": msgs}),  # no `turns`
        json.dumps(d.record(msgs, [{**turns[0], "completion_ids": ["12", 13]}])),
        json.dumps(d.record(msgs, [two[1], two[0]])),  # turn 2's prompt shorter than turn 1's
        "{not json",
        json.dumps(d.record(msgs, turns)),
    ]
    dump = tmp_path / "bad.jsonl"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report = _report(d.config(tmp_path, dump))
    assert code == 0 and report["summary"]["trajectories"] == 1
    skipped = {s["where"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"bad.jsonl:1", "bad.jsonl:2", "bad.jsonl:3", "bad.jsonl:4"}
    assert skipped["bad.jsonl:1"] == "field `turns` is missing"
    assert skipped["bad.jsonl:2"] == "`turns[0].completion_ids[0]` is '12' (str), not an integer"
    assert (
        "`turns[1].prompt_ids` has" in skipped["bad.jsonl:3"]
        and "fewer than the previous turn's" in skipped["bad.jsonl:3"]
    )


def test_nothing_checkable_is_exit_2_one_line(tmp_path: Path) -> None:
    dump = tmp_path / "bad.jsonl"
    dump.write_text(json.dumps({"messages": _simple(0)}) + "\n", encoding="utf-8")
    result = invoke("rollout-check", str(d.config(tmp_path, dump)))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "no trajectory" in lines[0] and "bad.jsonl:1: field `turns` is missing" in lines[0]


def test_special_tokens_lost_and_a_character_cut(tmp_path: Path) -> None:
    """skip_special_tokens drops the sampled `<|im_end|>` (TA702); a completion cut inside an emoji (TA703)."""
    tok = d.tokenizer()
    msgs = [{"role": "user", "content": "Say something."}, {"role": "assistant", "content": "Rocket 🚀🔥 launch"}]
    turns = d.engine_turns(msgs)
    ids = turns[0]["completion_ids"]
    cut = next(n for n in range(1, len(ids)) if "\ufffd" in tok.decode(ids[:n]))  # ends inside a character
    records = [d.record(msgs, turns), d.record(msgs, [{**turns[0], "completion_ids": ids[:cut]}])]
    dump = d.write_jsonl(tmp_path / "r.jsonl", records)
    _, report = _report(d.config(tmp_path, dump, decode={"skip_special_tokens": True}))
    found = _by_code(report)
    assert found["TA702"][0]["count"] == 1 and found["TA702"][0]["samples"] == ["r.jsonl:1"]
    assert found["TA703"][0]["count"] == 1 and found["TA703"][0]["samples"] == ["r.jsonl:2"]
