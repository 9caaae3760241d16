"""`tokaudit init`, step one: what a model folder, a GGUF or a cached Hub id holds.

Only files are read (JSON, the first bytes of a model file, a GGUF's metadata): no tokenizer is built,
so `init` is quick and works where a library is missing. What is absent is recorded, not raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokaudit.errors import InputError
from tokaudit.hub import Pinned, is_hub_id, pin

#: files a server builds a tokenizer from (sources/hf.py TOKENIZER_FILES, plus the raw libraries' own)
RAW_FILES = ("tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "tekken.json")
#: a tiktoken BPE file is lines of `<base64 bytes> <rank>` (Llama 3 ships one named tokenizer.model)
_TIKTOKEN_LINE = re.compile(rb"^[A-Za-z0-9+/]+=* \d+\r?$")
_MISTRAL_MODEL = re.compile(r"^tokenizer\.model\.v\d+$")


@dataclass(frozen=True)
class Template:
    """One chat template the files ship: where it is, and its name (`default` unless named)."""

    where: str
    name: str = "default"


@dataclass
class Found:
    """What `inspect` saw. Paths are absolute; `notes` are the missing pieces, one line each."""

    target: str
    kind: str  # "folder", "gguf" or "hub"
    folder: Path | None = None
    gguf: Path | None = None
    hub: Pinned | None = None
    name: str = ""
    files: list[str] = field(default_factory=list)
    tokenizer_json: Path | None = None
    tokenizer_config: dict[str, Any] = field(default_factory=dict)
    sentencepiece: Path | None = None
    tiktoken: Path | None = None
    mistral: Path | None = None
    templates: list[Template] = field(default_factory=list)
    generation_config: dict[str, Any] | None = None
    vocab_size: int | None = None
    vocab_where: str = ""
    gguf_meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def has_hf_files(self) -> bool:
        """Whether transformers' AutoTokenizer has something to build from (sources/hf.py's list)."""
        from tokaudit.sources.hf import TOKENIZER_FILES

        return self.folder is not None and any((self.folder / f).is_file() for f in TOKENIZER_FILES)


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON ({str(exc).splitlines()[0]})") from exc
    return data if isinstance(data, dict) else None


def is_tiktoken_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            first = fh.readline(4096)
    except OSError:
        return False
    return bool(_TIKTOKEN_LINE.match(first.rstrip(b"\n")))


def inspect(target: str, revision: str | None = None) -> Found:
    """Read TARGET (a folder, a .gguf, or a Hub id in the local cache). InputError when nothing is there."""
    path = Path(target).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        if revision:
            raise InputError(f"--revision applies to a Hub id; {target} is a local file")
        return _gguf(Found(target, "gguf", gguf=path.resolve(), name=path.stem))
    if path.is_file():  # a tokenizer file: its folder is the model
        path = path.parent
    if path.is_dir():
        if revision:
            raise InputError(f"--revision applies to a Hub id; {target} is a local folder")
        return _folder(Found(target, "folder", folder=path.resolve(), name=path.resolve().name))
    if is_hub_id(target):
        pinned = pin(target, revision)  # the local cache only: init never downloads
        return _folder(Found(target, "hub", folder=pinned.folder, hub=pinned, name=target))
    raise InputError(f"{target}: no such folder or file, and not a Hub id (org/name)")


def _gguf(found: Found) -> Found:
    from tokaudit.sources.gguf_file import read_gguf

    assert found.gguf is not None
    file = read_gguf(str(found.gguf))  # SourceError naming the file: not a GGUF, no tokenizer
    found.gguf_meta = file.metadata
    found.files = [found.gguf.name]
    found.name = str(file.metadata.get("general.name") or found.name)
    if file.metadata.get("tokenizer.chat_template"):
        found.templates.append(Template("the GGUF's tokenizer.chat_template"))
    for key in sorted(k for k in file.metadata if k.startswith("tokenizer.chat_template.")):
        found.templates.append(Template(f"the GGUF's {key}", key.rsplit(".", 1)[1]))
    facts = file.facts()
    rows = facts.vocab_size or facts.embedding_rows
    if rows:
        found.vocab_size = int(rows)
        found.vocab_where = f"{file.architecture}.vocab_size" if facts.vocab_size else "token_embd rows"
    else:
        found.notes.append(f"no embedding rows in {found.gguf.name} (a vocab-only GGUF): model.vocab_size left out")
    return found


def _folder(found: Found) -> Found:
    folder = found.folder
    assert folder is not None
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    found.files = names
    if (folder / "tokenizer.json").is_file():
        found.tokenizer_json = folder / "tokenizer.json"
    if (folder / "tokenizer_config.json").is_file():
        found.tokenizer_config = _json(folder / "tokenizer_config.json") or {}
    mistral = [n for n in names if n == "tekken.json" or _MISTRAL_MODEL.match(n)]
    if mistral:
        found.mistral = folder / mistral[0]
    tiktoken = [n for n in names if n.endswith(".tiktoken")]
    for name in ("tokenizer.model", "spiece.model", "sentencepiece.bpe.model"):
        if (folder / name).is_file():
            if is_tiktoken_file(folder / name):
                tiktoken.append(name)
            elif found.sentencepiece is None:
                found.sentencepiece = folder / name
    if tiktoken:
        found.tiktoken = folder / tiktoken[0]
    ggufs = [n for n in names if n.endswith(".gguf")]
    if ggufs:
        found.gguf = folder / ggufs[0]
    if not (found.tokenizer_json or found.tokenizer_config or found.mistral or found.tiktoken or found.sentencepiece):
        if found.gguf is not None:  # a folder holding a GGUF and nothing else: the GGUF is the model
            found.kind = "gguf"
            return _gguf(found)
        seen = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names else "nothing"
        raise InputError(
            f"{folder}: no tokenizer files (looked for tokenizer.json, tokenizer_config.json, tokenizer.model, "
            f"*.tiktoken, tekken.json, *.gguf; found {seen})"
        )
    _templates(found, folder)
    if (folder / "generation_config.json").is_file():
        found.generation_config = _json(folder / "generation_config.json") or {}
    else:
        found.notes.append("no generation_config.json: vocab-check cannot compare the stop tokens a server uses")
    _model_config(found, folder)
    return found


def _templates(found: Found, folder: Path) -> None:
    """Every place transformers (4.x and 5.x) keeps a chat template, in the order it reads them."""
    inline = found.tokenizer_config.get("chat_template")
    if isinstance(inline, str) and inline:
        found.templates.append(Template("tokenizer_config.json"))
    elif isinstance(inline, list):  # named templates, the saved form [{"name": ..., "template": ...}]
        for t in inline:
            if isinstance(t, dict):
                found.templates.append(Template("tokenizer_config.json", str(t.get("name"))))
    if (folder / "chat_template.jinja").is_file():
        found.templates.append(Template("chat_template.jinja"))
    if (folder / "chat_template.json").is_file():
        found.templates.append(Template("chat_template.json"))
    extra = folder / "additional_chat_templates"
    if extra.is_dir():
        for p in sorted(extra.glob("*.jinja")):
            found.templates.append(Template(f"additional_chat_templates/{p.name}", p.stem))
    if not found.templates:
        found.notes.append("no chat template: template-check does not run (add `chat_template:` to both sides)")


def _model_config(found: Found, folder: Path) -> None:
    path = folder / "config.json"
    if not path.is_file():
        found.notes.append("no config.json: model.vocab_size left out (set it to the model's embedding rows)")
        return
    data = _json(path) or {}
    key, value = "vocab_size", data.get("vocab_size")
    if value is None and isinstance(data.get("text_config"), dict):  # multimodal configs nest it
        key, value = "text_config.vocab_size", data["text_config"].get("vocab_size")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        found.vocab_size, found.vocab_where = value, f"config.json {key}"
    else:
        found.notes.append("config.json has no vocab_size: model.vocab_size left out")
    if found.kind == "folder" and isinstance(data.get("_name_or_path"), str) and is_hub_id(data["_name_or_path"]):
        found.name = data["_name_or_path"]
