"""Offline pre-annotation: a gazetteer plus title and organisation patterns, no model downloads.

Sources of a span, from most to least trusted (the score says which): a gazetteer form, a name
after a person title (`Menteri Luar Negeri AS Antony Blinken`), an organisation head word with its
capitalised name (`Kementerian Pertahanan`), and a lone surname of a person already found in the text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .spans import Span, resolve_overlaps

GAZETTEER = Path(__file__).resolve().parent / "gazetteer.toml"
MODEL_NAME = "warta-gazetteer"
MODEL_VERSION = "1"
SCORES = {"gazetteer": 0.9, "title": 0.75, "organisation": 0.6, "surname": 0.6}
NAME_TOKEN = r"[A-Z][a-z'’-]+(?:\.[A-Z]\.?)?"
CONNECTORS = {"dan", "di", "ke", "dari", "yang", "untuk", "dengan", "pada", "atas", "oleh", "dalam"}


@dataclass
class PreAnnotator:
    """Build once (the regexes compile lazily), then call `spans(text)` per article."""

    gazetteer_path: Path = GAZETTEER

    @property
    def model_version(self) -> str:
        return f"{MODEL_NAME}-{MODEL_VERSION}"

    @cached_property
    def _data(self) -> dict:
        return tomllib.loads(self.gazetteer_path.read_text(encoding="utf-8"))

    @cached_property
    def forms(self) -> dict[str, str]:
        forms: dict[str, str] = {}
        for label, section in self._data.items():
            if label != "patterns":
                for form in section["forms"]:
                    forms.setdefault(form, label)
        return forms

    @cached_property
    def _gazetteer_regex(self) -> re.Pattern[str]:
        alternatives = sorted(self.forms, key=len, reverse=True)
        return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(f) for f in alternatives) + r")(?![\w])")

    @cached_property
    def _title_regex(self) -> re.Pattern[str]:
        titles = {t for title in self._data["patterns"]["person_titles"] for t in (title, title[:1].lower() + title[1:])}
        titles = sorted(titles, key=len, reverse=True)
        known = sorted((f for f, label in self.forms.items() if label in ("GPE", "ORG")), key=len, reverse=True)
        qualifier = r"(?:\s+(?:" + "|".join(re.escape(k) for k in known) + r"))*"
        return re.compile(
            r"\b(?:" + "|".join(re.escape(t) for t in titles) + r")" + qualifier
            + r",?\s+(?P<name>" + NAME_TOKEN + r"(?:\s+" + NAME_TOKEN + r"){0,2})"
        )

    @cached_property
    def _organisation_regex(self) -> re.Pattern[str]:
        heads = self._data["patterns"]["organisation_heads"]
        return re.compile(r"\b(?:" + "|".join(re.escape(h) for h in heads) + r")(?:\s+[A-Z][\w-]*){1,5}")

    def spans(self, text: str) -> list[Span]:
        found: list[Span] = []
        for match in self._gazetteer_regex.finditer(text):
            found.append(Span(match.start(), match.end(), self.forms[match.group(0)], SCORES["gazetteer"]))
        for match in self._title_regex.finditer(text):
            name = match.group("name")
            tokens = name.split()
            while tokens and (tokens[-1] in self.forms or tokens[-1].lower() in CONNECTORS):
                tokens.pop()
            if tokens and " ".join(tokens) not in self.forms:
                start = match.start("name")
                found.append(Span(start, start + len(" ".join(tokens)), "PER", SCORES["title"]))
        person_starts = sorted(s.start for s in found if s.label == "PER")
        for match in self._organisation_regex.finditer(text):
            end = min([p for p in person_starts if match.start() < p < match.end()] or [match.end()])
            name = text[match.start() : end].rstrip(" ,")
            if " " in name and name not in self.forms:
                found.append(Span(match.start(), match.start() + len(name), "ORG", SCORES["organisation"]))
        people = resolve_overlaps(found)
        surnames = {text[s.start : s.end].split()[-1] for s in people if s.label == "PER" and " " in text[s.start : s.end]}
        if surnames:
            surname_regex = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(s) for s in sorted(surnames)) + r")(?!\w)")
            for match in surname_regex.finditer(text):
                found.append(Span(match.start(), match.end(), "PER", SCORES["surname"]))
        return resolve_overlaps(found)


def evaluate(annotator: PreAnnotator, articles: dict[str, tuple[str, list[Span]]], labels: list[str]) -> dict[str, dict]:
    """Exact-match precision and recall per label (and `ALL`) of the pre-annotator against reference spans."""
    from .spans import prf

    gold: dict[str, set] = {label: set() for label in [*labels, "ALL"]}
    predicted: dict[str, set] = {label: set() for label in [*labels, "ALL"]}
    for key, (text, reference) in articles.items():
        for span in reference:
            gold[span.label].add((key, span.start, span.end))
            gold["ALL"].add((key, span.start, span.end, span.label))
        for span in annotator.spans(text):
            predicted.setdefault(span.label, set()).add((key, span.start, span.end))
            predicted["ALL"].add((key, span.start, span.end, span.label))
    return {label: prf(gold[label], predicted.get(label, set())) for label in [*labels, "ALL"]}
