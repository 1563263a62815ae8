"""The article record and its Arrow schema: the one definition every stage reads and writes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import numpy as np

REMOVAL_RULES: dict[str, str] = {
    "title": "the headline, or a repeat of it",
    "subtitle": "the first unrecognised line under the headline: mostly a standfirst or deck that repeats the body",
    "timestamp": "the page's publication or update time",
    "dateline": "the dateline prefix of the first paragraph (place, outlet, dash)",
    "signoff": "an outlet sign-off at the end of the article",
    "read_more": "a link to another article (Baca juga, Simak juga, ...)",
    "related_list": "a list of other articles and its heading",
    "comment_prompt": "the comment box and its prompts",
    "ad": "advertising, subscription or house promotion",
    "share": "share buttons",
    "consent": "a cookie or privacy consent notice",
    "reading_time": "a reading-time badge",
    "caption": "a photo caption or photo credit",
    "byline": "author, editor or source credit line (values kept as metadata)",
    "embed": "an embedded infographic or video block",
    "navigation": "pagination and navigation",
    "ai_summary": "an AI-generated summary and its disclaimer",
    "spam": "injected spam (gambling and similar)",
    "duplicate": "an exact repeat of the line before it",
    "header": "other page furniture above the article body",
    "tail": "other page furniture after the article body",
}

REMOVED_LINE = pa.struct(
    [
        pa.field("line", pa.int32(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)

ARTICLE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("raw_sha256", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("outlet", pa.string()),
        pa.field("dateline_place", pa.string()),
        pa.field("published_at", pa.timestamp("ms", tz="UTC")),
        pa.field("published_at_local", pa.string()),
        pa.field("published_date", pa.date32()),
        pa.field("authors", pa.list_(pa.string()), nullable=False),
        pa.field("editors", pa.list_(pa.string()), nullable=False),
        pa.field("wire_sources", pa.list_(pa.string()), nullable=False),
        pa.field("language", pa.string()),
        pa.field("language_score", pa.float32()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("text_sha256", pa.string(), nullable=False),
        pa.field("n_paragraphs", pa.int32(), nullable=False),
        pa.field("n_words", pa.int32(), nullable=False),
        pa.field("n_chars", pa.int32(), nullable=False),
        pa.field("n_removed", pa.int32(), nullable=False),
        pa.field("removed", pa.list_(REMOVED_LINE), nullable=False),
        pa.field("dup_cluster", pa.string(), nullable=False),
    ]
)

COLUMNS_BEFORE_DEDUP = pa.schema([f for f in ARTICLE_SCHEMA if f.name != "dup_cluster"])


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def article_id(source_file: str, url: str | None) -> str:
    """Derive the id from where the article came from, never from its text, so it survives re-normalization."""
    identity = f"url:{url.strip()}" if url and url.strip() else f"file:{source_file}"
    return sha256_hex(identity)[:16]


def schema_fingerprint(schema: pa.Schema = ARTICLE_SCHEMA) -> str:
    return "sha256:" + sha256_hex(schema.remove_metadata().to_string())


@dataclass(slots=True)
class RemovedLine:
    """One line (or the part of one) that is not in the article's text, and the rule that took it out.

    Not frozen, as `Article` is not: a frozen dataclass sets each field through `object.__setattr__`
    (852 ns an instance against 264), and a page has about 20 of them."""

    line: int
    rule: str
    text: str


@dataclass
class Article:
    """One clean article; `removed` says why every other line of the dump is not in `text`."""

    id: str
    source_file: str
    url: str | None
    raw_sha256: str
    title: str | None
    outlet: str | None
    dateline_place: str | None
    published_at: datetime | None
    published_date: date | None
    authors: list[str]
    editors: list[str]
    wire_sources: list[str]
    language: str | None
    language_score: float | None
    text: str
    removed: list[RemovedLine] = field(default_factory=list)
    dup_cluster: str | None = None

    @property
    def removed_rules(self) -> list[str]:
        return [line.rule for line in self.removed]

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n") if self.text else []

    def derived(self) -> dict:
        """The columns computed from the fields (one definition for `to_row` and `record_batch`)."""
        text = self.text
        return {
            "published_at_local": self.published_at.isoformat() if self.published_at else None,
            "text_sha256": sha256_hex(text),
            "n_paragraphs": text.count("\n\n") + 1 if text else 0,  # len(self.paragraphs), without the list
            "n_words": len(text.split()),
            "n_chars": len(text),
            "n_removed": len(self.removed),
        }

    def to_row(self) -> dict:
        return {
            "id": self.id,
            "source_file": self.source_file,
            "url": self.url,
            "raw_sha256": self.raw_sha256,
            "title": self.title,
            "outlet": self.outlet,
            "dateline_place": self.dateline_place,
            "published_at": self.published_at,
            "published_date": self.published_date,
            "authors": self.authors,
            "editors": self.editors,
            "wire_sources": self.wire_sources,
            "language": self.language,
            "language_score": self.language_score,
            "text": self.text,
            **self.derived(),
            "removed": [{"line": r.line, "rule": r.rule, "text": r.text} for r in self.removed],
            "dup_cluster": self.dup_cluster,
        }


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record a release already holds, left as its Arrow row (`rows[row]`) to be written back as read.

    Rebuilding an `Article` from a row and converting it back cost more than a third of a re-run that
    reuses the records of unchanged inputs (`dataset.reuse`); a stored record keeps only what the
    pipeline reads besides the row: its identity, removal rules (stats), and the near-duplicate band
    keys the release kept of its text, or else the text, to be signed again."""

    id: str
    url: str | None
    raw_sha256: str
    text: str | None
    removed_rules: tuple[str, ...]
    rows: pa.RecordBatch  # COLUMNS_BEFORE_DEDUP
    row: int
    band_keys: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Unchanged:
    """An input a release (`version`) read with these very bytes and sidecar entry, its record left there.

    What a datatrove task hands on for such an input: the publisher takes the record from the release
    itself, once, instead of every task reading the rows of its share from all over it."""

    version: str
    raw_sha256: str


