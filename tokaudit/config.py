"""YAML config -> validated, frozen settings. Every error names the file and the key path."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from tokaudit.errors import ConfigError
from tokaudit.findings import Severity
from tokaudit.sources.registry import SOURCES
from tokaudit.usercode import REF_RE

SpecialText = Literal["parse", "literal", "raise"]
# A 40-hex commit pins a hub revision; anything else (main, v1.0) can move under you.
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
#: load-check: at most this many loads of each kind at once (a guard against a typo's 10000 processes)
MAX_LOADS = 256


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """The model whose tokenizer is audited."""

    name: StrictStr
    revision: StrictStr | None = None
    vocab_size: StrictInt | None = Field(default=None, gt=0)
    config: Path | None = None


class SideSpec(_Strict):
    """One tokenizer pathway: what a pipeline tokenizes with, and how."""

    source: StrictStr
    path: StrictStr | None = None
    #: run this side in another interpreter (a training image's, a serving image's): a worker tokaudit starts there
    python: StrictStr | None = None
    encoding: str | None = None
    pattern: str | None = None
    special_tokens: dict[StrictStr, StrictInt] | None = None
    revision: StrictStr | None = None
    trust_remote_code: StrictBool = False
    add_bos: StrictBool | None = None
    add_eos: StrictBool | None = None
    add_special_tokens: StrictBool | None = None
    special_text: SpecialText | None = None
    #: `source: dataset`: the record fields holding the text and the token ids stored for it
    text_field: StrictStr | None = None
    ids_field: StrictStr | None = None
    #: template-check / mask-check: a Jinja file, `tokenizer` (the side's own chat_template) or `mistral-common`
    chat_template: StrictStr | None = None
    #: how this side tokenizes a rendered chat; vLLM's chat path uses add_special_tokens=False
    chat_add_special_tokens: StrictBool | None = None
    #: `source: python`: the user's tokenizer (or a factory of one) as `module:attribute`, and the factory's kwargs
    object: StrictStr | None = None
    args: dict[StrictStr, Any] | None = None
    #: template-check / mask-check: the user's own chat formatter, `module:function` (instead of chat_template)
    chat_format: StrictStr | None = None
    #: `source: vllm`: vLLM's --tokenizer-mode (auto, hf, mistral, ...), passed through to vLLM as is
    tokenizer_mode: StrictStr | None = None
    _config_dir: Path | None = PrivateAttr(default=None)

    @property
    def config_dir(self) -> Path | None:
        """The folder of the config this side was read from: user code (`object`, `chat_format`) imports from it."""
        return self._config_dir

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r} (expected one of: {', '.join(SOURCES)})")
        return value


class CorpusEntry(_Strict):
    """A corpus: .txt (a sample per line), or .jsonl / .jsonl.gz / .jsonl.zst / .parquet / a `datasets`
    save_to_disk folder (a sample per record, from `field`)."""

    path: Path
    field: str | None = None
    limit: StrictInt | None = Field(default=None, gt=0)


class MaskSpec(_Strict):
    """mask-check: how the training pipeline builds its SFT loss mask."""

    strategy: Literal["fastchat", "per-turn", "prefix", "generation", "dataset"]
    dataset: Path | None = None
    max_length: StrictInt | None = Field(default=None, gt=0)
    train_on: list[StrictStr] | None = None


class LoadCheckSpec(_Strict):
    """load-check (also run by `check` when set): how many fresh loads of each `hf` side at once."""

    threads: StrictInt = Field(default=0, ge=0, le=MAX_LOADS)
    processes: StrictInt = Field(default=0, ge=0, le=MAX_LOADS)

    @model_validator(mode="after")
    def _some_loads(self) -> LoadCheckSpec:
        if self.threads == 0 and self.processes == 0:
            raise ValueError("set `threads` and/or `processes` above 0")
        return self


class DecodeSpec(_Strict):
    """rollout-check: how the trainer decodes sampled ids, where it decodes them."""

    skip_special_tokens: StrictBool = False


class RolloutsSpec(_Strict):
    """rollout-check: a rollout dump (a trajectory per record) and the record fields that hold each part."""

    path: Path
    #: the conversation as the trainer sees it (OpenAI format: content, reasoning_content, tool_calls, tool turns)
    messages: StrictStr | None = None
    #: the engine calls in order: [{prompt_ids, completion_ids, logprobs?}, ...]
    turns: StrictStr | None = None
    #: the trainer's row as written to disk, and 1 where it trains (with input_ids)
    input_ids: StrictStr | None = None
    loss_mask: StrictStr | None = None
    #: the conversation's tool schemas, passed to the chat template when the trainer re-renders
    tools: StrictStr | None = None
    decode: DecodeSpec = DecodeSpec()

    @model_validator(mode="after")
    def _something_to_check(self) -> RolloutsSpec:
        if self.turns is None and self.input_ids is None:
            raise ValueError("map `turns` (the engine's ids) and/or `input_ids` (the trainer's row)")
        if self.loss_mask is not None and self.input_ids is None:
            raise ValueError("`loss_mask` needs `input_ids` (the row it masks)")
        return self


class Settings(_Strict):
    """A whole validated config; paths are absolute (resolved against the config file)."""

    model: ModelSpec | None = None
    training: SideSpec
    serving: SideSpec
    corpus: list[CorpusEntry] = []
    builtin_corpus: StrictBool = True
    conversations: Path | None = None
    mask: MaskSpec | None = None
    load_check: LoadCheckSpec | None = None
    rollouts: RolloutsSpec | None = None
    fail_on: Severity = Severity.ERROR
    ignore: list[StrictStr] = []
    config_path: Path | None = None

    @field_validator("fail_on", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Severity:
        try:
            return Severity(value)
        except ValueError:
            raise ValueError(f"must be one of: error, warning, info (got {value!r})") from None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(err: Any) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    return f"{msg} (got {err.get('input')!r})" if "input" in err and not isinstance(err["input"], dict) else msg


def _normalise_corpus(raw: Any) -> Any:
    # A bare string is shorthand for {path: ...}.
    if isinstance(raw, list):
        return [{"path": item} if isinstance(item, str) else item for item in raw]
    return raw


def _resolve(base: Path, value: str | Path) -> Path:
    p = Path(value).expanduser()
    return Path(os.path.normpath(p if p.is_absolute() else (base / p)))


def load_config(path: str | Path) -> Settings:
    """Read and validate a config file. Raises ConfigError with `file: key: problem`."""
    cfg_path = Path(path)
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot read config: {exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{cfg_path}: YAML syntax error: {where}{problem}") from exc
    return settings_from_dict(raw, cfg_path)


def settings_from_dict(raw: Any, cfg_path: Path) -> Settings:
    """Validate an already-parsed config; relative paths resolve against `cfg_path`'s folder."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: expected a mapping at the top level, got {type(raw).__name__}")
    raw = dict(raw)
    if "corpus" in raw:
        raw["corpus"] = _normalise_corpus(raw["corpus"])
    raw["config_path"] = cfg_path
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{cfg_path}: {_loc(first['loc'])}: {_describe(first)}{more}") from None
    _check_user_code(settings, cfg_path)
    _check_vllm(settings, cfg_path)
    _check_load_check(settings, cfg_path)
    return _check_dataset_sides(_resolve_paths(settings, cfg_path), cfg_path)


