"""A small byte-level BPE tokenizer with Whisper's special-token layout.

Ids follow Whisper: text tokens first, then <|endoftext|>, <|startoftranscript|>, the language
tokens, the task tokens, <|notimestamps|> and the 1501 timestamps <|0.00|>..<|30.00|> last.
faster-whisper and ctranslate2 rely on that order (e.g. timestamp_begin = notimestamps + 1,
"text" = any id below <|endoftext|>).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

# Whisper's 99 languages, in Whisper's token order (v1/v2: no "yue").
_LANGUAGE_LIST = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta "
    "no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk "
    "sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb "
    "my bo tl mg as tt haw ln ha ba jw su"
)
WHISPER_LANGUAGES: tuple[str, ...] = tuple(_LANGUAGE_LIST.split())
EOT = "<|endoftext|>"
SOT = "<|startoftranscript|>"
TRANSLATE = "<|translate|>"
TRANSCRIBE = "<|transcribe|>"
SOT_LM = "<|startoflm|>"
SOT_PREV = "<|startofprev|>"
NO_SPEECH = "<|nocaptions|>"
NO_TIMESTAMPS = "<|notimestamps|>"
TIMESTAMPS: tuple[str, ...] = tuple(f"<|{i * 0.02:.2f}|>" for i in range(1501))
# A multilingual Whisper has exactly this many text tokens (51865 tokens in all).
MULTILINGUAL_TEXT_TOKENS = 50257


def language_token(code: str) -> str:
    return f"<|{code}|>"


def special_tokens() -> list[str]:
    """Every special token, in id order, as they follow the text tokens."""
    languages = [language_token(code) for code in WHISPER_LANGUAGES]
    return [
        EOT,
        SOT,
        *languages,
        TRANSLATE,
        TRANSCRIBE,
        SOT_LM,
        SOT_PREV,
        NO_SPEECH,
        NO_TIMESTAMPS,
        *TIMESTAMPS,
    ]


@dataclass(frozen=True)
class WhisperVocabulary:
    tokenizer: Tokenizer
    tokens: list[str]  # every token, in id order (ctranslate2's vocabulary)

    def id_of(self, token: str) -> int:
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None:
            raise KeyError(token)
        return token_id

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)


def _pad_text_vocabulary(tokenizer: Tokenizer, size: int) -> Tokenizer:
    """Add never-produced text tokens (no merge builds them) until there are `size`.

    The last one is the empty token "": real multilingual Whisper vocabularies have it, and
    ctranslate2 takes its presence as the sign of a multilingual model.
    """
    data = json.loads(tokenizer.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    if len(vocab) >= size:
        raise ValueError(f"{len(vocab)} text tokens do not fit in {size}")
    for index in range(len(vocab), size - 1):
        vocab[f"<|unused_{index}|>"] = index
    vocab[""] = size - 1
    return Tokenizer.from_str(json.dumps(data))


def build_whisper_tokenizer(
    corpus: Iterable[str], *, text_vocab_size: int = 400, multilingual: bool = False
) -> WhisperVocabulary:
    """Train byte-level BPE on `corpus`, then append Whisper's special tokens.

    The 256 byte symbols are always in the vocabulary, so any text encodes. `multilingual`
    pads the text vocabulary to Whisper's 50257 so ctranslate2 sees a multilingual model.
    """
    tokenizer = Tokenizer(models.BPE())
    # As in Whisper's own tokenizer.json: no prefix space, byte-level decoding.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=text_vocab_size,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    if multilingual:
        tokenizer = _pad_text_vocabulary(tokenizer, MULTILINGUAL_TEXT_TOKENS)
    text_size = tokenizer.get_vocab_size()
    # Added after training, so they take the ids right after the text tokens, in order.
    specials = special_tokens()
    tokenizer.add_special_tokens([AddedToken(token, normalized=False) for token in specials])
    tokens = [tokenizer.id_to_token(i) for i in range(tokenizer.get_vocab_size())]
    if tokens[text_size:] != specials:
        raise AssertionError("special tokens did not land right after the text tokens")
    return WhisperVocabulary(tokenizer, [token or "" for token in tokens])


def phrase_token_ids(vocabulary: WhisperVocabulary, phrase: str) -> list[int]:
    """Text token ids of `phrase` as Whisper writes it (with a leading space)."""
    return vocabulary.encode(" " + phrase.strip())


def suppressed_at_begin(vocabulary: WhisperVocabulary) -> list[int]:
    """Whisper's suppress_ids_begin: a lone space and <|endoftext|>."""
    return [vocabulary.id_of("Ġ"), vocabulary.id_of(EOT)]


def default_suppressed(vocabulary: WhisperVocabulary) -> list[int]:
    """Whisper's suppress_ids: symbols that are never speech, and the non-output specials."""
    ids = {
        token_ids[0]
        for symbol in '"#()*+/:;<=>@[\\]^_`{|}~'
        if len(token_ids := vocabulary.encode(symbol)) == 1
    }
    ids.update(vocabulary.id_of(token) for token in (SOT_LM, SOT_PREV, NO_SPEECH))
    return sorted(ids)