def stored_records(rows: pa.RecordBatch, band_keys: np.ndarray | None = None) -> Iterator[StoredRecord]:
    """Each of `rows` (COLUMNS_BEFORE_DEDUP, as a release holds them) as a StoredRecord; with the rows'
    `band_keys` (one row each), their texts are not read."""
    import pyarrow.compute as pc

    removed = rows.column("removed")
    rules = pc.struct_field(removed.flatten(), "rule").to_pylist()
    ends = pc.subtract(removed.offsets, removed.offsets[0]).to_pylist()
    texts = rows.column("text").to_pylist() if band_keys is None else [None] * rows.num_rows
    columns = [rows.column(name).to_pylist() for name in ("id", "url", "raw_sha256")]
    for row, (key, url, sha, text) in enumerate(zip(*columns, texts)):
        yield StoredRecord(key, url, sha, text, tuple(rules[ends[row]:ends[row + 1]]), rows, row,
                           None if band_keys is None else band_keys[row])


def record_batch(records: Sequence[Article | StoredRecord], schema: pa.Schema = COLUMNS_BEFORE_DEDUP
                 ) -> pa.RecordBatch:
    """`schema`'s columns of these records, in order: stored records' rows are taken as they are, each
    run of articles is converted (the same columns `RecordBatch.from_pylist([a.to_row() ...])` gives)."""
    parts = []
    for _, run in groupby(records, key=lambda r: id(r.rows) if isinstance(r, StoredRecord) else 0):
        run = list(run)
        if isinstance(run[0], StoredRecord):
            taken = run[0].rows.take(pa.array([r.row for r in run], pa.int64())).select(schema.names)
            parts.append(pa.RecordBatch.from_arrays(taken.columns, schema=schema))
        else:
            parts.append(_articles_batch(run, schema))
    if len(parts) == 1:
        return parts[0]
    return pa.concat_batches(parts) if parts else _articles_batch([], schema)


def _articles_batch(articles: Sequence[Article], schema: pa.Schema) -> pa.RecordBatch:
    """Built a column at a time: `from_pylist` converts each row's dicts, at about twice the cost."""
    removed = [line for article in articles for line in article.removed]
    offsets, total = [0], 0
    for article in articles:
        total += len(article.removed)
        offsets.append(total)
    removed_lines = pa.StructArray.from_arrays(
        [pa.array([r.line for r in removed], pa.int32()), pa.array([r.rule for r in removed], pa.string()),
         pa.array([r.text for r in removed], pa.string())], fields=list(REMOVED_LINE))
    derived = [article.derived() for article in articles]
    columns = {name: [row[name] for row in derived] for name in (derived[0] if derived else ())}
    columns["removed"] = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), removed_lines,
                                                  type=ARTICLE_SCHEMA.field("removed").type)
    arrays = []
    for column in schema:
        values = columns[column.name] if column.name in columns else [getattr(a, column.name) for a in articles]
        arrays.append(values if isinstance(values, pa.Array) else pa.array(values, column.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
