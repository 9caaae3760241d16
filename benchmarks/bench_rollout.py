"""What does `tokaudit rollout-check` cost on a rollout dump, and does its memory stay flat?

The dump: two-turn tool-calling trajectories (user → assistant with reasoning and a tool call → tool →
assistant with reasoning and the answer) rendered by Qwen3's chat template (llama.cpp's copy) and encoded
by the Qwen2 vocabulary in fixtures/, as an engine would have sampled them; one in ten completions sampled
non-canonically (its text encoded in two pieces). 200 distinct trajectories are built with transformers
and repeated to the size asked, under benchmarks/.data/ (and reused).

Every figure times a whole process, imports and loading included:

* tokaudit: `tokaudit rollout-check CONFIG -q --workers 1 --format json -o REPORT`;
* libraries alone: one process loads the tokenizer with transformers and, per chunk of 512 trajectories,
  decodes every completion (`batch_decode`), encodes the texts (`tok(texts)`), renders every conversation
  with the template (`apply_chat_template(tokenize=False)`) and encodes the renderings: the library work
  rollout-check does, without any comparing.

Prints the figures, the ratio, and peak RSS at each size (flat: the largest over the smallest);
`--json FILE` writes them too. The machine may be shared: absolute times are noisy, ratios less so.

    python benchmarks/bench_rollout.py                  # 10,000 and 100,000 trajectories
    python benchmarks/bench_rollout.py --quick          # 1,000 and 4,000: does it run at all
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from common import DATA, FIX, measure, write_config

TEMPLATE = FIX / "templates" / "Qwen-Qwen3-0.6B.jinja"
FOLDER = FIX / "qwen2-hf"
DISTINCT = 200
MIB = 1 << 20
TARGET_RSS_MAX = 1 << 30
TARGET_RSS_GROWTH = 0.15

LIBRARIES = r"""
import json, os, sys
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
path, folder, template = sys.argv[1:4]
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(folder)
source = open(template, encoding="utf-8").read()

def chunks(n=512):
    batch = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            batch.append(json.loads(line))
            if len(batch) == n:
                yield batch
                batch = []
    if batch:
        yield batch

count = 0
for batch in chunks():
    count += len(batch)
    completions = [t["completion_ids"] for r in batch for t in r["turns"]]
    texts = tok.batch_decode(completions, skip_special_tokens=False)
    tok(texts, add_special_tokens=False)["input_ids"]
    rendered = [tok.apply_chat_template(r["messages"], chat_template=source, tokenize=False) for r in batch]
    tok(rendered)["input_ids"]
