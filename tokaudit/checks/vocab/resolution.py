"""vocab-check: which tokenizer a stack really loads. AutoTokenizer's class under the installed
transformers, whether mistral-common being installed changes it, and vLLM's `--tokenizer-mode auto`
(predicted for a transformers serving side; read from vLLM itself for a `vllm` side).

The "would change" answers follow the routing rules of the transformers and vLLM releases named in
docs/codes.md (TA217, TA218); they read the files in the folder, never the network.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from tokaudit.checks.vocab.view import View
from tokaudit.codes import finding
from tokaudit.findings import Finding
from tokaudit.sources.capabilities import Resolution, ResolutionReporter

#: model types transformers hands to its mistral-common backend when mistral-common is installed
MISTRAL_TYPES = frozenset(
    {"mistral", "mixtral", "ministral", "ministral3", "mistral3", "mistral_large4", "pixtral", "voxtral"}
)


def _mistral_common_installed() -> bool:
    return importlib.util.find_spec("mistral_common") is not None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # AutoTokenizer itself would have failed on an unreadable file; loading succeeded
    return data if isinstance(data, dict) else {}


def _mistral_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name == "tekken.json" or p.name.startswith("tokenizer.model.v"))


def mistral_routing(version: str, folder: Path) -> tuple[bool, str, str]:
    """(routed, class with mistral-common, class without): does AutoTokenizer of this transformers
    version hand `folder` to its mistral-common backend when mistral-common is installed?"""
    model_type = _read(folder / "config.json").get("model_type")
    if int(version.split(".")[0]) >= 5:  # resolve_mistral_format: a mistral model type and tekken.json
        routed = model_type in MISTRAL_TYPES and (folder / "tekken.json").is_file()
        return routed, "MistralCommonBackend", "TokenizersBackend"
    # 4.x: the model type's mapping, which applies when tokenizer_config.json names no class
    routed = model_type in MISTRAL_TYPES and not _read(folder / "tokenizer_config.json").get("tokenizer_class")
    return routed, "MistralCommonTokenizer", "LlamaTokenizerFast"


def autotokenizer(view: View, resolved: Resolution) -> tuple[dict[str, Any], list[Finding]]:
    """What AutoTokenizer resolved for an hf / hf-slow side, and whether mistral-common decides it."""
    cls, backend, version = resolved.cls, resolved.backend, resolved.version
    installed = _mistral_common_installed()
    facts: dict[str, Any] = {
        "class": cls,
        "backend": backend,
        "transformers": version,
        "mistral_common_installed": installed,
    }
    folder = view.tok.files_dir()
    if folder is None:
        facts["with_mistral_common"] = "unknown: not a local folder"
        return facts, []
    routed, with_mc, without_mc = mistral_routing(version, folder)
    if backend == "mistral-common":
        other = without_mc
        facts["with_mistral_common"] = f"{cls} because mistral-common is installed; {without_mc} without it"
    elif routed and not installed:
        other = with_mc
        facts["with_mistral_common"] = f"would change to {with_mc} with mistral-common installed"
    else:
        facts["with_mistral_common"] = "no change"
        return facts, []
    made = finding(
        "TA217",
        f"AutoTokenizer on {view.name} resolves to {cls} ({backend}) under transformers {version}, and to "
        f"{other} {'without' if installed else 'with'} mistral-common installed",
        where=view.name,
        detail={"side": view.name, "folder": str(folder), **facts},
    )
    return facts, [made]


def vllm_auto(serving: View) -> tuple[str, list[Finding]]:
    """The mode vLLM's `--tokenizer-mode auto` picks for the serving folder, and TA218 if it is not the
    tokenizer audited here."""
    folder = serving.tok.files_dir()
    if folder is None:
        return "unknown: the serving side is not a local folder", []
    files = _mistral_files(folder)
    installed = _mistral_common_installed()
    if not files:
        return "hf (no tekken.json or tokenizer.model.v* in the folder)", []
    if not installed:
        return f"hf (the folder ships {', '.join(files)}, but mistral-common is not installed)", []
    consolidated = any(folder.glob("consolidated*.safetensors"))
    statement = f"mistral: the folder ships {', '.join(files)} and mistral-common is installed" + (
        "" if consolidated else " (vLLM releases that also ask for consolidated*.safetensors pick hf)"
    )
    if serving.tok.source == "mistral-common":
        return statement, []
    made = finding(
        "TA218",
        f"vLLM's --tokenizer-mode auto would serve this model with mistral-common ({', '.join(files)} "
        f"in the folder), not the {serving.tok.source} tokenizer audited as serving",
        where=str(folder),
        detail={"folder": str(folder), "files": files, "consolidated_safetensors": consolidated},
    )
    return statement, [made]


def vllm_measured(view: View, resolved: Resolution) -> tuple[str, list[Finding]]:
    """What a `vllm` side's vLLM resolved (a fact, read from vLLM), and TA222 when `auto` passed over the
    mistral-common files in the folder."""
    asked = getattr(view.tok.spec, "tokenizer_mode", None) or "auto"
    statement = (
        f"{resolved.mode}: vLLM {resolved.version} with --tokenizer-mode {asked} resolved {resolved.cls} "
        f"({resolved.backend}), measured"
    )
    folder = view.tok.files_dir()
    files = _mistral_files(folder) if folder is not None else []
    if asked != "auto" or resolved.mode != "hf" or not files or folder is None:
        return statement, []
    consolidated = any(folder.glob("consolidated*.safetensors"))
    made = finding(
        "TA222",
        f"vLLM {resolved.version} with --tokenizer-mode auto serves {folder} with the HF tokenizer ({resolved.cls}), "
        f"not mistral-common, although the folder ships {', '.join(files)}"
        + ("" if consolidated else " (no consolidated*.safetensors in it)"),
        where=view.name,
        detail={
            "side": view.name,
            "folder": str(folder),
            "files": files,
            "consolidated_safetensors": consolidated,
            "resolved_mode": resolved.mode,
            "class": resolved.cls,
            "vllm": resolved.version,
        },
    )
    return statement, [made]


def resolution(views: list[View]) -> tuple[dict[str, Any], list[Finding]]:
    summary: dict[str, Any] = {}
    out: list[Finding] = []
    measured = False
    for v in views:
        # the routing rules below are transformers' (AutoTokenizer's), by its version
        resolved = v.tok.resolution() if isinstance(v.tok, ResolutionReporter) else None
        if resolved is not None and resolved.library == "transformers":
            facts, found = autotokenizer(v, resolved)
            summary[f"{v.name}_autotokenizer"] = (
                f"{facts['class']} ({facts['backend']}), transformers {facts['transformers']}; "
                f"mistral-common {'installed' if facts['mistral_common_installed'] else 'not installed'}: "
                f"{facts['with_mistral_common']}"
            )
            out += found
        elif resolved is not None and resolved.library == "vllm":
            statement, found = vllm_measured(v, resolved)
            summary[f"{v.name}_vllm_tokenizer_mode"] = statement
            out += found
            measured = measured or v is views[-1]
    if measured:  # the serving side is vLLM itself: what it resolved replaces the prediction below
        return summary, out
    statement, found = vllm_auto(views[-1])
    summary["vllm_tokenizer_mode_auto"] = statement
    return summary, out + found
