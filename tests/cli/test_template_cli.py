"""End-to-end: `tokaudit template-check` on real tokenizers. Exit code first, then the finding codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES, MISTRAL_HF, ROOT, invoke, side

MISTRAL_JINJA = str(FIXTURES / "templates" / "mistral-instruct.jinja")


def template_json(config: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = invoke("template-check", config, "--format", "json", *extra)
    out = result.stdout
    return result.exit_code, (json.loads(out) if out.strip().startswith("{") else {}), result.stderr


def codes(report: dict[str, Any]) -> set[str]:
    return {f["code"] for f in report["findings"]}


# Done when 1: the shipped example config (mistral-common vs the HF-style template) fails on the [/INST] skew.
def test_example_config_mistral_instruct() -> None:
    code, report, _ = template_json(ROOT / "configs" / "mistral-instruct.yaml")
    assert code == 1
    assert {"TA301", "TA307", "TA309"} <= codes(report)
    first = next(f for f in report["findings"] if f["sample"] == "mistral.jsonl:1 (whole conversation)")
    assert first["code"] == "TA301" and "[/INST]▶␣The" in first["message"] and "[/INST]▶The" in first["message"]
    assert set(report["summary"]) >= {"conversations", "renderings_compared", "renderings_differing"}
    table = invoke("template-check", ROOT / "configs" / "mistral-instruct.yaml")
    assert table.exit_code == 1 and "TA301 template-text" in table.stdout


def test_one_finding_per_distinct_problem_with_examples() -> None:
    code, report, _ = template_json(ROOT / "configs" / "mistral-instruct.yaml", "--examples", "2")
    assert code == 1
    inst = next(f for f in report["findings"] if f["signature"] == "template-text: ⟨[/INST]⟩▶␣ ≠ ⟨[/INST]⟩▶a")
    assert inst["count"] == 8 and inst["samples"] == [f"mistral.jsonl:{n} (whole conversation)" for n in (1, 2)]
    assert len({(f["code"], f["signature"]) for f in report["findings"]}) == len(report["findings"])


# Done when 2: {{ bos_token }} in the template and a tokenizer that adds BOS.
def test_double_bos_exit_1(cfg) -> None:
    path = cfg(
        {
            "training": side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA),
            "serving": side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA),
        }
    )
    code, report, _ = template_json(path)
    assert code == 1
    assert [f["code"] for f in report["findings"] if f["severity"] == "error"] == ["TA304"]


# Done when 3: the same template on both sides, tokenized alike.
def test_same_template_exit_0(cfg) -> None:
    same = side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA, chat_add_special_tokens=False)
    path = cfg({"training": same, "serving": same, "conversations": str(FIXTURES / "chats" / "mistral.jsonl")})
    code, report, _ = template_json(path)
    assert code == 0
    assert not [f for f in report["findings"] if f["severity"] == "error"]
    assert report["summary"]["conversations"] >= 9 and report["summary"]["renderings_differing"] == 0


# Done when 4: a syntax error is one line naming the file and line; exit 2, no traceback.
def test_syntax_error_exit_2(cfg, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jinja"
    broken.write_text("{{ bos_token }}\n{% for m in messages %}{{ m.content }\n{% endfor %}\n")
    path = cfg(
        {
            "training": side("hf", MISTRAL_HF, chat_template=str(broken)),
            "serving": side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA),
        }
    )
    code, _, stderr = template_json(path)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert f"training.chat_template: {broken}:2: template syntax error" in stderr


def test_malformed_conversations_file_exit_2(cfg, tmp_path: Path) -> None:
    chats = tmp_path / "chats.jsonl"
    chats.write_text('{"messages": "nope"}\n{not json}\n')
    same = side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA)
    code, _, stderr = template_json(cfg({"training": same, "serving": same, "conversations": str(chats)}))
    assert code == 2 and "chats.jsonl yielded no conversations" in stderr and "first: chats.jsonl:1:" in stderr


def test_malformed_line_is_listed_and_the_rest_checked(cfg, tmp_path: Path) -> None:
    chats = tmp_path / "chats.jsonl"
    chats.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n{oops\n'
    )
    same = side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA, chat_add_special_tokens=False)
    code, report, _ = template_json(cfg({"training": same, "serving": same, "conversations": str(chats)}))
    assert code == 0
    (skip,) = [s for s in report["skipped"] if s["where"].startswith("chats.jsonl")]
    assert skip["where"] == "chats.jsonl:2" and skip["reason"].startswith("not JSON")


def test_nothing_checked_exit_2(cfg, tmp_path: Path) -> None:
    never = tmp_path / "never.jinja"
    never.write_text("{{ raise_exception('this template renders nothing') }}")
    both = side("hf", MISTRAL_HF, chat_template=str(never))
    code, _, stderr = template_json(cfg({"training": both, "serving": both}))
    assert code == 2 and "no conversation could be checked" in stderr and "this template renders nothing" in stderr


def test_missing_chat_template_exit_2(cfg) -> None:
    path = cfg({"training": side("hf", MISTRAL_HF), "serving": side("hf", MISTRAL_HF, chat_template=MISTRAL_JINJA)})
    code, _, stderr = template_json(path)
    assert code == 2 and "training.chat_template: not set, and the tokenizer" in stderr and "no chat_template" in stderr


CHATS = FIXTURES / "chats" / "mistral.jsonl"


def _mistral_instruct(cfg, conversations: Path) -> Path:  # type: ignore[no-untyped-def]
    config = (ROOT / "configs" / "mistral-instruct.yaml").read_text().replace("../", f"{ROOT}/")
    return cfg(config.replace(str(CHATS), str(conversations)))


def _write_formats(tmp_path: Path) -> dict[str, Path]:
    import gzip

    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = CHATS.read_bytes()
    rows = [json.loads(line) for line in raw.decode().splitlines() if line]
    out = {"jsonl": tmp_path / "chats.jsonl", "jsonl.gz": tmp_path / "chats.jsonl.gz"}
    out["jsonl"].write_bytes(raw)
    out["jsonl.gz"].write_bytes(gzip.compress(raw))
    out["parquet"] = tmp_path / "chats.parquet"
    pq.write_table(pa.Table.from_pylist(rows), out["parquet"])  # `messages`: a list of structs
    out["save_to_disk"] = tmp_path / "chats-ds"
    datasets.Dataset.from_list(rows).save_to_disk(str(out["save_to_disk"]), num_shards=2)
    assert len(list(out["save_to_disk"].glob("*.arrow"))) > 1  # rows are numbered across the data files
    return out


def test_every_conversations_format_gives_the_same_report(cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reports = {}
    for name, path in _write_formats(tmp_path).items():
        code, report, stderr = template_json(_mistral_instruct(cfg, path))
        assert code == 1, (name, stderr)
        # the same problems, counts, evidence and summary; only the file's name in locations differs
        reports[name] = json.loads(json.dumps(report).replace(f'"{path.name}:', '"CHATS:'))
        del reports[name]["header"]
    first = reports["jsonl"]
    assert any("CHATS:4 (whole conversation)" in f["samples"] for f in first["findings"])
    for name, report in reports.items():
        assert report == first, name


def test_a_corrupt_gz_conversations_file_is_exit_2(cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import gzip
    import hashlib

    def chat(k: int) -> str:
        noise = hashlib.sha256(str(k).encode()).hexdigest() * 8  # compresses badly: the cut falls mid-file
        return json.dumps({"messages": [{"role": "user", "content": noise}, {"role": "assistant", "content": "ok"}]})

    data = gzip.compress("".join(chat(k) + "\n" for k in range(400)).encode())
    bad = tmp_path / "chats.jsonl.gz"
    bad.write_bytes(data[: len(data) // 2])
    code, _, stderr = template_json(_mistral_instruct(cfg, bad))
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    # the conversations before the cut were checked as they were read; the cut is named with its line
    assert f"conversations: {bad}: corrupt gzip data after line " in stderr


def test_a_folder_that_is_not_a_dataset_is_exit_2(cfg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "chats"
    folder.mkdir()
    code, _, stderr = template_json(_mistral_instruct(cfg, folder))
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert f"conversations: {folder} is a folder but not a `datasets` save_to_disk folder" in stderr
    code, _, stderr = template_json(_mistral_instruct(cfg, tmp_path / "missing.jsonl"))
    assert code == 2 and f"conversations: no such file: {tmp_path / 'missing.jsonl'}" in stderr
