"""`warta normalize`: a folder of dumps -> the next immutable article release.

Two streaming passes keep memory flat in corpus size: the first normalizes and writes records
without clusters (an Arrow IPC file) while filling the near-duplicate index; the second adds
`dup_cluster`. The list of inputs waits in a temporary file, not in memory, and is streamed into
the release's `inputs.jsonl` (at 200,000 articles the peak fell from 580 to 438 MB, and from 412 to
334 MB when the list left manifest.json). Inputs the latest release read unchanged keep its records
(`dataset.reuse`), read alongside the listing. pyarrow allocates from jemalloc (or the system allocator)
while a release is written: its default mimalloc pool keeps pages of thousands of freed batches
(about 20 MB more at the peak at 20,000 articles).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyarrow as pa

from . import __version__
from .dedup import NearDuplicateIndex
from .normalize import NormalizeResult, NormalizeStats, normalize_stream, rarer_collections
from .reading import DEFAULT_MAX_BYTES, RawDocument, RejectedInput, UrlClaims, discover, load_sidecars
from .records import ARTICLE_SCHEMA, COLUMNS_BEFORE_DEDUP, Article, StoredRecord, record_batch
from .reuse import NEAR_DUPLICATE_KEYS, ParentRecords, normalizer_fingerprint, reuse_outcome, signer_fingerprint
from .store import INPUTS, Release, Store, side_file, write_parquet

log = logging.getLogger(__name__)
BATCH_ROWS = 2_000
# what reuse trusts a release for: the same records made from other inputs' bytes or sidecar entries, by
# another normalizer, or with band keys of another signer are a patch release (else the old release stays
# latest, and every later run finds nothing to reuse)
PROVENANCE = ("inputs", "normalizer", "near_duplicate_keys")


class InputList:
    """(source_file, sha256, bytes, sidecar digest) of every article, appended in any order, kept in a temporary
    file as the lines of the release's `inputs.jsonl`.

    `write_to` copies those lines when they were appended in order (as `discover()` lists them), and
    sorts them in memory only when they were not (a list kept as JSON tuples was encoded twice and
    decoded once more: 1.2 s of a 200,000-article publish)."""

    def __init__(self) -> None:
        # a name with undecodable bytes survives here; writing the release's file refuses it, as it always did
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass")
        self._count = 0
        self._last: tuple[str, str, int, str] | None = None
        self._in_order = True

    def append(self, item: tuple[str, str, int, str]) -> None:
        if self._last is not None and item < self._last:
            self._in_order = False
        self._last = item
        self._file.write(_input_line(item))
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def _read(self) -> Iterator[tuple[str, str, int, str]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            row = json.loads(line)
            yield row["source_file"], row["sha256"], row["bytes"], row.get("sidecar_sha256", "")
        self._file.seek(0, 2)

    def sorted(self) -> Iterator[tuple[str, str, int, str]]:
        return self._read() if self._in_order else iter(sorted(self._read()))

    def write_to(self, path: Path) -> None:
        """The release's `inputs.jsonl`: one line an input, sorted by name."""
        with path.open("w", encoding="utf-8") as handle:
            if self._in_order:
                self._file.flush()
                self._file.seek(0)
                shutil.copyfileobj(self._file, handle)
                self._file.seek(0, 2)
            else:
                handle.writelines(map(_input_line, self.sorted()))

    def close(self) -> None:
        self._file.close()


def _input_line(item: tuple[str, str, int, str]) -> str:
    name, sha, size, sidecar = item
    row = {"source_file": name, "sha256": sha, "bytes": size, **({"sidecar_sha256": sidecar} if sidecar else {})}
    return json.dumps(row, ensure_ascii=False) + "\n"


@contextmanager
def lean_arrow_pool() -> Iterator[None]:
    """pyarrow's allocations go to jemalloc (else the system allocator) inside the block; the pool is restored after.

    Arrow's C++ internals that ignore pyarrow's default pool keep theirs (`ARROW_DEFAULT_MEMORY_POOL` sets that)."""
    previous = pa.default_memory_pool()
    backends = pa.supported_memory_backends()
    pool = pa.jemalloc_memory_pool() if "jemalloc" in backends else pa.system_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@dataclass
class NormalizeRun:
    release: Release | None
    message: str
    stats: NormalizeStats
    rejected: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    reused: int = 0  # articles whose records were taken from the parent release
    reuse_note: str = ""  # where they came from, or why none were
    publish_seconds: float | None = None  # the datatrove engine's publish step, which runs on one core however many tasks


def _batches(articles: Iterable[Article | StoredRecord], schema: pa.Schema, size: int = BATCH_ROWS
             ) -> Iterator[pa.RecordBatch]:
    """Record batches of `schema`'s columns, `size` records each."""
    pending: list[Article | StoredRecord] = []
    for article in articles:
        pending.append(article)
        if len(pending) >= size:
            yield record_batch(pending, schema)
            pending = []
    if pending:
        yield record_batch(pending, schema)


