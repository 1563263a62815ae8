"""Raw dump -> clean Article: one pure function per document, so any engine can run it."""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import pyarrow as pa

from .language import detect_language
from .metadata import AUTHOR_LINE, EDITOR_LINE, Timestamp, canonical_outlet, credited_sources, split_names
from .page import Page, analyse
from .reading import DEFAULT_MAX_BYTES, RawDocument, RejectedInput, decode
from .records import Article, StoredRecord, Unchanged, article_id, sha256_hex


@dataclass
class NormalizeResult:
    article: Article | StoredRecord | Unchanged  # the latter two only when the parent release holds the record
    warnings: list[str] = field(default_factory=list)
    raw_bytes: int | None = None  # how many bytes were read and hashed (a file can change after it was listed)
    reused: bool = False  # taken from the parent release (`dataset.reuse`), language included


def _names_from(bylines: list[str], pattern) -> list[str]:
    names: list[str] = []
    for text in bylines:
        match = pattern.match(text)
        if match:
            names.extend(n for n in split_names(match["names"]) if n not in names)
    return names


def _outlet(page: Page, stamps: list[Timestamp], override: str | None) -> str | None:
    if override:
        return override
    for stamp in stamps:
        if stamp.outlet:
            return stamp.outlet
    if page.dateline and page.dateline.outlet:
        return page.dateline.outlet
    return page.signoff_outlet


def normalize_text(text: str, source_file: str, raw_sha256: str, document: RawDocument | None = None,
                   *, language: bool = True) -> NormalizeResult:
    """Clean one decoded page and read its metadata; raises RejectedInput when nothing article-like is left.

    With `language=False` the article's language is left for the caller (`normalize_stream` names it
    for a whole chunk at once)."""
    sidecar = document.sidecar if document else None
    page = analyse(text)
    body = page.body_text()
    if not body.strip():
        raise RejectedInput("no_article", "nothing is left after removing page furniture (the file is all boilerplate)")
    stamps = page.own_timestamps()
    warnings = [stamp.warning for stamp in stamps if stamp.warning]
    published = next((s for s in stamps if not s.is_update), None)
    published_at = published.at if published else None
    published_date = published.day if published else None
    if sidecar and sidecar.published_at:
        published_at, published_date = sidecar.published_at, sidecar.published_at.date()
    outlet = _outlet(page, stamps, sidecar.outlet if sidecar else None)
    removed = page.removed()
    bylines = [r.text for r in removed if r.rule == "byline"]
    credit_text = "\n".join([body, *bylines])
    wire = [w for w in credited_sources(credit_text) if outlet is None or canonical_outlet(w) != outlet]
    language_code, score = detect_language(body) if language else (None, None)
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
        language=language_code,
        language_score=score,
        text=body,
        removed=removed,
    )
    return NormalizeResult(article, warnings)


Earlier = Callable[[RawDocument, str], NormalizeResult | None]


def normalize_document(document: RawDocument, max_bytes: int = DEFAULT_MAX_BYTES, *, language: bool = True,
                       earlier: Earlier | None = None) -> NormalizeResult:
    """Read, decode and clean one dump. Raises RejectedInput with a reason naming what is wrong.

    `earlier(document, raw_sha256)` may hand back the record an earlier release made of the same bytes."""
    data = document.read(max_bytes)
    raw_sha256 = sha256_hex(data)
    if earlier is not None and (result := earlier(document, raw_sha256)) is not None:
        result.raw_bytes = len(data)
        return result
    text, warnings = decode(data)
    result = normalize_text(text, document.source_file, raw_sha256, document, language=language)
    result.warnings[:0] = warnings
    result.raw_bytes = len(data)
    return result


log = logging.getLogger(__name__)

LANGUAGE_CHUNK = 256
GC_FIRST_THRESHOLD = 10_000


@contextmanager
def rarer_collections(threshold: int = GC_FIRST_THRESHOLD) -> Iterator[None]:
    """The cyclic garbage collector's youngest-generation threshold raised inside the block, restored after.

    Normalizing allocates millions of short-lived objects (lines, removed-line records) that reference
    counting frees without help; at the default threshold of 700 the collector ran 265 times over
    4,000 articles and took 4.5% of the time, at 10,000 it ran 16 times (1.8%)."""
    previous = gc.get_threshold()
    gc.set_threshold(max(threshold, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


Item = TypeVar("Item")


def normalize_stream(items: Iterable[Item], document_of: Callable[[Item], RawDocument | None],
                     max_bytes: int = DEFAULT_MAX_BYTES, chunk: int = LANGUAGE_CHUNK, earlier: Earlier | None = None,
                     ) -> Iterator[tuple[Item, NormalizeResult | RejectedInput | None]]:
    """`normalize_document` over a stream: each item with its result, its `RejectedInput`, or None when
    `document_of(item)` is None (an item the caller handles itself), in the order given.

    The results equal `normalize_document`'s, but languages are named `chunk` articles at a time, back
    to back: interleaved with the rest of the work, the language model and the rest evict each other
    from the CPU caches, which cost ~20% of normalize's time. `earlier` goes to `normalize_document`.
    """
    pending: list[tuple[Item, NormalizeResult | RejectedInput | None]] = []

    def flush() -> Iterator[tuple[Item, NormalizeResult | RejectedInput | None]]:
        for _, outcome in pending:
            if isinstance(outcome, NormalizeResult) and not outcome.reused:
                article = outcome.article
                article.language, article.language_score = detect_language(article.text)
        yield from pending
        pending.clear()

    for item in items:
        document = document_of(item)
        outcome: NormalizeResult | RejectedInput | None = None
        if document is not None:
            try:
                outcome = normalize_document(document, max_bytes, language=False, earlier=earlier)
            except RejectedInput as error:
                outcome = error
            except Exception as error:  # a defect of ours, on one input: it is named and the batch goes on
                log.exception("%s: normalizing failed", document.source_file)
                outcome = RejectedInput("failed", f"could not be normalized ({type(error).__name__}: {error}); "
                                                  "a defect in warta: please report it with this file")
        pending.append((item, outcome))
        if len(pending) >= chunk:
            yield from flush()
    yield from flush()


@dataclass
class NormalizeStats:
    """Counted while the batch runs: what came in, what was rejected, which rules removed how many lines."""

    documents: int = 0
    articles: int = 0
    rejected: Counter = field(default_factory=Counter)
    removed_by_rule: Counter = field(default_factory=Counter)

    def count(self, article: Article | StoredRecord) -> None:
        self.articles += 1
        self.removed_by_rule.update(article.removed_rules)

    def count_table(self, table: pa.Table | pa.RecordBatch) -> None:
        """`count` of every article row of `table` (a publisher that holds rows, not Articles), in the same order."""
        import pyarrow.compute as pc

        self.articles += table.num_rows
        rules = pc.value_counts(pc.struct_field(pc.list_flatten(table.column("removed")), "rule"))
        self.removed_by_rule.update(dict(zip(rules.field("values").to_pylist(), rules.field("counts").to_pylist())))

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "articles": self.articles,
            "rejected": dict(sorted(self.rejected.items())),
            "removed_by_rule": dict(sorted(self.removed_by_rule.items())),
        }
