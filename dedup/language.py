"""Language of a cleaned text, with py3langid (its model ships inside the package)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# langid reads the first 1,500 characters as well as the whole text, much faster.
_SAMPLE_CHARS = 1500
# Below this probability the source's language hint, when there is one, is trusted instead.
_MIN_CONFIDENCE = 0.9


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of the text's language; the hint when detection is unsure; None for no text."""
    sample = text[:_SAMPLE_CHARS].strip()
    if not sample:
        return hint
    language, probability = _identifier().classify(sample)
    if probability < _MIN_CONFIDENCE and hint:
        return hint
    return str(language)