def normalize_folder(
    source: Path,
    out: Path,
    version: str | None = None,
    pattern: str = "*.txt",
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_document: Callable[[str], None] | None = None,
    reuse: bool = True,
) -> NormalizeRun:
    """Normalize every dump under `source` into the next release of the store at `out`.

    With `reuse`, an input the latest release read with the same bytes, sidecar entry and normalizer
    gets that release's record back instead of being normalized again (`dataset.reuse`): same bytes out."""
    source, store = Path(source), Store(out)
    stats = NormalizeStats()
    rejected: list[dict] = []
    warnings: list[dict] = []
    inputs = InputList()
    index = NearDuplicateIndex()
    sidecar = load_sidecars(source)
    warnings.extend({"source_file": None, "warning": p} for p in sidecar.problems)

    def document_of(item: RawDocument | tuple[str, RejectedInput]) -> RawDocument | None:
        stats.documents += 1
        if isinstance(item, tuple):
            return None
        if on_document:
            on_document(item.source_file)
        return item

    claims = UrlClaims(sidecar)
    parent: ParentRecords | None = None
    note = "not asked for"

    def articles() -> Iterator[Article | StoredRecord]:
        nonlocal parent, note
        if reuse:  # under the store's lock: the latest release cannot change while it is read
            parent, note = ParentRecords.of(store)
            log.info(reuse_outcome(parent is not None, note))
        earlier = parent.take if parent is not None else None
        for item, result in normalize_stream(discover(source, pattern, sidecar), document_of, max_bytes,
                                             earlier=earlier):
            if isinstance(result, NormalizeResult):
                result = claims.refuse(item.source_file, result.article.url) or result
            if result is None or isinstance(result, RejectedInput):
                name, error = item if result is None else (item.source_file, result)
                rejected.append({"source_file": name, "code": error.code, "reason": error.message})
                stats.rejected[error.code] += 1
                log.warning("%s: rejected: %s", name, error.message)
                continue
            article = result.article
            for warning in result.warnings:
                warnings.append({"source_file": item.source_file, "warning": warning})
                log.warning("%s: %s", item.source_file, warning)
            inputs.append((item.source_file, article.raw_sha256, result.raw_bytes, item.sidecar.digest()))
            if isinstance(article, StoredRecord) and article.band_keys is not None:
                index.add_signed(article.id, article.band_keys)
            else:
                index.add(article.id, article.text)
            stats.count(article)
            yield article

    try:
        with rarer_collections():
            release, message = write_release(store, _batches(articles(), COLUMNS_BEFORE_DEDUP), index, stats, inputs,
                                             rejected, warnings, version)
    finally:
        inputs.close()
    return NormalizeRun(release, message, stats, rejected, warnings, parent.reused if parent else 0, note)


def write_release(store: Store, batches: Iterable[pa.RecordBatch], index: NearDuplicateIndex, stats: NormalizeStats,
                  inputs: InputList, rejected: list[dict], warnings: list[dict],
                  version: str | None = None) -> tuple[Release | None, str]:
    """Write the records (COLUMNS_BEFORE_DEDUP batches, in source_file order) as the next release, under the lock.

    `batches` is consumed under the store lock and may fill `index`, `stats`, `inputs`, `rejected` and
    `warnings` as it goes: they are read only after it is exhausted. Shared by every engine, so the same
    records give the same bytes whichever engine produced them.
    """
    with store.lock(), lean_arrow_pool():
        staging = store.staging()
        try:
            first_pass = staging / ".pass1.arrow"
            with pa.ipc.new_file(str(first_pass), COLUMNS_BEFORE_DEDUP) as writer:
                for batch in batches:
                    writer.write_batch(batch)
            labels = index.labels()

            def with_clusters() -> Iterator[pa.Table]:
                """Rows come back in the order they were added to the index, so labels go by position.

                The first pass is an Arrow IPC file: a batch is read back by copying, not by decoding
                Parquet, and comes back as it was written (same batches, so the same row groups)."""
                offset = 0
                with pa.OSFile(str(first_pass)) as handle:
                    reader = pa.ipc.open_file(handle)
                    for number in range(reader.num_record_batches):
                        table = pa.Table.from_batches([reader.get_batch(number)])
                        if table.column("id").to_pylist() != index.keys(offset, table.num_rows):
                            raise RuntimeError("records and near-duplicate index are out of step")
                        column = pa.array(labels[offset : offset + table.num_rows], pa.string())
                        offset += table.num_rows
                        yield table.append_column(ARTICLE_SCHEMA.field("dup_cluster"), column)

            files = write_parquet(with_clusters(), ARTICLE_SCHEMA, staging, "articles")
            first_pass.unlink()
            inputs.write_to(staging / INPUTS)
            listed = side_file(staging, INPUTS, rows=len(inputs))
            index.save_band_keys(staging / NEAR_DUPLICATE_KEYS)
            manifest = {
                "kind": "articles",
                "toolkit_version": __version__,
                "normalizer": normalizer_fingerprint(),
                "inputs": listed,
                "near_duplicate_keys": side_file(staging, NEAR_DUPLICATE_KEYS, shape=[len(index), index.bands],
                                                 signer=signer_fingerprint()),
                "rejected": rejected,
                "warnings": warnings,
                "stats": {**stats.as_dict(), "dup_clusters": len(set(labels))},
            }
            release, message = store.publish(staging, ARTICLE_SCHEMA, files, manifest, version,
                                             provenance_keys=PROVENANCE)
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise
    return release, message