#: keys tokaudit would apply around a library's encode; a `vllm` side is vLLM's own request path, without them
NOT_FOR_VLLM = ("encoding", "pattern", "special_tokens", "add_bos", "add_eos")


def _check_vllm(s: Settings, cfg_path: Path) -> None:
    """`tokenizer_mode` belongs to a `vllm` side; a `vllm` side takes vLLM's settings only."""
    for name in ("training", "serving"):
        side: SideSpec = getattr(s, name)
        if side.source != "vllm":
            if side.tokenizer_mode is not None:
                raise ConfigError(f"{cfg_path}: {name}.tokenizer_mode: only a `source: vllm` side has `tokenizer_mode`")
            continue
        if side.path is None:
            raise ConfigError(f"{cfg_path}: {name}.path: `source: vllm` needs `path` (a model folder or hub id)")
        for key in NOT_FOR_VLLM:
            if key in side.model_fields_set:
                raise ConfigError(
                    f"{cfg_path}: {name}.{key}: not a vLLM setting; a `vllm` side encodes as vLLM's completion "
                    "path does (`add_special_tokens` and `chat_add_special_tokens` are its request fields)"
                )


#: the sources load-check can load afresh (they implement sources.capabilities.Reloadable)
RELOADABLE = ("hf", "hf-slow")


