"""The project's hand-made reference annotations of the seeds (annotation/reference/)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .spans import Span

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
MARKUP = re.compile(r"\[\[(?P<text>[^\[\]|]+)\|(?P<label>[A-Z]+)\]\]")
REFERENCE_ANNOTATOR = "reference"


@dataclass(frozen=True)
class ReferenceArticle:
    source_file: str
    text: str
    spans: tuple[Span, ...]
    stance: dict[str, str]


def parse_markup(marked: str) -> tuple[str, list[Span]]:
    """`[[Joe Biden|PER]]` markup -> (plain text, spans with offsets into the plain text)."""
    pieces: list[str] = []
    spans: list[Span] = []
    position = 0
    length = 0
    for match in MARKUP.finditer(marked):
        before = marked[position : match.start()]
        pieces.append(before)
        length += len(before)
        surface = match["text"]
        spans.append(Span(length, length + len(surface), match["label"]))
        pieces.append(surface)
        length += len(surface)
        position = match.end()
    pieces.append(marked[position:])
    return "".join(pieces), spans


def load_reference(folder: Path = REFERENCE_DIR) -> dict[str, ReferenceArticle]:
    """Reference articles keyed by seed file name (e.g. `000_7bc95295573c04ca.txt`)."""
    stance = json.loads((folder / "stance.json").read_text(encoding="utf-8"))
    articles = {}
    for path in sorted(folder.glob("*.md")):
        if path.name == "README.md":
            continue
        text, spans = parse_markup(path.read_text(encoding="utf-8").rstrip("\n"))
        source_file = path.stem + ".txt"
        labels = {target: value["stance"] for target, value in stance.get(source_file, {}).items()}
        articles[source_file] = ReferenceArticle(source_file, text, tuple(spans), labels)
    return articles
