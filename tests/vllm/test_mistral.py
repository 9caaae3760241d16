"""Done when 3: a tekken folder (mistral-common's tekken_240911.json, Mistral Nemo's config.json, no weights).
`tokenizer_mode: mistral`: vLLM's chat path against mistral-common's encode_chat_completion; `auto`: vLLM
serves the folder with the HF tokenizer, a measured resolution finding (TA222). Measured with vLLM 0.32.0."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import mistral_data, side
from tests.vllm.conftest import VLLM, run_json
from tokaudit.config import SideSpec
from tokaudit.sources.capabilities import ResolutionReporter
from tokaudit.sources.sides import load_side

pytestmark = VLLM


def sides(cfg, folder: Path, mode: str) -> Path:  # type: ignore[no-untyped-def]
    return cfg(
        {
            "training": side("mistral-common", mistral_data("tekken_240911.json")),
            "serving": side("vllm", folder, tokenizer_mode=mode),
        }
    )


def test_mistral_mode_prompts_match_encode_chat_completion(cfg, tekken_folder: Path) -> None:
    code, report, err = run_json("template-check", sides(cfg, tekken_folder, "mistral"))
    assert "MistralRenderer" in report["header"]["sides"]["serving"]["backend"], err
    summary = report["summary"]
    # every prompt (messages + generation prompt) vLLM builds is mistral-common's, id for id
    assert summary["renderings_compared"] == 12 and summary["renderings_differing"] == 0
    # whole conversations that end with the answer are training data: vLLM's mistral path (mistral-common in
    # test mode) refuses them, as a server serves prompts
    assert code == 1 and {f["code"] for f in report["findings"]} == {"TA309", "TA310"}
    (refused,) = [f for f in report["findings"] if f["code"] == "TA309"]
    assert refused["detail"]["side"] == "serving" and refused["count"] == 6
    assert (
        "Expected last role User or Tool (or Assistant with prefix) for serving but got assistant"
        in (refused["detail"]["error"])
    )
    # TA310 is mistral-common's own encoder on the training side (it moves the system prompt to the last user
    # turn), not vLLM's: vLLM's side renders no whole conversation to cut
    assert all(
        f["message"].startswith("the training template is not prefix-preserving")
        for f in report["findings"]
        if f["code"] == "TA310"
    )
    assert summary["prefix_preserving"] == {"training": False, "serving": None}


def test_auto_mode_without_weights_is_served_with_the_hf_tokenizer(cfg, tekken_folder: Path) -> None:
    code, report, _ = run_json("vocab-check", sides(cfg, tekken_folder, "auto"))
    assert code == 1
    (made,) = [f for f in report["findings"] if f["code"] == "TA222"]
    assert (
        "serves" in made["message"]
        and "with the HF tokenizer (TokenizersBackend), not mistral-common" in (made["message"])
    )
    assert made["detail"]["files"] == ["tekken.json"] and made["detail"]["consolidated_safetensors"] is False
    assert report["summary"]["serving_vllm_tokenizer_mode"].startswith("hf: vLLM 0.32.0 with --tokenizer-mode auto")
    assert "vllm_tokenizer_mode_auto" not in report["summary"] and "TA218" not in {
        f["code"] for f in report["findings"]
    }
    # the HF conversion of tekken.json knows no BOS / EOS: vocab-check says so against mistral-common
    roles = {f["message"].split()[0] for f in report["findings"] if f["code"] == "TA203"}
    assert {"bos", "eos"} <= roles


def test_resolution_is_read_from_vllm(tekken_folder: Path) -> None:
    for mode, cls, backend in (
        ("mistral", "MistralCommonBackend", "mistral-common"),
        ("auto", "TokenizersBackend", "tokenizers (Rust)"),
    ):
        tok = load_side(SideSpec(source="vllm", path=str(tekken_folder), tokenizer_mode=mode))
        assert isinstance(tok, ResolutionReporter)
        got = tok.resolution()
        assert (got.library, got.cls, got.backend, got.mode) == (
            "vllm",
            cls,
            backend,
            "hf" if mode == "auto" else "mistral",
        )


def test_auto_picks_mistral_common_once_the_folder_holds_consolidated_weights(
    tmp_path: Path, tekken_folder: Path
) -> None:
    import json
    import struct

    folder = tmp_path / "with-weights"
    shutil.copytree(tekken_folder, folder)
    # a safetensors file with no tensors: vLLM 0.32 looks for consolidated*.safetensors by name and reads its header
    header = json.dumps({"__metadata__": {"format": "pt"}}).encode()
    header += b" " * (-len(header) % 8)
    (folder / "consolidated.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    tok = load_side(SideSpec(source="vllm", path=str(folder), tokenizer_mode="auto"))
    assert isinstance(tok, ResolutionReporter)
    assert (tok.resolution().mode, tok.resolution().backend) == ("mistral", "mistral-common")