def _check_load_check(s: Settings, cfg_path: Path) -> None:
    """`load_check:` needs a side to load: say so before `check` spends time on the other checks."""
    if s.load_check is not None and not {s.training.source, s.serving.source} & set(RELOADABLE):
        raise ConfigError(
            f"{cfg_path}: load_check: load-check loads `hf` and `hf-slow` sides, and this config has none "
            f"(training: {s.training.source}, serving: {s.serving.source})"
        )


#: keys that tokaudit applies around a library's encode; a `python` side's encode(text) is called as is
NOT_FOR_PYTHON = (
    "path",
    "encoding",
    "pattern",
    "special_tokens",
    "revision",
    "trust_remote_code",
    "add_bos",
    "add_eos",
    "add_special_tokens",
    "special_text",
    "chat_add_special_tokens",
)


def _check_user_code(s: Settings, cfg_path: Path) -> None:
    """`object` / `args` (source: python) and `chat_format`; records the config's folder for their imports."""
    for name in ("training", "serving"):
        side: SideSpec = getattr(s, name)
        side._config_dir = cfg_path.parent.resolve()
        if side.source == "python":
            if side.object is None:
                raise ConfigError(f"{cfg_path}: {name}.object: `source: python` needs `object` (module:attribute)")
            if not REF_RE.match(side.object):
                raise ConfigError(f"{cfg_path}: {name}.object: expected `module:attribute` (got {side.object!r})")
            for key in NOT_FOR_PYTHON:
                if key in side.model_fields_set:
                    raise ConfigError(
                        f"{cfg_path}: {name}.{key}: not used by `source: python`, which calls the object's "
                        "encode(text) as your pipeline does (do this in your own code)"
                    )
        else:
            for key in ("object", "args"):
                if getattr(side, key) is not None:
                    raise ConfigError(f"{cfg_path}: {name}.{key}: only a `source: python` side has `{key}`")
        if side.chat_format is not None:
            if side.chat_template is not None:
                raise ConfigError(f"{cfg_path}: {name}.chat_format: set `chat_template` or `chat_format`, not both")
            if not REF_RE.match(side.chat_format):
                raise ConfigError(
                    f"{cfg_path}: {name}.chat_format: expected `module:function` (got {side.chat_format!r})"
                )


def _check_dataset_sides(s: Settings, cfg_path: Path) -> Settings:
    """`source: dataset` (stored token ids) needs its file and both fields, and is the corpus itself."""
    datasets = [name for name in ("training", "serving") if getattr(s, name).source == "dataset"]
    for name in ("training", "serving"):
        side: SideSpec = getattr(s, name)
        if name in datasets:
            for key in ("path", "text_field", "ids_field"):
                if getattr(side, key) is None:
                    raise ConfigError(f"{cfg_path}: {name}.{key}: `source: dataset` needs `{key}`")
        else:
            for key in ("text_field", "ids_field"):
                if getattr(side, key) is not None:
                    raise ConfigError(f"{cfg_path}: {name}.{key}: only a `source: dataset` side has stored fields")
    if len(datasets) == 2:
        raise ConfigError(f"{cfg_path}: serving.source: one side must be a tokenizer to compare the stored ids with")
    if datasets and s.corpus:
        raise ConfigError(
            f"{cfg_path}: corpus: not used with `{datasets[0]}.source: dataset` (the dataset is the corpus): drop it"
        )
    return s


