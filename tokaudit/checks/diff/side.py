"""One side's ids for a sample as diff reads them: BOS/EOS and padding split off, each token's bytes.

Its own module so that `divergence` (which finds the differing stretch) and `categories` (which names
it) both read it without importing each other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tokaudit.checks.evidence import token
from tokaudit.findings import SideTokens
from tokaudit.sources.base import Tokenizer


@dataclass
class Side:
    """One side's ids for a sample, with BOS/EOS split off and each token's bytes."""

    name: str
    tok: Tokenizer
    ids: list[int]
    has_bos: bool = False
    has_eos: bool = False
    core: list[int] = field(default_factory=list)
    surfaces: list[bytes] = field(default_factory=list)

    text_in: str = ""
    padded: int = 0

    def __post_init__(self) -> None:
        ids = self.ids
        pad = self.tok.pad_id
        while pad is not None and self.padded < len(ids) and ids[-1 - self.padded] == pad:
            self.padded += 1
        ids = ids[: len(ids) - self.padded]
        names = self.tok.special_names()
        # BOS/EOS, or any special the post-processor adds ([CLS] ... [SEP]) that the text does not spell.
        # (an `<unk>` the model emits for text it cannot spell is text, not an added token)
        first = names.get(ids[0]) if ids and not self.tok.is_fallback(ids[0]) else None
        last = names.get(ids[-1]) if len(ids) > 1 and not self.tok.is_fallback(ids[-1]) else None
        self.has_bos = ids[:1] == [self.tok.bos_id] or (first is not None and not self.text_in.startswith(first))
        self.has_eos = len(ids) > int(self.has_bos) and (
            ids[-1] == self.tok.eos_id or (last is not None and not self.text_in.endswith(last))
        )
        self.core = ids[int(self.has_bos) : len(ids) - int(self.has_eos)]
        self.surfaces = [self.tok.surface(i) or b"" for i in self.core]

    @property
    def text(self) -> bytes:
        return b"".join(self.surfaces)

    def parsed_specials(self) -> Counter[str]:
        """Special tokens that stand for text the sample spells (not an <unk> the model emitted)."""
        names = self.tok.special_names()
        return Counter(names[i] for i in self.core if i in names and names[i] in self.text_in)

    def tokens(self, lo: int, hi: int) -> SideTokens:
        """Core tokens lo..hi as evidence, with whether BOS / EOS were added and the whole length."""
        shown = [token(self.tok, self.core[k], self.surfaces[k]) for k in range(lo, min(hi, len(self.core)))]
        return SideTokens(tokens=shown, bos=self.has_bos, eos=self.has_eos, length=len(self.ids))
