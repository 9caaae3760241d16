"""diff's fast per-sample path against the per-sample truth, on a corpus with many distinct divergences.

Equal samples are skipped in bulk, bounds take shortcuts, signatures are memoised and the HF side calls
the backend directly; none of that may change a report. The truth here is computed sample by sample,
straight from the two libraries (sentencepiece, transformers' own call) with plain loops and the
un-memoised `signature`: every finding's count, examples and first sample, and the summary's
counts, must equal it exactly, for one worker and two.
"""

from __future__ import annotations

import functools
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MISTRAL_HF, MISTRAL_SP, invoke, side
from tokaudit.checks.diff.signature import Shaper, signature
from tokaudit.config import SideSpec
from tokaudit.sources.sides import load_side

#: pieces whose runs the two tokenizers split in many different ways (whitespace runs, tabs, no-break
#: and ideographic spaces, decomposed accents, CJK, emoji, control strings, code)
PIECES = (
    *("    ", "  ", "\t", " ", "  \t ", "\u00a0", "\u3000", "x\u0301", "ﬁ", "é", "naïve", "東京", "🚀"),
    *("x", "foo", "Bar", "42", "3.14", "(", ")", "[", "]", "{", ":", ",", ".", "==", "->", "#", '"', "'"),
    *("<s>", "</s>", "<unk>", "__init__", "self", "return", "—"),
)
LINES = 24_000  # ~0.5 MB: with a small shard size below, several shards for two workers


def _lines(n: int) -> list[str]:
    rng = random.Random(20)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 10))) for _ in range(n)]


def _truth(lines: list[str]) -> dict[str, Any]:
    """Per sample: ids from each library, the first difference and the common suffix by plain loops,
    and `signature` computed afresh."""
    import sentencepiece
    from transformers import AutoTokenizer

    sp = sentencepiece.SentencePieceProcessor(model_file=str(MISTRAL_SP))
    hf = AutoTokenizer.from_pretrained(str(MISTRAL_HF))
    sa = Shaper(load_side(SideSpec(source="sentencepiece", path=str(MISTRAL_SP), add_bos=True)), by_cause=True)
    sb = Shaper(load_side(SideSpec(source="hf", path=str(MISTRAL_HF))), by_cause=True)
    groups: dict[str, list[int]] = defaultdict(list)
    tokens = affected = 0
    for number, text in enumerate(lines, 1):
        a, b = [sp.bos_id(), *sp.encode(text)], list(hf(text)["input_ids"])
        tokens += len(b)
        if a == b:
            continue
        n = min(len(a), len(b))
        i = 0
        while i < n and a[i] == b[i]:
            i += 1
        j = 0
        while j < n - i and a[-1 - j] == b[-1 - j]:
            j += 1
        affected += max(len(a) - j - i, len(b) - j - i, 1)
        groups[signature(a, b, i, sa, sb)].append(number)
    return {"groups": groups, "tokens": tokens, "affected": affected}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    lines = _lines(LINES)
    path = tmp_path_factory.mktemp("truth") / "c.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, _truth(lines)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_count_and_example_equals_the_per_sample_truth(corpus, cfg, monkeypatch, workers: str) -> None:  # type: ignore[no-untyped-def]
    import tokaudit.runner

    # several shards, merged in any order
    monkeypatch.setattr(tokaudit.runner, "plan", functools.partial(tokaudit.runner.plan, shard_bytes=64 * 1024))
    path, truth = corpus
    config = cfg(
        {
            "training": side("sentencepiece", MISTRAL_SP, add_bos=True),
            "serving": side("hf", MISTRAL_HF),
            "corpus": [str(path)],
            "builtin_corpus": False,
        }
    )
    result = invoke("diff", config, "--format", "json", "--workers", workers)
    assert result.exit_code == 1, result.output[-2000:]
    report = json.loads(result.stdout)

    groups: dict[str, list[int]] = truth["groups"]
    assert len(groups) >= 90  # many distinct divergences, memoised or not
    got = {}
    for f in report["findings"]:
        category, _, shape = f["signature"].partition(": ")
        assert category == f["category"]
        got[shape] = (f["count"], f["samples"], f["sample"])
    want = {
        shape: (len(numbers), [f"c.txt:{k}" for k in numbers[:5]], f"c.txt:{numbers[0]}")
        for shape, numbers in groups.items()
    }
    assert got == want
    # by severity and code, then in the order of their first sample (a stable sort of Groups' order)
    codes = [(f["severity"], f["code"], int(f["sample"].split(":")[1])) for f in report["findings"]]
    assert all(x[:2] != y[:2] or x[2] < y[2] for x, y in zip(codes, codes[1:]))
    summary = report["summary"]
    differing = sum(len(v) for v in groups.values())
    assert summary["samples_compared"] == LINES
    assert summary["samples_differing"] == differing
    assert summary["distinct_divergences"] == len(groups)
    assert summary["tokens"] == truth["tokens"]
    assert summary["tokens_affected"] == truth["affected"]
    assert sum(summary["by_category"].values()) == differing
