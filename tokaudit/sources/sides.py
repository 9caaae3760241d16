"""Loading both sides of an audit (the runner does this once; checks receive `base.Sides`)."""

from __future__ import annotations

from tokaudit.config import Settings, SideSpec
from tokaudit.errors import SourceError
from tokaudit.hub import is_hub_id
from tokaudit.sources.base import Sides, Tokenizer
from tokaudit.sources.capabilities import StoredTokens
from tokaudit.sources.registry import source_class

SIDES = ("training", "serving")


def load_side(spec: SideSpec, where: str = "python") -> Tokenizer:
    """Load one side's tokenizer with its own library (raises SourceError). A side with `python:` is loaded by a
    worker in that interpreter (sources/remote); `where` (`cfg.yaml: training.python`) words its later failures."""
    if spec.python is not None:
        from tokaudit.sources.remote.proxy import load

        return load(spec, where)
    tok: Tokenizer = source_class(spec.source)(spec)
    return tok


def side_spec(settings: Settings, name: str) -> SideSpec:
    """The side as it loads: a Hub-id side with no `revision` of its own takes `model.revision`."""
    spec: SideSpec = getattr(settings, name)
    model = settings.model
    if spec.revision is None and model is not None and model.revision and is_hub_id(spec.path):
        spec = spec.model_copy(update={"revision": model.revision})
    return spec


def load_sides(settings: Settings) -> Sides:
    """Load both tokenizers; a failure names the config file and the side's key."""
    loaded: dict[str, Tokenizer] = {}
    for name in SIDES:
        spec = side_spec(settings, name)
        prefix = f"{settings.config_path}: " if settings.config_path else ""
        try:
            loaded[name] = load_side(spec, f"{prefix}{name}.python")
        except SourceError as exc:
            for tok in loaded.values():
                tok.close()  # the training side's worker, when the serving side fails
            where = f"{name}.{exc.key}" if exc.key else name  # `training.object: ...`
            raise SourceError(f"{prefix}{where}: {exc}") from exc
    sides = Sides(**loaded)
    for tok, other in ((sides.training, sides.serving), (sides.serving, sides.training)):
        if isinstance(tok, StoredTokens):
            tok.lend(other)  # stored ids are shown with the tokenizer side's vocabulary
    return sides
