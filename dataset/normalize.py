"""Raw dump -> clean Article: one pure function per document, so any engine can run it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .language import detect_language
from .metadata import AUTHOR_LINE, EDITOR_LINE, canonical_outlet, credited_sources, split_names
from .page import Page, analyse
from .reading import DEFAULT_MAX_BYTES, RawDocument, RejectedInput, decode
from .records import Article, article_id, sha256_hex


@dataclass
class NormalizeResult:
    article: Article
    warnings: list[str] = field(default_factory=list)


def _names_from(bylines: list[str], pattern) -> list[str]:
    names: list[str] = []
    for text in bylines:
        match = pattern.match(text)
        if match:
            names.extend(n for n in split_names(match["names"]) if n not in names)
    return names


def _outlet(page: Page, override: str | None) -> str | None:
    if override:
        return override
    for stamp in page.timestamps:
        if stamp.outlet:
            return stamp.outlet
    if page.dateline and page.dateline.outlet:
        return page.dateline.outlet
    return page.signoff_outlet


def normalize_text(text: str, source_file: str, raw_sha256: str, document: RawDocument | None = None) -> NormalizeResult:
    """Clean one decoded page and read its metadata; raises RejectedInput when nothing article-like is left."""
    sidecar = document.sidecar if document else None
    page = analyse(text)
    body = page.body_text()
    if not body.strip():
        raise RejectedInput("no_article", "nothing is left after removing page furniture (the file is all boilerplate)")
    warnings = [stamp.warning for stamp in page.timestamps if stamp.warning]
    published = next((s for s in page.timestamps if not s.is_update), None)
    published_at = published.at if published else None
    published_date = published.day if published else None
    if sidecar and sidecar.published_at:
        published_at, published_date = sidecar.published_at, sidecar.published_at.date()
    outlet = _outlet(page, sidecar.outlet if sidecar else None)
    removed = page.removed()
    bylines = [r.text for r in removed if r.rule == "byline"]
    credit_text = "\n".join([body, *bylines])
    wire = [w for w in credited_sources(credit_text) if outlet is None or canonical_outlet(w) != outlet]
    language, score = detect_language(body)
    url = sidecar.url if sidecar else None
    article = Article(
        id=article_id(source_file, url),
        source_file=source_file,
        url=url,
        raw_sha256=raw_sha256,
        title=page.title,
        outlet=outlet,
        dateline_place=page.dateline.place if page.dateline else None,
        published_at=published_at,
        published_date=published_date,
        authors=_names_from(bylines, AUTHOR_LINE),
        editors=_names_from(bylines, EDITOR_LINE),
        wire_sources=wire,
        language=language,
        language_score=score,
        text=body,
        removed=removed,
    )
    return NormalizeResult(article, warnings)


def normalize_document(document: RawDocument, max_bytes: int = DEFAULT_MAX_BYTES) -> NormalizeResult:
    """Read, decode and clean one dump. Raises RejectedInput with a reason naming what is wrong."""
    data = document.read(max_bytes)
    text, warnings = decode(data)
    result = normalize_text(text, document.source_file, sha256_hex(data), document)
    result.warnings[:0] = warnings
    return result


@dataclass
class NormalizeStats:
    """Counted while the batch runs: what came in, what was rejected, which rules removed how many lines."""

    documents: int = 0
    articles: int = 0
    rejected: Counter = field(default_factory=Counter)
    removed_by_rule: Counter = field(default_factory=Counter)

    def count(self, article: Article) -> None:
        self.articles += 1
        self.removed_by_rule.update(r.rule for r in article.removed)

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "articles": self.articles,
            "rejected": dict(sorted(self.rejected.items())),
            "removed_by_rule": dict(sorted(self.removed_by_rule.items())),
        }
