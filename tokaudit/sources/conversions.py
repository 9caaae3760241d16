"""transformers' own conversion of a file that a non-pipeline library reads (capabilities.Converted).

tiktoken, SentencePiece and tekken are no tokenizers pipelines; transformers converts their files into
one (TikTokenConverter, the SentencePiece converters AutoTokenizer picks, convert_tekken_tokenizer).
Comparing the library with that conversion says whether a divergence is in the conversion or not. For
tiktoken-style files the conversion also gets `library_parts`: the library's own regex split and its own
special-token ids, to put into the conversion one at a time.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tokaudit.quiet import import_transformers
from tokaudit.sources.assembly import TokenizersAssembly, backend_json, library_split, side_call
from tokaudit.sources.base import Tokenizer
from tokaudit.sources.capabilities import NoPipeline

#: (file, its size and mtime, what else shapes the conversion) -> (tokenizer.json text, a class name)
_CONVERTED: dict[tuple[Any, ...], tuple[str, str]] = {}
_KEPT = 8


def _memo(key: tuple[Any, ...], convert: Callable[[], tuple[str, str]]) -> tuple[dict[str, Any], str]:
    """A conversion costs seconds (cl100k about 6 s, tekken about 11 s) and every side loaded from the same
    file gets the same one: convert once per process and file, and hand each side its own parsed copy."""
    if key not in _CONVERTED:
        if len(_CONVERTED) >= _KEPT:
            _CONVERTED.pop(next(iter(_CONVERTED)))
        _CONVERTED[key] = convert()
    text, name = _CONVERTED[key]
    return dict(json.loads(text)), name


def _stamp(path: str | Path | None) -> tuple[Any, ...]:
    if path is None or not Path(path).exists():
        return (str(path),)
    stat = Path(path).stat()
    return (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


@contextlib.contextmanager
def _no_tiktoken_cache() -> Iterator[None]:
    # tiktoken caches every file it reads by the hash of its path; a temporary path would litter the cache
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = ""
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved


def _specials_part(specials: dict[str, int], special_text: str) -> dict[str, Any]:
    """A library's special tokens with its own ids, as tokenizer.json's added_tokens."""
    flags = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    tokens = [{"id": i, "content": s, **flags} for s, i in sorted(specials.items(), key=lambda kv: kv[1])]
    return {"tokens": tokens, "special_text": special_text}


def _library(data: dict[str, Any], pattern: str, specials: dict[str, int], special_text: str) -> dict[str, Any]:
    out = {"added_tokens": _specials_part(specials, special_text)}
    if data.get("pre_tokenizer"):
        out["pre_tokenizer"] = library_split(data["pre_tokenizer"], pattern, "tiktoken")
    return out


def tiktoken_conversion(tok: Tokenizer, enc: Any, file: str | None) -> TokenizersAssembly:
    """TikTokenConverter on the encoding's ranks, pattern and specials (a registered encoding's ranks are
    written to a temporary .tiktoken file: the converter reads a file)."""
    tf = import_transformers()
    from transformers.convert_slow_tokenizer import TikTokenConverter

    specials: dict[str, int] = dict(enc._special_tokens)
    ordered = sorted(specials, key=specials.__getitem__)
    # transformers 5 renamed the argument
    params = inspect.signature(TikTokenConverter.__init__).parameters
    kwargs = {"extra_special_tokens" if "extra_special_tokens" in params else "additional_special_tokens": ordered}

    def convert() -> tuple[str, str]:
        ranks = file
        with tempfile.TemporaryDirectory() as tmp, _no_tiktoken_cache():
            if ranks is None:
                ranks = str(Path(tmp) / "ranks.tiktoken")
                lines = (f"{base64.b64encode(raw).decode()} {rank}\n" for raw, rank in enc._mergeable_ranks.items())
                Path(ranks).write_text("".join(lines), encoding="ascii")
            try:
                converted = TikTokenConverter(vocab_file=ranks, pattern=enc._pat_str, **kwargs).converted()
            except Exception as exc:
                why = f"transformers {tf.__version__} TikTokenConverter cannot convert {enc.name}: {_why(exc)}"
                raise NoPipeline(why) from exc
        return json.dumps(backend_json(converted, f"TikTokenConverter of {enc.name}")), ""

    data, _ = _memo(("tiktoken", enc.name, *_stamp(file), enc._pat_str, tuple(ordered)), convert)
    call = side_call(tok, post_processor=False)
    origin = f"TikTokenConverter of {enc.name} (transformers {tf.__version__})"
    special_text = "literal" if call.literal else "parse"
    return TokenizersAssembly(data, call, origin, _library(data, enc._pat_str, specials, special_text))


def sentencepiece_conversion(tok: Tokenizer, model_file: Path) -> TokenizersAssembly:
    """The fast tokenizer AutoTokenizer builds from the .model alone, with the tokenizer_config.json beside it
    (which names the class, hence the converter), as a serving stack would from that folder."""
    config = model_file.parent / "tokenizer_config.json"
    if not config.is_file():
        raise NoPipeline(f"{model_file}: no tokenizer_config.json beside it names the class that converts it")
    tf = import_transformers()

    def convert() -> tuple[str, str]:
        with tempfile.TemporaryDirectory() as tmp:
            os.symlink(model_file.resolve(), Path(tmp) / model_file.name)
            shutil.copy(config, Path(tmp) / config.name)
            try:
                fast = tf.AutoTokenizer.from_pretrained(tmp, use_fast=True)
            except Exception as exc:
                why = f"transformers {tf.__version__} cannot convert {model_file.name}: {_why(exc)}"
                raise NoPipeline(why) from exc
        backend = getattr(fast, "backend_tokenizer", None)
        name = type(fast).__name__
        if backend is None:
            raise NoPipeline(f"transformers {tf.__version__} loads {model_file.name} as {name}, no pipeline")
        return json.dumps(backend_json(backend, f"{name} conversion of {model_file.name}")), name

    data, name = _memo(("sentencepiece", *_stamp(model_file), *_stamp(config)), convert)
    origin = f"{name} conversion of {model_file.name} (transformers {tf.__version__})"
    # sentencepiece adds BOS/EOS itself (source `add_bos`), outside any post-processor
    return TokenizersAssembly(data, side_call(tok, post_processor=False), origin)


def tekken_conversion(tok: Tokenizer, file: Path, pattern: str, specials: dict[str, int]) -> TokenizersAssembly:
    """convert_tekken_tokenizer (transformers.integrations.mistral), as transformers loads a tekken.json."""
    tf = import_transformers()
    try:
        from transformers.integrations.mistral import convert_tekken_tokenizer
    except ImportError as exc:
        raise NoPipeline(f"transformers {tf.__version__} has no tekken converter ({_why(exc)})") from exc
    origin = f"convert_tekken_tokenizer of {file.name} (transformers {tf.__version__})"

    def convert() -> tuple[str, str]:
        try:
            fast = convert_tekken_tokenizer(str(file))
        except Exception as exc:
            raise NoPipeline(f"transformers {tf.__version__} cannot convert {file.name}: {_why(exc)}") from exc
        return json.dumps(backend_json(fast.backend_tokenizer, origin)), ""

    data, _ = _memo(("tekken", *_stamp(file)), convert)
    call = side_call(tok, post_processor=False)
    special_text = "literal" if call.literal else "parse"
    return TokenizersAssembly(data, call, origin, _library(data, pattern, specials, special_text))
