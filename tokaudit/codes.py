"""Every finding code: its severity, category, title and default hint. Nothing else invents a code.

docs/codes.md documents exactly these (a test holds the two equal). A check makes a finding with
`finding(code, message, ...)`, which takes severity and category from here; a check may pass a
category only for a code whose registered category is None (it classifies each finding itself).
A registered hint may name the finding's own subject as `{name}`; the check passes `fill={"name": ...}`.
`hint=` replaces the registered hint, for a hint that is not the code's (a strategy's, a roll-up's).
`code_for(category, family)` is the code a classifying check (diff, mask-check) uses for its category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from tokaudit.findings import Finding, Severity


@dataclass(frozen=True)
class Code:
    """One finding code as documented in docs/codes.md."""

    code: str
    severity: Severity
    #: None where the check classifies each finding (TA110 and TA501 carry the diff category)
    category: str | None
    title: str
    #: what to do about it; `{name}` is filled per finding (braces with anything else are literal text)
    hint: str | None = None


CODES: dict[str, Code] = {
    "TA001": Code("TA001", Severity.WARNING, "config", "a `revision` is a branch or tag, not a 40-hex commit"),
    "TA101": Code(
        "TA101",
        Severity.ERROR,
        "special-token",
        "a special/added token's text is a control token on one side and plain text on the other",
        hint=(
            "one side parses special-token strings in text and the other does not: align `special_text` (and "
            "split_special_tokens / allowed_special) so user text cannot become control tokens"
        ),
    ),
    "TA102": Code(
        "TA102",
        Severity.ERROR,
        "bos-eos",
        "BOS (or EOS, or a post-processor token like `[CLS]`) is added by one side only",
        hint=(
            "BOS/EOS is added by one side only: compare add_bos/add_eos (add_special_tokens) and the "
            "tokenizer.json post-processor"
        ),
    ),
    "TA103": Code(
        "TA103",
        Severity.ERROR,
        "truncation",
        "one side cuts or pads the sample to a fixed length",
        hint=(
            "one side cuts or pads the text to a fixed length: look for `truncation` / `padding` blocks in "
            "tokenizer.json (the tokenizers library applies them, transformers resets them) or a max_length"
        ),
    ),
    "TA104": Code(
        "TA104",
        Severity.ERROR,
        "id-mapping",
        "the same token bytes get a different id",
        hint=(
            "same token text, different id: the vocabulary or the special-token ids moved in a conversion; run "
            "`tokaudit vocab-check`"
        ),
    ),
    "TA105": Code(
        "TA105",
        Severity.ERROR,
        "normalization",
        "the two sides' normalizers produce different text",
        hint=(
            "the sides normalize text differently (NFC/NFKC, lowercasing, accent stripping): compare the normalizers"
        ),
    ),
    "TA106": Code(
        "TA106",
        Severity.ERROR,
        "whitespace",
        "prefix space or whitespace runs are tokenized differently",
        hint=(
            "prefix space or whitespace runs handled differently: compare add_prefix_space / add_dummy_prefix, "
            "legacy, and the pre-tokenizer"
        ),
    ),
    "TA107": Code(
        "TA107",
        Severity.ERROR,
        "segmentation",
        "same bytes, different token boundaries",
        hint="same text, different token boundaries: the pre-tokenizer regex or the merges differ",
    ),
    "TA108": Code(
        "TA108",
        Severity.ERROR,
        "unknown",
        "one side falls back to `<unk>` or byte tokens where the other has a vocabulary token",
        hint=(
            "one side has no token for this text and falls back to <unk> or bytes: the vocabularies differ or "
            "byte_fallback is off on one side"
        ),
    ),
    "TA110": Code(
        "TA110",
        Severity.ERROR,
        None,
        "one side's library refuses the sample (e.g. tiktoken's `encode` on `<|endoftext|>`), the other encodes it",
        hint="a sample one pipeline rejects and the other accepts: align `special_text` on both sides",
    ),
    "TA501": Code(
        "TA501",
        Severity.ERROR,
        None,
        "`--against LOCK`: a side's tokens for a sample moved since the snapshot; names the library versions then and now",
        hint=(
            "the upgrade changes tokenization of these samples: retrain, pin the old version, or re-snapshot "
            "after review"
        ),
    ),
    "TA502": Code(
        "TA502",
        Severity.WARNING,
        "resolution",
        "`--against LOCK`: a side now loads another backend class than at snapshot time (e.g. `LlamaTokenizerFast` → `LlamaTokenizer`)",
        hint="AutoTokenizer picked another class: check the transformers version and tokenizer_config.json",
    ),
    "TA503": Code(
        "TA503",
        Severity.WARNING,
        "config",
        "`--against LOCK`: a Hub-id side loaded another commit than at snapshot time (the files behind its revision changed)",
        hint=(
            "the revision is a branch or tag that moved, or the config now names another commit: pin "
            "`revision:` to the commit you audited, or re-snapshot after review"
        ),
    ),
    "TA201": Code(
        "TA201",
        Severity.ERROR,
        "vocab-size",
        "a side has ids at or above the model's embedding rows (`model.vocab_size`, or `vocab_size` in `model.config`)",
        hint=(
            "an out-of-range id crashes the embedding lookup or reads another row: resize the model's embeddings,"
            " or use the tokenizer the model was trained with"
        ),
    ),
    "TA202": Code(
        "TA202",
        Severity.INFO,
        "vocab-size",
        "the model has embedding rows beyond a side's ids (padding to a multiple is normal); with the count",
        hint=(
            "padding the embedding matrix to a multiple of 64 or 128 is normal; a larger gap can mean the "
            "tokenizer lost tokens"
        ),
    ),
    "TA203": Code(
        "TA203",
        Severity.ERROR,
        "special-token",
        "bos / eos / pad / unk / end-of-turn token has another string or id on the two sides",
        hint=(
            "both pipelines must agree on this token: fix the tokenizer_config.json / special_tokens_map.json (or"
            " the chat template) of the side that is wrong"
        ),
    ),
    "TA204": Code(
        "TA204",
        Severity.ERROR,
        "special-token",
        "a special or added token has another id on the other side (one finding each for the first 10, then one for the rest)",
        hint=(
            "a special token's id moved (usually in a conversion): the model was trained on one id and is served "
            "the other; regenerate the converted tokenizer or pin the ids"
        ),
    ),
    "TA205": Code(
        "TA205",
        Severity.ERROR,
        "special-token",
        "a special or added token exists on one side only: the other tokenizes its text as ordinary text",
        hint="{other} tokenizes {token} as ordinary text: add the token there with the same id, or drop it",
    ),
    "TA206": Code(
        "TA206",
        Severity.ERROR,
        "added-token",
        "the same added token has another `special`, `lstrip`, `rstrip`, `normalized` or `single_word` flag (flags are compared where both libraries keep them)",
        hint=(
            "special decides whether skip_special_tokens drops it; lstrip/rstrip/single_word/normalized decide "
            "what text matches it: copy the AddedToken settings from the side the model was trained with"
        ),
    ),
    "TA207": Code(
        "TA207",
        Severity.ERROR,
        "special-token",
        "two different special strings have one id on a side (e.g. a pad string that is not in the vocabulary)",
        hint=(
            "a special string that is not in the vocabulary falls back to another token's id: add it as a token, "
            "or point the role at an existing token"
        ),
    ),
    "TA208": Code(
        "TA208",
        Severity.WARNING,
        "special-token",
        "one side's id space has holes the other's has not and the specials were renumbered around them (a conversion packed them)",
        hint=(
            "a conversion packed the specials after a vocabulary with holes: place each special at its original "
            "id (tokenizer.json added_tokens) so both sides agree"
        ),
    ),
    "TA209": Code(
        "TA209",
        Severity.WARNING,
        "special-token",
        "pad is the eos token: a loss mask that drops padding drops every EOS, and the model may not learn to stop",
        hint=(
            "give padding its own token (an unused or new one), or mask padding by attention_mask / position "
            "rather than by token id"
        ),
    ),
    "TA210": Code(
        "TA210",
        Severity.ERROR,
        "generation-config",
        "serving's `generation_config.json` `eos_token_id` does not include the token that ends an assistant turn (training's template, else serving's)",
        hint="add {id} to eos_token_id in generation_config.json (it may be a list)",
    ),
    "TA211": Code(
        "TA211",
        Severity.ERROR,
        "vocab",
        "ids that are regular tokens on both sides stand for other bytes (first few shown, all counted)",
        hint=(
            "the vocabularies are numbered differently: the model would read other embeddings than it was trained"
            " with; use the same vocabulary file on both sides"
        ),
    ),
    "TA212": Code(
        "TA212",
        Severity.ERROR,
        "vocab",
        "vocabulary pieces (as bytes) that exist on one side only",
        hint=(
            "{other} must spell these with other tokens: the vocabularies are not the same; compare the files the"
            " two sides load"
        ),
    ),
    "TA213": Code(
        "TA213",
        Severity.ERROR,
        "vocab",
        "bytes that several ids share, with another set of ids on the other side",
        hint=(
            "two ids with the same bytes let the sides pick different ids for the same text: a conversion merged "
            "or split tokens; rebuild it from the original vocabulary"
        ),
    ),
    "TA214": Code(
        "TA214",
        Severity.WARNING,
        "round-trip",
        "ids both vocabularies agree on decode, alone, to other text with each library's own decoder (byte fallback, prefix-space stripping, clean-up)",
        hint=(
            "the decoders differ (byte fallback, prefix-space stripping, clean-up of spaces): serving's text "
            "output will not read like the training text; compare the tokenizer.json decoders"
        ),
    ),
    "TA215": Code(
        "TA215",
        Severity.WARNING,
        "regex",
        "a pre-tokenizer regex uses a construct that means one thing in tiktoken (fancy-regex) and another in tokenizers (Oniguruma, Ruby syntax); see below",
        hint=(
            "rewrite the construct so both engines agree (e.g. \\p{N}{1,3} instead of \\p{N}{1,3}+), then re-run "
            "`tokaudit diff` on digits and line ends"
        ),
    ),
    "TA216": Code(
        "TA216",
        Severity.WARNING,
        "truncation",
        "tokenizer.json stores truncation / padding and a side loads it with the tokenizers library, which applies it to every encode (transformers does not); with the length and model_max_length",
        hint=(
            "remove the truncation/padding blocks from tokenizer.json (tokenizer.no_truncation(), no_padding()) "
            "and truncate explicitly in the pipeline, with the same length on both sides"
        ),
    ),
    "TA217": Code(
        "TA217",
        Severity.INFO,
        "resolution",
        "AutoTokenizer resolves an `hf` / `hf-slow` side to another class depending on whether mistral-common is installed",
        hint=(
            "install the same packages (mistral-common included or not) in training and serving, or load the "
            "tokenizer class explicitly"
        ),
    ),
    "TA218": Code(
        "TA218",
        Severity.WARNING,
        "resolution",
        "vLLM's `--tokenizer-mode auto` would serve the model with mistral-common (the folder ships `tekken.json` or `tokenizer.model.v*` and mistral-common is installed), not the transformers tokenizer audited as serving",
        hint="audit `source: mistral-common` as serving, or start vLLM with --tokenizer-mode hf",
    ),
    "TA219": Code(
        "TA219",
        Severity.ERROR,
        "vocab-size",
        "a GGUF that holds weights has fewer embedding rows (`token_embd.weight`, from the tensor table) than tokens in its vocabulary",
        hint=(
            "ids past the embedding rows crash llama.cpp or read garbage: the GGUF was converted from mismatched "
            "files; reconvert it from the checkpoint the tokenizer belongs to"
        ),
    ),
    "TA220": Code(
        "TA220",
        Severity.WARNING,
        "regex",
        "a GGUF's BPE vocabulary names no known pre-tokenizer (`tokenizer.ggml.pre` is `default` or missing): llama.cpp splits text with the GPT-2 fallback regex",
        hint=(
            "the converter did not recognise the tokenizer and fell back to GPT-2's regex (token counts drift by "
            "several percent): reconvert with a llama.cpp that knows the model, or compare with `tokaudit diff`"
        ),
    ),
    "TA221": Code(
        "TA221",
        Severity.WARNING,
        "bos-eos",
        "a GGUF's `add_bos_token` / `add_eos_token` says to add BOS / EOS and the other side adds none, or the reverse",
        hint=(
            "the two pipelines start (or end) sequences differently: set `add_bos` / `add_eos` on one side to what "
            "the model was trained with, or fix the flag in the GGUF (gguf-py's gguf_set_metadata.py)"
        ),
    ),
    "TA222": Code(
        "TA222",
        Severity.WARNING,
        "resolution",
        "a `vllm` side ran vLLM's `--tokenizer-mode auto` and vLLM resolved the HF tokenizer, although the folder ships mistral-common files (`tekken.json` or `tokenizer.model.v*`): measured, not predicted",
        hint=(
            "vLLM serves this folder with the transformers conversion, not mistral-common: start vLLM with "
            "--tokenizer-mode mistral (and audit `tokenizer_mode: mistral`), or train with the tokenizer it serves"
        ),
    ),
    "TA230": Code(
        "TA230",
        Severity.WARNING,
        "export",
        "a folder's tokenizer_config.json names a `tokenizer_class` transformers < 5 cannot import (`TokenizersBackend`, which 5.x writes)",
        hint=(
            "servers pinned to transformers 4.x refuse this folder: set `tokenizer_class` to the model's own class "
            "(the base's, e.g. `LlamaTokenizer`), or save the export with the transformers version serving runs"
        ),
    ),
    "TA231": Code(
        "TA231",
        Severity.WARNING,
        "export",
        "a folder's chat template is only in chat_template.jinja (or chat_template.json), not in tokenizer_config.json",
        hint=(
            "loaders that read tokenizer_config.json only (older transformers, some servers) get no template: copy it "
            "into tokenizer_config.json's `chat_template`, or pass the server the .jinja file (vLLM --chat-template)"
        ),
    ),
    "TA232": Code(
        "TA232",
        Severity.INFO,
        "export",
        "the base and the export keep their chat template in different files (tokenizer_config.json vs chat_template.jinja)",
        hint="check that serving reads the file the export has, and that both hold the template training used",
    ),
    "TA233": Code(
        "TA233",
        Severity.WARNING,
        "export",
        "tokenizer_config.json's `add_bos_token` / `add_eos_token`, a special role or the added tokens changed between the base (training's folder) and the export (serving's)",
        hint=(
            "the export was saved with other settings than training used: restore them in the export's "
            "tokenizer_config.json, or re-save it with the settings training used"
        ),
    ),
    "TA234": Code(
        "TA234",
        Severity.WARNING,
        "export",
        "the base has generation_config.json and the export serving loads does not",
        hint="copy generation_config.json into the export (its eos_token_id is where the server stops generating)",
    ),
    "TA301": Code(
        "TA301",
        Severity.ERROR,
        "template-text",
        "the two sides render a conversation to different text (and different ids)",
        hint=(
            "the pipelines serialise chats differently: give both sides the template serving uses "
            "(training.chat_template: tokenizer, the same .jinja file, or mistral-common on both sides)"
        ),
    ),
    "TA302": Code(
        "TA302",
        Severity.ERROR,
        "template-tokens",
        "same rendered text, different ids: the sides tokenize the rendering differently",
        hint=(
            "same text, different ids: the sides tokenize the rendered chat differently; compare special_text, "
            "chat_add_special_tokens and the tokenizer files (`tokaudit diff` on the rendered text shows why)"
        ),
    ),
    "TA303": Code(
        "TA303",
        Severity.INFO,
        "template-text",
        "the texts differ but the ids are the same (harmless for the model)",
        hint=(
            "harmless for the model, which sees the same ids; the texts differ only where the tokenizer makes "
            "them equal (e.g. SentencePiece's dummy prefix)"
        ),
    ),
    "TA304": Code(
        "TA304",
        Severity.ERROR,
        "double-bos",
        "a side's rendering starts with the BOS string and its tokenizer adds BOS too (once per side)",
        hint=(
            "drop {{ bos_token }} from the template, or tokenize the rendered chat with add_special_tokens=False "
            "as apply_chat_template does (`{side}.chat_add_special_tokens: false`)"
        ),
    ),
    "TA305": Code(
        "TA305",
        Severity.ERROR,
        "generation-prompt",
        "the serving prompt (messages + generation prompt) is not a text prefix of the training rendering of the turn it prompts",
        hint=(
            "the generation prompt must be exactly how the template opens an assistant turn: fix the "
            "add_generation_prompt branch, or the assistant branch, so they emit the same text"
        ),
    ),
    "TA306": Code(
        "TA306",
        Severity.WARNING,
        "generation-prompt",
        "the serving prompt is a text prefix but not a token prefix: the answer's first characters merge with the prompt's last token",
        hint=(
            "inherent to templates whose prompt ends in text the answer can merge with: tokenize training "
            "examples as prompt ids + answer ids, or strip the answers' leading whitespace"
        ),
    ),
    "TA307": Code(
        "TA307",
        Severity.ERROR,
        "injection",
        "a control string in message content (`</s>`, `[/INST]`, `<|im_end|>` ...) becomes a control token on one side and stays text on the other",
        hint=(
            "treat control strings in message content alike on both sides: encode content with "
            "split_special_tokens / sanitize_control_tokens, or reject such content at the API"
        ),
    ),
    "TA308": Code(
        "TA308",
        Severity.INFO,
        "injection",
        "both sides turn a control string in message content into a control token",
        hint=(
            "no skew, but user text can spell control tokens on both sides: sanitize message content "
            "(sanitize_control_tokens, split_special_tokens) or reject it at the API"
        ),
    ),
    "TA309": Code(
        "TA309",
        Severity.ERROR,
        "template-error",
        "one side's template refuses a conversation (`raise_exception`, a sandbox violation, mistral-common's validation) that the other renders; carries the template's own message",
        hint=(
            "make both templates accept the same conversations (roles, system messages, tool calls), or filter "
            "out of the training data what the serving template refuses"
        ),
    ),
    "TA310": Code(
        "TA310",
        Severity.WARNING,
        None,
        "a chat template is not prefix-preserving: a conversation cut after an assistant turn does not "
        "render to a token prefix of the same conversation with the next user or tool turn",
        hint=(
            "multi-turn RL that appends turns (token-in/token-out) cannot use this template as is: each "
            "engine call re-renders history differently; train one sample per turn, or fix the template"
        ),
    ),
    "TA401": Code(
        "TA401",
        Severity.ERROR,
        "mask-trained-wrongly",
        "tokens the pipeline trains on that the ground truth masks (the first one located)",
    ),
    "TA402": Code("TA402", Severity.ERROR, "mask-masked-wrongly", "tokens of an assistant reply the pipeline masks"),
    "TA403": Code(
        "TA403",
        Severity.ERROR,
        "sample-lost",
        "every label masked although the assistant writes tokens: the sample is silently dropped (FastChat's `tokenization mismatch`)",
    ),
    "TA404": Code(
        "TA404",
        Severity.WARNING,
        "truncation",
        "`max_length` (or a record shorter than the serving tokenization) cuts an assistant span or drops it",
        hint=(
            "raise max_length, or drop / split over-long conversations instead of cutting a reply: a reply "
            "without its end-of-turn teaches the model not to stop"
        ),
    ),
    "TA405": Code(
        "TA405",
        Severity.WARNING,
        "boundary-merge",
        "a token straddles an assistant span's edge with more than whitespace outside it",
        hint=(
            "the template glues the reply to non-space text; a separator the tokenizer cannot merge across (a "
            "newline, a control token) makes the boundary exact"
        ),
    ),
    "TA406": Code(
        "TA406",
        Severity.ERROR,
        "tokenization-skew",
        "the input_ids are not the serving tokenization of the messages; labels not compared",
        hint=(
            "not a mask error: the ids were made with another tokenizer, template or add_special_tokens than "
            "serving uses; run `tokaudit diff` / `template-check`, or retokenize with the serving tokenizer"
        ),
    ),
    "TA407": Code(
        "TA407",
        Severity.ERROR,
        "malformed",
        "a dataset line is not a usable record (not JSON, a key missing, non-integer ids, lengths differ)",
        hint=(
            "every record needs integer `input_ids` and `labels` of the same length and the `messages` they came from"
        ),
    ),
    "TA408": Code(
        "TA408",
        Severity.ERROR,
        "label-value",
        "the mask is right but trained labels are other ids than input_ids (pre-shifted labels)",
        hint="a causal LM shifts labels itself: labels[i] must be input_ids[i] or -100",
    ),
    "TA601": Code(
        "TA601",
        Severity.ERROR,
        "load-error",
        "`load-check`: a fresh load of an `hf` side raised (names the load and the exception)",
        hint=(
            "a worker that loads the tokenizer the same way would crash: pin transformers / tokenizers, load once "
            "and share the files (or the object) with the workers, or fix what the exception names"
        ),
    ),
    "TA602": Code(
        "TA602",
        Severity.ERROR,
        "python-fallback",
        "`load-check`: a fresh load got the Python backend although the fast one was asked for (names the load and the class)",
        hint=(
            "under concurrent first-time loads AutoTokenizer fell back to the Python class: make sure tokenizer.json "
            "is in the folder and `tokenizers` imports on every node, and load before forking the workers"
        ),
    ),
    "TA603": Code(
        "TA603",
        Severity.ERROR,
        "resolution",
        "`load-check`: a fresh load resolved to another class or backend than the audit's own load of the side",
        hint=(
            "AutoTokenizer's choice depends on state that differs between loads (the cache, remote code, the "
            "installed packages): name the tokenizer class explicitly, or load once and share"
        ),
    ),
    "TA604": Code(
        "TA604",
        Severity.ERROR,
        "load-ids",
        "`load-check`: a fresh load gives other ids on the built-in corpus than the audit's own load (first sample shown)",
        hint=(
            "loads of the same files tokenize differently: some workers would train on (or serve) other ids; "
            "compare the class and files each load got (`--debug`), and load once and share"
        ),
    ),
    "TA701": Code(
        "TA701",
        Severity.ERROR,
        "non-canonical",
        "`rollout-check` round trip: a sampled completion is not the tokenizer's own split of its text, so "
        "decode → encode gives other ids for the same text",
        hint=(
            "the policy may emit any split; a trainer that keeps text and re-encodes it trains on ids the policy "
            "never produced: keep the sampled ids (token-in/token-out) instead of decoding and encoding"
        ),
    ),
    "TA702": Code(
        "TA702",
        Severity.ERROR,
        "special-token",
        "`rollout-check` round trip: decoding with `skip_special_tokens` drops special tokens the engine sampled",
        hint="decode with skip_special_tokens=False where the text is encoded again, or keep the sampled ids",
    ),
    "TA703": Code(
        "TA703",
        Severity.ERROR,
        "character-cut",
        "`rollout-check` round trip: a completion ends inside a multi-byte character (cut at `max_tokens`); "
        "decode makes it U+FFFD",
        hint="keep the sampled ids for truncated completions, or drop them: their text does not encode back",
    ),
    "TA704": Code(
        "TA704",
        Severity.ERROR,
        "decode-cleanup",
        "`rollout-check` round trip: the training side's decode gives other text than the ids spell (space "
        "clean-up, normalisation), which encodes to other ids",
        hint="set clean_up_tokenization_spaces=False where completions are decoded, or keep the sampled ids",
    ),
    "TA711": Code(
        "TA711",
        Severity.ERROR,
        "reasoning-dropped",
        "`rollout-check` append-only: a turn's prompt drops the reasoning an earlier turn sampled, so it does "
        "not extend the previous prompt + completion",
        hint=(
            "the chat template strips `<think>` / reasoning_content from earlier assistant turns (Qwen3, QwQ, "
            "DeepSeek-R1): train each turn as its own sample, or keep reasoning in history (a template that does)"
        ),
    ),
    "TA712": Code(
        "TA712",
        Severity.ERROR,
        "separator",
        "`rollout-check` append-only: a turn's prompt changes the text of the previous prompt + completion "
        "(a separator, whitespace, the end-of-turn token, a re-serialized tool call)",
        hint=(
            "build each prompt by appending ids to the previous prompt + completion (token-in/token-out) "
            "instead of re-rendering the conversation"
        ),
    ),
    "TA713": Code(
        "TA713",
        Severity.ERROR,
        "boundary-merge",
        "`rollout-check` append-only: a turn's prompt spells the same text as the previous prompt + "
        "completion but re-encodes it to other ids (BPE merged across the old end)",
        hint="append ids, not text: encoding prompt and completion text together merges across their boundary",
    ),
    "TA714": Code(
        "TA714",
        Severity.ERROR,
        "reasoning-dropped",
        "`rollout-check` re-render: the trainer's rendering of `messages` drops reasoning the engine sampled",
        hint=(
            "the trainer trains turns without the reasoning the policy produced them with: train on the engine's "
            "ids, or one sample per turn"
        ),
    ),
    "TA715": Code(
        "TA715",
        Severity.ERROR,
        "separator",
        "`rollout-check` re-render: the trainer's rendering of `messages` spells other text than the engine's "
        "ids (a separator, whitespace, the end-of-turn token, a re-serialized tool call)",
        hint=(
            "train on the engine's prompt and completion ids instead of re-rendering; or render with the "
            "serving template and the same tool-call serialisation"
        ),
    ),
    "TA716": Code(
        "TA716",
        Severity.ERROR,
        "boundary-merge",
        "`rollout-check` re-render: the trainer's rendering spells the same text as the engine's ids but "
        "encodes it to other ids",
        hint="train on the engine's ids: encoding the whole conversation at once merges across turn boundaries",
    ),
    "TA721": Code(
        "TA721",
        Severity.ERROR,
        "loss-mask",
        "`rollout-check` trainer row: the loss mask trains tokens the engine did not sample (the prompt, "
        "template scaffolding between turns)",
        hint="mask everything but each turn's sampled completion ids: tool results and role headers are not actions",
    ),
    "TA722": Code(
        "TA722",
        Severity.ERROR,
        "stop-token",
        "`rollout-check` trainer row: the loss mask leaves out the stop token the engine sampled",
        hint="train the sampled end-of-turn / EOS token with its completion, or the policy does not learn to stop",
    ),
    "TA723": Code(
        "TA723",
        Severity.ERROR,
        "loss-mask",
        "`rollout-check` trainer row: sampled completion tokens are not trained (masked out, or not in the row)",
        hint="the row must hold each turn's sampled ids with the mask on them; rebuild it from the engine's turns",
    ),
    "TA724": Code(
        "TA724",
        Severity.ERROR,
        "logprobs",
        "`rollout-check` trainer row: a turn's `logprobs` has another length than its `completion_ids`",
        hint="importance ratios need one logprob per sampled id: the logprobs belong to other ids",
    ),
    "TA725": Code(
        "TA725",
        Severity.ERROR,
        "id-range",
        "`rollout-check` trainer row: an id is at or past the model's embedding rows (`model.vocab_size`)",
        hint="the engine and the model disagree on the vocabulary: check the tokenizer and the checkpoint together",
    ),
}


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def code_for(category: str, family: str) -> str:
    """The one code of `family` (a code prefix: "TA1" for diff, "TA4" for mask-check) registered
    with `category`; a check that classifies its findings maps its categories through this."""
    found = [c.code for c in CODES.values() if c.code.startswith(family) and c.category == category]
    if len(found) != 1:
        raise ValueError(f"{len(found)} codes of family {family} have category {category!r}: {found}")
    return found[0]


def _filled(spec: Code, fill: Mapping[str, str]) -> str | None:
    wanted = set(_PLACEHOLDER.findall(spec.hint or ""))
    if wanted != set(fill):
        raise ValueError(f"{spec.code}'s hint fills {sorted(wanted)}, not {sorted(fill)}")
    if spec.hint is None:
        return None
    return _PLACEHOLDER.sub(lambda m: fill[m.group(1)], spec.hint)


def finding(
    code: str,
    message: str,
    *,
    sample: str | None = None,
    where: str | None = None,
    category: str | None = None,
    hint: str | None = None,
    fill: Mapping[str, str] | None = None,
    detail: dict[str, Any] | None = None,
    signature: str | None = None,
) -> Finding:
    """The one way to make a Finding. `sample` is a corpus location (file:line, builtin:case,
    conversation); `where` names what a non-sample finding is about (a token, a side, a file, a key).
    `fill` gives the registered hint's `{name}` placeholders; `hint` replaces the registered hint."""
    spec = CODES.get(code)
    if spec is None:
        raise ValueError(f"{code!r} is not a registered finding code (tokaudit/codes.py)")
    if hint is not None and fill is not None:
        raise ValueError(f"{code}: give `hint` or `fill`, not both")
    if spec.category is not None and category not in (None, spec.category):
        raise ValueError(f"{code} is registered with category {spec.category!r}, not {category!r}")
    if spec.category is None and category is None:
        raise ValueError(f"{code} needs a category from the check that makes it")
    return Finding(
        code=code,
        severity=spec.severity,
        message=message,
        sample=sample,
        where=where,
        category=spec.category or category,
        hint=hint if hint is not None else _filled(spec, fill or {}),
        detail=detail or {},
        signature=signature,
    )