print(json.dumps({"trajectories": count}))
"""


def _conversation(n: int) -> list[dict[str, Any]]:
    cities = ["Paris", "Oslo", "Lima", "Rome", "Kyiv", "Cairo", "Quito", "Hanoi", "Perth", "Tunis"]
    city, day = cities[n % 10], n // 10
    return [
        {"role": "user", "content": f"What is the weather in {city} on day {day}?"},
        {
            "role": "assistant",
            "reasoning_content": f"The user asks about {city}. I should call get_weather for day {day}.",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": city}}}],
        },
        {"role": "tool", "content": json.dumps({"city": city, "day": day, "temperature": 10 + n % 20})},
        {
            "role": "assistant",
            "reasoning_content": f"The tool answered for {city}.",
            "content": f"On day {day} it is {10 + n % 20} °C in {city}.",
        },
    ]


def _distinct() -> list[str]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(FOLDER)
    source = TEMPLATE.read_text(encoding="utf-8")
    lines = []
    for n in range(DISTINCT):
        msgs = _conversation(n)
        turns = []
        for k in (1, 3):
            prompt = tok.apply_chat_template(msgs[:k], chat_template=source, add_generation_prompt=True, tokenize=False)
            whole = tok.apply_chat_template(msgs[: k + 1], chat_template=source, tokenize=False)
            text = whole[len(prompt) :]
            text = text[: text.index("<|im_end|>") + len("<|im_end|>")]
            if n % 10 == 0 and k == 3:  # sampled non-canonically: the same text in two pieces
                ids = tok.encode(text[:9], add_special_tokens=False) + tok.encode(text[9:], add_special_tokens=False)
            else:
                ids = tok.encode(text, add_special_tokens=False)
            turns.append({"prompt_ids": tok.encode(prompt, add_special_tokens=False), "completion_ids": ids})
        lines.append(json.dumps({"messages": msgs, "turns": turns}, ensure_ascii=False) + "\n")
    return lines


def make_dump(size: int) -> Path:
    DATA.mkdir(exist_ok=True)
    out = DATA / f"rollouts-{size}.jsonl"
    if out.exists():
        return out
    lines = _distinct()
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for i in range(size):
            fh.write(lines[i % len(lines)])
    tmp.replace(out)
    return out


def run_one(size: int) -> dict[str, Any]:
    dump = make_dump(size)
    side = {"source": "hf", "path": str(FOLDER), "chat_template": str(TEMPLATE)}
    spec = {
        "training": side,
        "serving": side,
        "rollouts": {"path": str(dump), "messages": "messages", "turns": "turns"},
    }
    config = write_config(f"rollouts-{size}", spec)
    report = DATA / f"rollouts-{size}-report.json"
    tool = [sys.executable, "-m", "tokaudit", "rollout-check", str(config), "-q", "--workers", "1"]
    tool += ["--format", "json", "-o", str(report)]
    print(f"  {size:,} trajectories: tokaudit ...", file=sys.stderr, flush=True)
    mine = measure(tool, (0, 1))
    print(f"  {size:,} trajectories: libraries alone ...", file=sys.stderr, flush=True)
    libs = measure([sys.executable, "-c", LIBRARIES, str(dump), str(FOLDER), str(TEMPLATE)], (0,))
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return {
        "trajectories": size,
        "bytes": dump.stat().st_size,
        "checked": summary["trajectories"],
        "by_cause": summary["trajectories_by_cause"],
        "tokaudit": {"wall": mine.wall, "cpu": mine.cpu, "rss": mine.rss},
        "libraries": {"wall": libs.wall, "cpu": libs.cpu, "rss": libs.rss},
        "ratio": mine.wall / libs.wall,
        "cpu_ratio": mine.cpu / libs.cpu,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 4,000 trajectories: only that it runs")
    parser.add_argument("--sizes", default="10000,100000", help="trajectory counts, comma-separated")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    sizes = [1000, 4000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"bench_rollout: {len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f}")
    rows = [run_one(n) for n in sizes]
    for r in rows:
        t, lib = r["tokaudit"], r["libraries"]
        print(f"\n{r['trajectories']:,} trajectories ({r['bytes'] / 1e6:,.1f} MB; load average {r['load']:.1f})")
        print(f"  tokaudit rollout-check {t['wall']:8.2f} s  cpu {t['cpu']:8.2f} s  peak RSS {t['rss'] / MIB:,.0f} MiB")
        print(
            f"  libraries alone        {lib['wall']:8.2f} s  cpu {lib['cpu']:8.2f} s  "
            f"peak RSS {lib['rss'] / MIB:,.0f} MiB"
        )
        print(
            f"  ratio                  {r['ratio']:8.2f}x libraries alone (decode + encode + render), wall; "
            f"{r['cpu_ratio']:.2f}x in CPU seconds"
        )
        print(f"  trajectories/s         {r['checked'] / t['wall']:8,.0f}")
        print(f"  findings by cause      {r['by_cause']}")
    small, large = rows[0]["tokaudit"]["rss"], rows[-1]["tokaudit"]["rss"]
    growth = large / small - 1
    flat = growth <= TARGET_RSS_GROWTH
    under = large < TARGET_RSS_MAX
    print(
        f"\npeak RSS {small / MIB:,.0f} MiB at {rows[0]['trajectories']:,}, {large / MIB:,.0f} MiB at "
        f"{rows[-1]['trajectories']:,} ({growth:+.1%})  [flat within {TARGET_RSS_GROWTH:.0%}: "
        f"{'PASS' if flat else 'over'}; under 1 GB: {'PASS' if under else 'over'}]"
    )
    if args.json:
        out = {"results": rows, "rss_growth": growth, "flat": flat, "under_1gb": under}
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
