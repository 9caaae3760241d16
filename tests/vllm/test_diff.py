"""Done when 2: `diff` with `serving: vllm` on the Mistral 7B fixtures gives what `serving: hf` gives: vLLM's
completion path adds BOS as the post-processor does (measured with vLLM 0.32.0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import MISTRAL_HF, MISTRAL_VLLM, ROOT, side
from tests.vllm.conftest import VLLM, run_json
from tokaudit.config import SideSpec
from tokaudit.sources.sides import load_side

pytestmark = VLLM


def demo(cfg, serving: dict[str, Any], **extra: Any) -> Path:  # type: ignore[no-untyped-def]
    """configs/mistral-7b.yaml with another serving side (paths made absolute)."""
    data = yaml.safe_load((ROOT / "configs" / "mistral-7b.yaml").read_text(encoding="utf-8"))
    base = ROOT / "configs"
    data["training"]["path"] = str((base / data["training"]["path"]).resolve())
    data["corpus"] = [
        {**c, "path": str((base / c["path"]).resolve())} if isinstance(c, dict) else str((base / c).resolve())
        for c in data["corpus"]
    ]
    return cfg({**data, "serving": serving, **extra})


def findings(report: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((f["code"], f["count"], f["signature"]) for f in report["findings"])


def test_diff_serving_vllm_equals_serving_hf(cfg) -> None:
    code_hf, hf, _ = run_json("diff", demo(cfg, side("hf", MISTRAL_HF)))
    code_vllm, vllm, err = run_json("diff", demo(cfg, side("vllm", MISTRAL_VLLM)))
    assert (code_vllm, code_hf) == (1, 1), err  # the demo's special-token divergences (TA101) are errors
    assert vllm["summary"] == hf["summary"] and vllm["summary"]["samples_compared"] == 67
    assert findings(vllm) == findings(hf) and {c for c, _, _ in findings(vllm)} == {"TA101", "TA106"}
    assert vllm["header"]["sides"]["serving"]["library"] == "vllm"


def test_completion_path_adds_bos_like_the_post_processor_and_refuses_past_the_context() -> None:
    served = load_side(SideSpec(source="vllm", path=str(MISTRAL_VLLM)))
    hf = load_side(SideSpec(source="hf", path=str(MISTRAL_HF)))
    texts = ["", "Hello", "<s> x </s>", " lead", "\n\n"]
    assert served.encode_all(texts) == hf.encode_all(texts)
    assert served.encode_all(["Hello"]) == [[1, 22557]] and served.bos_eos_defaults() == (True, False)
    # `add_special_tokens` is the completion request's own field
    bare = load_side(SideSpec(source="vllm", path=str(MISTRAL_VLLM), add_special_tokens=False))
    assert bare.encode_all(["Hello"]) == [[22557]]
    # the one difference: vLLM refuses a prompt past max_model_len (32768 in Mistral 7B's config.json)
    (long,) = served.encode_all(["x" * 200000])
    assert isinstance(long, str) and "maximum context length is 32768 tokens" in long
    assert isinstance(hf.encode_all(["x" * 200000])[0], list)
