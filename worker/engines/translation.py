"""Translation through CTranslate2 + SentencePiece, for NLLB- and M2M100-style models.

Both families are called the same way: source tokens `[src_token, *pieces, "</s>"]`, decoding
from `</s>` with the target language token as prefix. They differ in the language tokens:
NLLB uses its FLORES codes (`fra_Latn`), M2M100 wraps ISO codes (`__fr__`). The flavour and
the languages come from the model's own vocabulary, never from a list kept here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from protocol.errors import ErrorCode, ServiceError
from protocol.options import TranslateOptions, check_options

Flavour = Literal["nllb", "m2m"]

EOS = "</s>"
_NLLB_TOKEN = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")
_M2M_TOKEN = re.compile(r"__([a-z]{2,3})__")
_VOCABULARY_FILES = (
    "shared_vocabulary.json",
    "shared_vocabulary.txt",
    "source_vocabulary.json",
    "source_vocabulary.txt",
)
_TOKENIZER_FILES = ("sentencepiece.bpe.model", "sentencepiece.model", "spm.128k.model")


@dataclass(frozen=True)
class TranslationOutput:
    text: str
    score: float  # ctranslate2's log-probability score of the best hypothesis
    tokens: int  # tokens generated, without the target language token


@dataclass(frozen=True)
class LanguageTokens:
    flavour: Flavour
    tokens: dict[str, str]  # the model's language code -> its vocabulary token


def read_vocabulary(model_dir: Path) -> list[str]:
    for name in _VOCABULARY_FILES:
        path = model_dir / name
        if path.is_file():
            if path.suffix == ".json":
                return [str(token) for token in json.loads(path.read_text(encoding="utf-8"))]
            return path.read_text(encoding="utf-8").splitlines()
    raise ServiceError(
        ErrorCode.CONFIGURATION_ERROR,
        f"No vocabulary in {model_dir}: not a CTranslate2 translation model.",
        {"path": str(model_dir), "expected": list(_VOCABULARY_FILES)},
    )


def language_tokens(vocabulary: list[str]) -> LanguageTokens:
    """Detect the flavour from the language tokens the vocabulary holds."""
    nllb = {token: token for token in vocabulary if _NLLB_TOKEN.fullmatch(token)}
    if nllb:
        return LanguageTokens("nllb", nllb)
    m2m = {}
    for token in vocabulary:
        match = _M2M_TOKEN.fullmatch(token)
        if match:
            m2m[match.group(1)] = token
    if m2m:
        return LanguageTokens("m2m", m2m)
    raise ServiceError(
        ErrorCode.CONFIGURATION_ERROR,
        "The model's vocabulary has no language tokens (neither NLLB `eng_Latn` nor M2M100 "
        "`__en__` style).",
        {"vocabulary_size": len(vocabulary)},
    )


def find_tokenizer(model_dir: Path) -> Path:
    for name in _TOKENIZER_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise ServiceError(
        ErrorCode.CONFIGURATION_ERROR,
        f"No SentencePiece model in {model_dir}.",
        {"path": str(model_dir), "expected": list(_TOKENIZER_FILES)},
    )


class TranslationEngine:
    def __init__(
        self,
        model_dir: str,
        device: str,
        compute_type: str,
        cpu_threads: int,
        tokenizer_file: str | None = None,
    ) -> None:
        import ctranslate2
        import sentencepiece

        folder = Path(model_dir)
        found = language_tokens(read_vocabulary(folder))
        self.flavour: Flavour = found.flavour
        self._tokens = found.tokens
        self._token_set = frozenset(found.tokens.values())
        spm_file = Path(tokenizer_file) if tokenizer_file else find_tokenizer(folder)
        self._spm: Any = sentencepiece.SentencePieceProcessor(model_file=str(spm_file))
        kind, _, index = device.partition(":")
        # One batch at a time, all threads on it: batching merges requests into one batch,
        # and parallel batches would only compete for the same cores.
        self._translator: Any = ctranslate2.Translator(
            model_dir,
            device=kind,
            device_index=int(index or 0),
            compute_type=compute_type,
            inter_threads=1,
            intra_threads=cpu_threads,
        )

    @property
    def languages(self) -> list[str]:
        """The model's own language codes, in vocabulary order."""
        return list(self._tokens)

    def warm_up(self) -> None:
        """One short translation so the first real request does not pay for lazy set-up."""
        codes = self.languages
        target = codes[1] if len(codes) > 1 else codes[0]
        self.translate_batch(
            ["Hello."], codes[0], target, TranslateOptions(beam_size=1, max_new_tokens=16)
        )

    def translate_batch(
        self, texts: list[str], source_lang: str, target_lang: str, options: TranslateOptions
    ) -> list[TranslationOutput]:
        check_options(options)  # the wire checked them too; a caller in code may not have
        if not texts:
            return []
        source_token = self._token(source_lang)
        target_token = self._token(target_lang)
        pieces: list[list[str]] = self._spm.encode(texts, out_type=str)
        batch = [[source_token, *p, EOS] for p in pieces]
        for index, tokens in enumerate(batch):
            # ctranslate2 would silently cut the text: refuse instead, so no words are lost.
            if len(tokens) > options.max_input_length:
                raise ServiceError(
                    ErrorCode.INVALID_REQUEST,
                    f"Text {index} is {len(tokens)} tokens long; the limit is "
                    f"{options.max_input_length}. Split it into sentences.",
                    {
                        "index": index,
                        "input_tokens": len(tokens),
                        "max_input_length": options.max_input_length,
                    },
                )
        # Blank texts translate to nothing: the model would only invent words for them.
        todo = [i for i, text in enumerate(texts) if text.strip()]
        outputs = [TranslationOutput(text="", score=0.0, tokens=0) for _ in texts]
        if not todo:
            return outputs
        results = self._translator.translate_batch(
            [batch[i] for i in todo],
            target_prefix=[[target_token]] * len(todo),
            beam_size=options.beam_size,
            length_penalty=options.length_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            # The target prefix counts towards the decoding length.
            max_decoding_length=options.max_new_tokens + 1,
            max_input_length=options.max_input_length,
            return_scores=True,
        )
        for i, result in zip(todo, results, strict=True):
            hypothesis: list[str] = result.hypotheses[0]
            if hypothesis and hypothesis[0] == target_token:
                hypothesis = hypothesis[1:]
            outputs[i] = TranslationOutput(
                text=str(self._spm.decode(hypothesis)),
                score=float(result.scores[0]),
                tokens=len(hypothesis),
            )
        return outputs

    def _token(self, code: str) -> str:
        token = self._tokens.get(code)
        if token is not None:
            return token
        if code in self._token_set:  # M2M100's `__fr__` written as the token itself
            return code
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Language {code!r} is not one this model knows.",
            {"language": code, "supported": self.languages},
        )
