"""vocab-check: will a server load the export the way training saw the base? (TA230-TA234)

After fine-tuning, the folder `save_pretrained` wrote is what serving loads. The files are compared
as a loader reads them, not through the tokenizer this run loaded: a class name older transformers
cannot import, a chat template in a file some loaders never read, tokenizer_config.json settings that
changed between the base (training's folder) and the export (serving's), generation_config.json left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tokaudit.checks.vocab.view import View
from tokaudit.codes import finding
from tokaudit.findings import Finding

#: tokenizer classes transformers 5 writes into tokenizer_config.json that transformers 4.x has no class
#: for (checked against 4.57.6: AutoTokenizer raises "Tokenizer class ... does not exist"). 5.x writes
#: `TokenizersBackend` whenever the class it loaded resolved to the generic backend.
NEW_IN_5 = ("TokenizersBackend", "SentencePieceBackend", "PythonBackend", "MistralCommonBackend")
#: where a loader finds a chat template besides tokenizer_config.json's `chat_template`
TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
#: tokenizer_config.json keys whose change between base and export changes what a loader builds
FLAGS = ("add_bos_token", "add_eos_token")
#: what the classes that read those flags (LlamaTokenizer / LlamaTokenizerFast and kin) assume when a file is silent
FLAG_DEFAULTS = {"add_bos_token": True, "add_eos_token": False}
ROLE_KEYS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")


def _config(folder: Path) -> dict[str, Any] | None:
    path = folder / "tokenizer_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # absent or unreadable: the side's own load already said so, or has no such file
    return data if isinstance(data, dict) else None


def _folders(views: list[View]) -> dict[str, tuple[Path, list[str]]]:
    """Each distinct folder the sides read, with the sides that read it."""
    out: dict[str, tuple[Path, list[str]]] = {}
    for v in views:
        folder = v.tok.files_dir()
        if folder is not None:
            out.setdefault(str(folder.resolve()), (folder, []))[1].append(v.name)
    return out


def _class_findings(folder: Path, names: list[str], config: dict[str, Any]) -> list[Finding]:
    cls = config.get("tokenizer_class")
    if cls not in NEW_IN_5:
        return []
    return [
        finding(
            "TA230",
            f"{folder.name}/tokenizer_config.json names tokenizer_class {cls!r} (read by {' and '.join(names)}), "
            "which transformers < 5 cannot import: a server pinned to transformers 4.x fails to load it",
            where=str(folder / "tokenizer_config.json"),
            detail={"file": str(folder / "tokenizer_config.json"), "tokenizer_class": cls, "sides": names},
        )
    ]


def _template_places(folder: Path, config: dict[str, Any] | None) -> list[str]:
    places = [name for name in TEMPLATE_FILES if (folder / name).is_file()]
    if config is not None and config.get("chat_template"):
        places.insert(0, "tokenizer_config.json")
    return places


def _template_findings(folder: Path, names: list[str], places: list[str]) -> list[Finding]:
    if not places or "tokenizer_config.json" in places:
        return []
    return [
        finding(
            "TA231",
            f"{folder.name}'s chat template is only in {' and '.join(places)} (read by {' and '.join(names)}): "
            "a server or transformers version that reads tokenizer_config.json only has no chat template",
            where=str(folder / places[0]),
            detail={"folder": str(folder), "files": places, "sides": names},
        )
    ]


def _role(value: Any) -> Any:
    return value.get("content") if isinstance(value, dict) else value


def _added(folder: Path, config: dict[str, Any]) -> dict[str, tuple[int, bool]] | None:
    """content -> (id, special), from tokenizer.json's added_tokens (what a fast loader uses), else the config."""
    path = folder / "tokenizer.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(t["content"]): (int(t["id"]), bool(t.get("special"))) for t in data.get("added_tokens", [])}
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            return None
    decoder = config.get("added_tokens_decoder")
    if not isinstance(decoder, dict):
        return None
    return {str(t.get("content")): (int(i), bool(t.get("special"))) for i, t in decoder.items() if isinstance(t, dict)}


def _changes(base: Path, base_cfg: dict[str, Any], export: Path, export_cfg: dict[str, Any]) -> list[str]:
    out = []
    for key in FLAGS:
        then, now = base_cfg.get(key), export_cfg.get(key)
        if key not in base_cfg or then == now:
            continue
        # Unset in the export, a loader falls back to its class default: a change only if the base said otherwise
        if key not in export_cfg and then == FLAG_DEFAULTS[key]:
            continue
        out.append(
            f"{key} {json.dumps(then)} → {json.dumps(now) if key in export_cfg else '(unset: the loader default)'}"
        )
    for key in ROLE_KEYS:
        then, now = _role(base_cfg.get(key)), _role(export_cfg.get(key))
        if (key in base_cfg or key in export_cfg) and then != now:
            out.append(f"{key} {then!r} → {now!r}")
    added_then, added_now = _added(base, base_cfg), _added(export, export_cfg)
    if added_then is not None and added_now is not None and added_then != added_now:
        gone = sorted(set(added_then) - set(added_now))
        new = sorted(set(added_now) - set(added_then))
        moved = sorted(t for t in set(added_then) & set(added_now) if added_then[t] != added_now[t])
        parts = [
            f"{label} {', '.join(map(repr, items[:5]))}"
            for label, items in (("removed", gone), ("added", new), ("changed id or special flag", moved))
            if items
        ]
        out.append("added tokens: " + "; ".join(parts))
    return out


def export_findings(training: View, serving: View) -> list[Finding]:
    """TA230-TA234 over the sides' folders: training's is the base, serving's the export it loads."""
    folders = _folders([training, serving])
    out: list[Finding] = []
    configs = {key: _config(folder) for key, (folder, _) in folders.items()}
    places = {key: _template_places(folder, configs[key]) for key, (folder, _) in folders.items()}
    for key, (folder, names) in folders.items():
        if configs[key] is not None:
            out += _class_findings(folder, names, configs[key])  # type: ignore[arg-type]
        out += _template_findings(folder, names, places[key])
    if len(folders) != 2:
        return out  # one folder (or none): there is no base and export to compare
    (base_key, (base, _)), (export_key, (export, _)) = sorted(
        folders.items(), key=lambda item: 0 if training.name in item[1][1] else 1
    )
    if places[base_key] and places[export_key] and set(places[base_key]) != set(places[export_key]):
        out.append(
            finding(
                "TA232",
                f"the chat template moved: {base.name} keeps it in {' and '.join(places[base_key])}, "
                f"{export.name} in {' and '.join(places[export_key])}",
                where=str(export),
                detail={
                    "base": {"folder": str(base), "files": places[base_key]},
                    "export": {"folder": str(export), "files": places[export_key]},
                },
            )
        )
    base_cfg, export_cfg = configs[base_key], configs[export_key]
    if base_cfg is not None and export_cfg is not None:
        changes = _changes(base, base_cfg, export, export_cfg)
        if changes:
            out.append(
                finding(
                    "TA233",
                    f"tokenizer_config.json changed between {base.name} (training) and {export.name} (serving): "
                    + "; ".join(changes),
                    where=str(export / "tokenizer_config.json"),
                    detail={"base": str(base), "export": str(export), "changes": changes},
                )
            )
    if (base / "generation_config.json").is_file() and not (export / "generation_config.json").is_file():
        out.append(
            finding(
                "TA234",
                f"{base.name} has generation_config.json and {export.name} (serving) does not: the server "
                "falls back to config.json's eos_token_id and its own sampling defaults",
                where=str(export),
                detail={"base": str(base / "generation_config.json"), "export": str(export)},
            )
        )
    return out
