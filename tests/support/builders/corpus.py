"""Generated multilingual sentences to train the test SentencePiece models on.

The words only need to give SentencePiece real Latin, Chinese and Arabic text to learn pieces
from; byte fallback covers everything else. A fixed seed keeps every build identical.
"""

from __future__ import annotations

import random

# Space-separated words per language (split once, below).
_WORD_LISTS: dict[str, str] = {
    "en": (
        "hello world this is a test the quick brown fox jumps over lazy dog please turn on "
        "kitchen lights weather today sunny warm we will meet again tomorrow morning market "
        "river street house water book friend family time people good new first last long great "
        "little own other old right big high small large next early young important public bad "
        "same able translate model speech service language"
    ),
    "fr": (
        "bonjour le monde ceci est un essai rapide renard brun saute par dessus chien paresseux "
        "allume les lumières de la cuisine temps aujourd'hui ensoleillé chaud nous reverrons "
        "demain matin marché rivière rue maison eau livre ami famille être avoir faire dire "
        "pouvoir aller voir savoir vouloir très bien où déjà français"
    ),
    "de": (
        "hallo welt das ist ein test schnelle braune fuchs springt über den faulen hund bitte "
        "schalte küche licht wetter heute sonnig warm wir treffen uns morgen wieder markt fluss "
        "straße haus wasser buch freund familie zeit menschen gut neu groß klein früh jung "
        "wichtig öffentlich schön deutsch"
    ),
    "es": (
        "hola mundo esto es una prueba rápido zorro marrón salta sobre el perro perezoso por "
        "favor enciende las luces de la cocina tiempo hoy soleado cálido nos veremos mañana "
        "mercado río calle casa agua libro amigo familia gente bueno nuevo grande pequeño año "
        "niño señor español"
    ),
    "zh": (
        "你好 世界 这是 一个 测试 快速 的 棕色 狐狸 跳过 懒狗 请 打开 厨房 灯 今天 "
        "天气 晴朗 温暖 我们 明天 再见 早上 市场 河 街道 房子 水 书 朋友 家庭 时间 "
        "人 好 新 大 小 中文 语言 翻译 模型 服务"
    ),
    "ar": (
        "مرحبا بالعالم هذا اختبار الثعلب البني السريع يقفز فوق الكلب الكسول من فضلك شغل أضواء "
        "المطبخ الطقس اليوم مشمس دافئ سنلتقي غدا صباحا السوق النهر الشارع البيت الماء الكتاب "
        "صديق العائلة الوقت الناس جيد جديد كبير صغير العربية لغة ترجمة"
    ),
}
_WORDS = {language: tuple(words.split()) for language, words in _WORD_LISTS.items()}
# Scripts written without spaces between words.
_NO_SPACES = frozenset({"zh"})
_END_MARKS: dict[str, tuple[str, ...]] = {
    "zh": ("。", "\uff01", "\uff1f"),  # full-width ! and ?
    "ar": (".", "؟", "!"),
}


def generate_sentences(count: int = 3000, seed: int = 1234) -> list[str]:
    """`count` pseudo-sentences, cycling over English, French, German, Spanish, Chinese and
    Arabic, with capitals, digits and punctuation mixed in."""
    rng = random.Random(seed)
    languages = sorted(_WORDS)
    sentences = []
    for index in range(count):
        language = languages[index % len(languages)]
        words = list(rng.choices(_WORDS[language], k=rng.randint(3, 12)))
        if rng.random() < 0.15:
            words.insert(rng.randrange(len(words) + 1), str(rng.randint(0, 2030)))
        if rng.random() < 0.2:
            words[rng.randrange(len(words))] += ","
        joiner = "" if language in _NO_SPACES else " "
        text = joiner.join(words)
        if language not in _NO_SPACES and language != "ar":
            text = text[0].upper() + text[1:]
        text += rng.choice(_END_MARKS.get(language, (".", "!", "?")))
        sentences.append(text)
    return sentences