def _interpreter(base: Path, side: SideSpec, name: str, cfg_path: Path) -> str:
    """`python:` as an absolute path, not resolved (a venv's python is a symlink to the base interpreter, which
    has no venv); a bare name (`python3.11`) is looked up on PATH."""
    value = str(side.python)
    if side.source == "dataset":
        raise ConfigError(
            f"{cfg_path}: {name}.python: a `source: dataset` side only reads stored ids; nothing runs there"
        )
    resolved = _resolve(base, value)
    if resolved.is_file():
        return str(resolved)
    found = shutil.which(value) if os.sep not in value and "/" not in value else None
    if found is None:
        raise ConfigError(f"{cfg_path}: {name}.python: no such interpreter: {resolved}")
    return os.path.abspath(found)


def _resolve_paths(s: Settings, cfg_path: Path) -> Settings:
    base = cfg_path.parent
    sides = {}
    for name in ("training", "serving"):
        side: SideSpec = getattr(s, name)
        if side.path is None:
            sides[name] = side
            continue
        resolved = _resolve(base, side.path)
        if resolved.exists():
            sides[name] = side.model_copy(update={"path": str(resolved)})
        elif side.source in ("hf", "vllm") and HUB_ID_RE.match(side.path) and not side.path.startswith("."):
            sides[name] = side  # a hub id: resolved by huggingface_hub (honours HF_HUB_OFFLINE)
        else:
            raise ConfigError(f"{cfg_path}: {name}.path: no such file or directory: {resolved}")
    corpus = []
    for i, entry in enumerate(s.corpus):
        resolved = _resolve(base, entry.path)
        if not resolved.exists():  # a file, or a `datasets` save_to_disk folder
            raise ConfigError(f"{cfg_path}: corpus[{i}].path: no such file: {resolved}")
        corpus.append(entry.model_copy(update={"path": resolved}))
    extra: dict[str, object] = {}
    if s.conversations is not None:
        resolved = _resolve(base, s.conversations)
        if not resolved.exists():  # a file, or a `datasets` save_to_disk folder
            raise ConfigError(f"{cfg_path}: conversations: no such file: {resolved}")
        extra["conversations"] = resolved
    if s.mask is not None and s.mask.dataset is not None:
        resolved = _resolve(base, s.mask.dataset)
        if not resolved.exists():  # a file, or a `datasets` save_to_disk folder
            raise ConfigError(f"{cfg_path}: mask.dataset: no such file: {resolved}")
        extra["mask"] = s.mask.model_copy(update={"dataset": resolved})
    if s.rollouts is not None:
        resolved = _resolve(base, s.rollouts.path)
        if not resolved.exists():  # a file, or a `datasets` save_to_disk folder
            raise ConfigError(f"{cfg_path}: rollouts.path: no such file: {resolved}")
        extra["rollouts"] = s.rollouts.model_copy(update={"path": resolved})
    for name in ("training", "serving"):
        if sides[name].python is not None:
            sides[name] = sides[name].model_copy(update={"python": _interpreter(base, sides[name], name, cfg_path)})
        template = sides[name].chat_template
        if template and template not in ("tokenizer", "mistral-common"):
            resolved = _resolve(base, template)
            if not resolved.is_file():
                raise ConfigError(f"{cfg_path}: {name}.chat_template: no such file: {resolved}")
            sides[name] = sides[name].model_copy(update={"chat_template": str(resolved)})
    model = s.model
    if model is not None and model.config is not None:
        resolved = _resolve(base, model.config)
        if not resolved.is_file():
            raise ConfigError(f"{cfg_path}: model.config: no such file: {resolved}")
        model = model.model_copy(update={"config": resolved})
    return s.model_copy(update={**sides, **extra, "corpus": corpus, "model": model})
