"""Throughput and peak memory of the pipeline stages on a synthetic corpus, next to a floor measured in the same run.

    python scripts/bench.py                          # 20,000 articles, every registered stage
    python scripts/bench.py --articles 5000 --stages normalize --json bench.json
    python scripts/bench.py --stages normalize,push,iob,export --push-articles 10000
    python scripts/bench.py --scaling --scaling-sizes 20000,200000 --stages normalize,export
    python scripts/bench.py --profile 2000           # cProfile of one normalize run, top 25 by cumulative time
    python scripts/bench.py --stages push --cprofile push   # the push runs under cProfile (numbers inflated)
    python scripts/bench.py --keep /tmp/warta-bench  # keep corpus and outputs; a kept corpus is reused

Every measurement runs in a fresh Python process, so its peak memory (`ru_maxrss` of that child,
read with `os.wait4`) belongs to that stage alone and includes the interpreter and its imports.
`items/s/core` divides by the CPU seconds the stage used (all threads), so it is throughput per
fully busy core whether or not the stage runs in parallel. For the stages that talk to Label
Studio, the CPU seconds include the server's (every process of its session), and the peak memory
is the client's only (the server's resident memory is reported in the notes).

Stages:
  normalize  normalize_folder end to end       floor: read bytes -> 1-column Parquet (pyarrow)
             then the same corpus with --engine datatrove, 4 tasks on 2 worker processes (if the
             extra is installed), and normalize again into a copy of the run's store: the corpus
             grown by 1%, the same corpus, and the grown corpus with --engine datatrove; these
             rows' ratios are over the default engine's first run's articles/s
  push       Pusher.push of N articles as tasks with predictions to a dedicated local Label Studio,
             then no-op re-pushes of the same release: the default (sync file + fingerprint check)
             and --full-sync (every task listed), each its own row
                                                floor: Label Studio's bulk import of the same task JSON
                                                       (data + predictions) in one request, fresh project
  iob        a Label Studio JSON export (2 annotations per article, from the pre-annotator's spans)
             -> CoNLL with annotation.tokens (tokenize per article, spans_to_iob per annotation)
                                                floor: label_studio_sdk Converter, CONLL2003, same file
  export     annotation.export.export + datasets.load_dataset of every config, annotations pulled from
             such an export file               floor: pyarrow reads the release, writes one Parquet file

To add a stage, write a function `(Context) -> dict` that does its imports, then times only the work
with `Timer`, and `register(Stage(...))` it; a stage may name the stages it needs (`requires`) and
read their outputs under `ctx.work`, prepare its input in a `setup` function (run in its own process,
untimed; what it returns lands in `ctx.options`), ask for a dedicated Label Studio server
(`labelstudio=True`), add rows measured after its run (`followups`), and have stage and floor run
`repeat` times each, alternating, with the median run reported (normalize and iob do).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as `python scripts/bench.py` from anywhere
    sys.path.insert(0, str(HERE.parent))

from scripts.synthetic import GENERATOR_VERSION, PER_FOLDER, CorpusInfo, make_corpus, score_clusters  # noqa: E402

TARGET_PER_CORE = 3_000  # articles/s per core the project aims for in `normalize`
TARGET_NOOP_PUSH_SECONDS_PER_10K = 5.0  # a no-op re-push of 10,000 tasks
TARGET_IOB_RATIO = 10.0  # annotation.tokens vs Label Studio's CONLL2003 converter
TARGET_SCALING_PEAK_RATIO = 1.5  # peak memory at 10x the articles (normalize and export)


# ---- measuring -------------------------------------------------------------------------------------

def _status_mb(key: str, pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


class Timer:
    """Wall and CPU time (every thread of the process) of a block, the resident memory when it began,
    and the process's peak resident memory so far when it ended."""

    def __enter__(self) -> "Timer":
        self.rss_start_mb = _rss_mb()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu
        self.hwm_end_mb = _status_mb("VmHWM")

    def result(self, items: int, **extra) -> dict:
        return {"items": items, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                "rss_start_mb": self.rss_start_mb, "hwm_end_mb": self.hwm_end_mb, **extra}


def _session_processes(session: int) -> list[tuple[int, list[str]]]:
    """(pid, stat fields after the command name) of every process in a session."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session:  # field 6 of stat(5): the session id
            found.append((int(entry.name), fields))
    return found


def server_cpu_seconds(session: int) -> float:
    """CPU seconds used so far by a server started in its own session (utime+stime, and of reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(sum(int(x) for x in fields[11:15]) for _, fields in _session_processes(session)) / ticks


def server_rss_mb(session: int) -> float:
    return sum(_status_mb("VmRSS", pid) for pid, _ in _session_processes(session))


class ServerTimer(Timer):
    """A Timer that also counts the CPU of a server's session; `cpu_seconds` is then client + server."""

    def __init__(self, session: int):
        self.session = session

    def __enter__(self) -> "ServerTimer":
        self._server = server_cpu_seconds(self.session)
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self.server_cpu_seconds = server_cpu_seconds(self.session) - self._server
        self.client_cpu_seconds = self.cpu_seconds
        self.cpu_seconds += self.server_cpu_seconds

    def result(self, items: int, **extra) -> dict:
        return super().result(items, client_cpu_seconds=self.client_cpu_seconds,
                              server_cpu_seconds=self.server_cpu_seconds,
                              server_rss_mb=server_rss_mb(self.session), **extra)


@dataclass(frozen=True)
class Context:
    """What a stage function gets: the corpus, a work folder shared by the stages of one run, the size,
    and options (command-line settings, what the stage's setup returned, where its server is)."""

    corpus: Path
    work: Path
    articles: int
    options: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"corpus": str(self.corpus), "work": str(self.work), "articles": self.articles, "options": self.options}

    @classmethod
    def from_json(cls, data: dict) -> "Context":
        return cls(Path(data["corpus"]), Path(data["work"]), data["articles"], data.get("options") or {})


@dataclass(frozen=True)
class Followup:
    """A further measurement of a stage, after its run, in its own process and its own table row.

    With `versus_run`, the row's ratio is its items/s over the stage run's (another way to do the same work)."""

    name: str
    run: Callable[[Context], dict]
    description: str = ""
    versus_run: bool = False


@dataclass(frozen=True)
class Stage:
    """One benchmarked stage: the timed work, the floor it is compared with, and an optional quality check.

    `setup`, `run`, `baseline` and each follow-up execute in fresh subprocesses and (but for `setup`)
    return `Timer.result(...)` dicts; `setup` returns options for the others. `evaluate` runs in the
    bench process afterwards with the run's result and the corpus ground truth.
    """

    name: str
    unit: str
    run: Callable[[Context], dict]
    baseline: Callable[[Context], dict] | None = None
    baseline_label: str = ""
    evaluate: Callable[[Context, CorpusInfo, dict], dict] | None = None
    requires: tuple[str, ...] = ()
    description: str = ""
    setup: Callable[[Context], dict] | None = None
    labelstudio: bool = False
    followups: tuple[Followup, ...] = ()
    repeat: int = 1  # runs of `baseline` and `run` each (alternating, fresh processes); the median is reported


STAGES: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    STAGES[stage.name] = stage
    return stage
# ---- stage: normalize ------------------------------------------------------------------------------

def normalize_run(ctx: Context) -> dict:
    import logging

    from dataset.pipeline import normalize_folder

    logging.basicConfig(level=logging.ERROR)
    out = ctx.work / "store"
    shutil.rmtree(out, ignore_errors=True)
    with Timer() as timer:
        run = normalize_folder(ctx.corpus, out)
    release = run.release
    return timer.result(
        run.stats.articles,
        documents=run.stats.documents,
        rejected=len(run.rejected),
        warnings=len(run.warnings),
        release=str(release.path) if release else None,
        release_mb=sum(f["bytes"] for f in release.manifest["files"]) / 2**20 if release else None,
    )


def parquet_floor(ctx: Context) -> dict:
    """The least any normalizer must do: find the files, read their bytes, write them as one Parquet text column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = ctx.work / "floor.parquet"
    schema = pa.schema([pa.field("text", pa.string(), nullable=False)])
    rows = 0
    with Timer() as timer:
        paths = sorted(p for p in ctx.corpus.rglob("*.txt") if p.is_file())
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for start in range(0, len(paths), 2_000):
                data = [p.read_bytes() for p in paths[start:start + 2_000]]
                writer.write_table(pa.table({"text": pa.array(data, pa.binary()).cast(pa.string())}, schema=schema))
                rows += len(data)
    size = out.stat().st_size / 2**20
    out.unlink()
    return timer.result(rows, parquet_mb=size)


def normalize_quality(ctx: Context, info: CorpusInfo, result: dict) -> dict:
    """Near-duplicate recall/precision of the release's `dup_cluster` against the planted groups."""
    import pyarrow.parquet as pq

    if not result.get("release"):
        return {}
    release = Path(result["release"])
    manifest = json.loads((release / "manifest.json").read_text())
    cluster_of: dict[str, str] = {}
    for entry in manifest["files"]:
        table = pq.read_table(release / entry["path"], columns=["source_file", "dup_cluster"])
        cluster_of.update(zip(table.column("source_file").to_pylist(), table.column("dup_cluster").to_pylist()))
    return score_clusters(info, cluster_of)


DATATROVE_TASKS, DATATROVE_WORKERS = 4, 2


def _without_datatrove(stage: str) -> dict | None:
    """A skipped row's result when the datatrove extra is not installed, else None."""
    from dataset.engines import EngineUnavailable, require_datatrove

    try:
        require_datatrove()
    except EngineUnavailable as error:
        print(f"{stage}: skipped: {error}", flush=True)
        return {"items": 0, "seconds": 0.0, "cpu_seconds": 0.0, "rss_start_mb": _rss_mb(), "hwm_end_mb": 0.0,
                "skipped": str(error)}
    return None


def _timed_datatrove(source: Path, out: Path) -> tuple:
    """`normalize_folder_datatrove` (4 tasks on 2 workers) timed, its workers' CPU seconds included."""
    import resource

    from dataset.engines import normalize_folder_datatrove

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Timer() as timer:
        run = normalize_folder_datatrove(source, out, tasks=DATATROVE_TASKS, workers=DATATROVE_WORKERS)
    from multiprocess import forkserver

    forkserver._forkserver._stop()  # private, bench-only: waits for the server, which has reaped the workers
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime
    result = timer.result(run.stats.articles, tasks=DATATROVE_TASKS, workers=DATATROVE_WORKERS,
                          worker_cpu_seconds=worker_cpu, worker_peak_mb=after.ru_maxrss / 1024,
                          publish_seconds=run.publish_seconds, inputs=run.stats.documents)
    result["cpu_seconds"] += worker_cpu
    return run, result


def normalize_datatrove_run(ctx: Context) -> dict:
    """The same corpus through `--engine datatrove`: 4 tasks, 2 worker processes at a time, then one publish.

    The workers are children of datatrove's fork server: stopping the server after the run reaps it, and
    with it the CPU of the workers it reaped, which `RUSAGE_CHILDREN` then counts."""
    import logging

    skipped = _without_datatrove("normalize (datatrove)")
    if skipped:
        return skipped
    logging.basicConfig(level=logging.ERROR)
    out = ctx.work / "store-datatrove"
    shutil.rmtree(out, ignore_errors=True)
    run, result = _timed_datatrove(ctx.corpus, out)
    same = _release(ctx.work / "store").path / "articles"
    other = run.release.path / "articles" if run.release else None
    result["same_bytes_as_default_engine"] = bool(other) and sorted(
        (f.name, f.read_bytes()) for f in same.glob("*.parquet")) == sorted((f.name, f.read_bytes()) for f in other.glob("*.parquet"))
    shutil.rmtree(out, ignore_errors=True)
    return result


GROWTH = 0.01


def _normalize_again(ctx: Context, grow: float, engine: str = "local") -> dict:
    """The corpus (hard links to its files) plus `grow` x its size of new articles, normalized into a copy of
    the run's store: the unchanged inputs' records are taken from its release (`dataset.reuse`)."""
    import logging

    from dataset.pipeline import normalize_folder

    skipped = _without_datatrove("normalize again (datatrove)") if engine == "datatrove" else None
    if skipped:
        return skipped
    logging.basicConfig(level=logging.ERROR)
    work = ctx.work / "again"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ctx.corpus, work / "dumps", copy_function=os.link)
    added = round(ctx.articles * grow)
    if added:
        make_corpus(work / "dumps" / "zz-added", added, seed=7_777)
    shutil.copytree(ctx.work / "store", work / "store")
    if engine == "datatrove":
        run, result = _timed_datatrove(work / "dumps", work / "store")
        result.update(reused=run.reused, added=added, message=run.message)
    else:
        with Timer() as timer:
            run = normalize_folder(work / "dumps", work / "store")
        result = timer.result(run.stats.articles, reused=run.reused, added=added, message=run.message)
    shutil.rmtree(work, ignore_errors=True)
    return result


def normalize_grown_run(ctx: Context) -> dict:
    return _normalize_again(ctx, GROWTH)


def normalize_unchanged_run(ctx: Context) -> dict:
    return _normalize_again(ctx, 0.0)


def normalize_grown_datatrove_run(ctx: Context) -> dict:
    return _normalize_again(ctx, GROWTH, "datatrove")


register(Stage(
    name="normalize",
    unit="articles",
    run=normalize_run,
    baseline=parquet_floor,
    baseline_label="pyarrow: read bytes -> 1-column Parquet",
    evaluate=normalize_quality,
    description="normalize_folder end to end: read, clean, metadata, MinHash, Parquet",
    followups=(Followup(f"datatrove engine, {DATATROVE_WORKERS} workers", normalize_datatrove_run,
                        f"warta normalize --engine datatrove --tasks {DATATROVE_TASKS} --workers {DATATROVE_WORKERS}",
                        versus_run=True),
               Followup(f"again, corpus grown by {GROWTH:.0%}", normalize_grown_run,
                        f"warta normalize on the corpus plus {GROWTH:.0%} new articles, into the store of the run: "
                        "unchanged inputs keep their records", versus_run=True),
               Followup("again, unchanged corpus", normalize_unchanged_run,
                        "warta normalize on the same corpus, into the store of the run: every record reused, "
                        "no new version", versus_run=True),
               Followup(f"datatrove engine again, corpus grown by {GROWTH:.0%}", normalize_grown_datatrove_run,
                        f"warta normalize --engine datatrove --tasks {DATATROVE_TASKS} --workers {DATATROVE_WORKERS} on "
                        f"the corpus plus {GROWTH:.0%} new articles, into the store of the run: the tasks pass unchanged "
                        "inputs over, the publish step takes their records from the release", versus_run=True)),
    repeat=3,  # one run's rate moved by up to 15% between runs on this shared 2-core machine
))


# ---- helpers for the annotation stages -------------------------------------------------------------

def _release(store: Path | str):
    from dataset.store import Store

    return Store(store).release()


def _connection(ctx: Context, timeout: float = 120.0):
    """A connection to the stage's Label Studio; the token is read from its data dir, never passed around."""
    from annotation.client import Connection
    from scripts.labelstudio import read_token

    return Connection(ctx.options["ls_url"], read_token(Path(ctx.options["ls_data_dir"])), timeout=timeout)


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20


def label_studio_export(ctx: Context, articles: int) -> tuple[Path, dict]:
    """A Label Studio JSON export of the first `articles` articles of the store's latest release.

    Each task is what `warta push` creates (its data from `task_data`, its prediction from the
    pre-annotator) plus two annotations made from the pre-annotator's spans: user 1 keeps them all,
    user 2, half an hour later, misses every fifth one; each also picks a stance for one target
    (user 2 disagrees on every fourth article). The fields are those of a Label Studio 1.x snapshot
    export. The file is kept under `ctx.work` and reused for the same release and size.
    """
    import hashlib

    from annotation.preannotate import PreAnnotator
    from annotation.push import TASK_FIELDS, prediction, task_data
    from annotation.schema import load_schema

    release = _release(ctx.work / "store")
    key = hashlib.sha256(json.dumps(release.manifest["files"], sort_keys=True).encode()).hexdigest()[:12]
    path = ctx.work / f"ls-export-{key}-{articles}.json"
    info_path = path.with_suffix(".info.json")
    if path.is_file() and info_path.is_file():
        return path, json.loads(info_path.read_text())

    started = time.perf_counter()
    rows: list[dict] = []
    for batch in release.iter_batches(columns=list(TASK_FIELDS)):
        rows.extend(batch.to_pylist())
        if len(rows) >= articles:
            break
    rows = rows[:articles]
    schema = load_schema()
    targets, choices = schema.stance_targets, schema.stance_choices
    annotator = PreAnnotator()
    tasks, annotation_id, spans = [], 0, 0
    for index, row in enumerate(rows):
        task_id = index + 1
        predicted = prediction(row["text"], annotator)
        regions = [{"id": f"r{n}", **{k: v for k, v in r.items() if k not in ("id", "score")}, "origin": "manual"}
                   for n, r in enumerate(predicted["result"])]
        control = schema.control_name_for_target(targets[index % len(targets)])
        first_choice = choices[index % len(choices)]
        second_choice = first_choice if index % 4 else choices[(index + 1) % len(choices)]
        annotations = []
        for user, result, choice, minute in ((1, regions, first_choice, 0),
                                             (2, [r for n, r in enumerate(regions) if n % 5 != 4], second_choice, 30)):
            annotation_id += 1
            stamp = f"2025-01-{1 + index % 28:02d}T09:{minute:02d}:{index % 60:02d}.000000Z"
            result = result + [{"id": "s0", "from_name": control, "to_name": "text", "type": "choices",
                                "value": {"choices": [choice]}, "origin": "manual"}]
            spans += len(result) - 1
            annotations.append({
                "id": annotation_id, "completed_by": user, "result": result, "was_cancelled": False,
                "ground_truth": False, "created_at": stamp, "updated_at": stamp, "draft_created_at": None,
                "lead_time": 60.0 + index % 120, "prediction": {}, "result_count": len(result),
                "unique_id": f"bench-{annotation_id}", "import_id": None, "last_action": None, "bulk_created": False,
                "task": task_id, "project": 1, "updated_by": user, "parent_prediction": None,
                "parent_annotation": None, "last_created_by": None,
            })
        tasks.append({
            "id": task_id, "annotations": annotations, "file_upload": None, "drafts": [],
            "predictions": [{"id": task_id, **predicted, "cluster": None, "neighbors": None, "mislabeling": 0.0,
                             "created_at": "2025-01-01T00:00:00.000000Z", "updated_at": "2025-01-01T00:00:00.000000Z",
                             "model": None, "model_run": None, "task": task_id, "project": 1}],
            "data": task_data(row, release.version), "meta": {}, "created_at": "2025-01-01T00:00:00.000000Z",
            "updated_at": "2025-01-01T00:00:00.000000Z", "inner_id": task_id, "total_annotations": 2,
            "cancelled_annotations": 0, "total_predictions": 1, "comment_count": 0, "unresolved_comment_count": 0,
            "last_comment_updated_at": None, "project": 1, "updated_by": None, "comment_authors": [],
        })
    with path.open("w", encoding="utf-8") as handle:
        json.dump(tasks, handle, ensure_ascii=False)
    info = {"tasks": len(tasks), "annotations": annotation_id, "spans": spans, "export_mb": path.stat().st_size / 2**20,
            "seconds": time.perf_counter() - started}
    info_path.write_text(json.dumps(info))
    return path, info


# ---- stage: push -----------------------------------------------------------------------------------

def push_setup(ctx: Context) -> dict:
    """The release to push: the normalize stage's, or (when that has more articles) a normalized subset."""
    import logging
    import uuid

    from dataset.pipeline import normalize_folder

    logging.basicConfig(level=logging.ERROR)
    wanted = min(ctx.options.get("push_articles", 10_000), ctx.articles)
    store = ctx.work / "store"
    info: dict = {}
    if wanted < ctx.articles or not (store.is_dir() and any(store.iterdir())):
        # the first n dumps of a corpus are the corpus of n dumps (the generator never looks ahead)
        subset = ctx.work / f"push-corpus-{wanted}"
        shutil.rmtree(subset, ignore_errors=True)
        names = sorted(p.relative_to(ctx.corpus).as_posix() for p in ctx.corpus.rglob("*.txt"))[:wanted]
        for name in names:
            target = subset / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(ctx.corpus / name, target)
            except OSError:
                shutil.copyfile(ctx.corpus / name, target)
        store = ctx.work / "push-store"
        shutil.rmtree(store, ignore_errors=True)
        with Timer() as timer:
            normalize_folder(subset, store)
        shutil.rmtree(subset, ignore_errors=True)
        info["normalized_subset"] = {"articles": len(names), "seconds": timer.seconds}
    release = _release(store)
    tag = uuid.uuid4().hex[:8]
    return {"options": {"push_store": str(store), "push_rows": release.read(columns=["id"]).num_rows,
                        "push_title": f"warta bench push {tag}", "import_title": f"warta bench import {tag}"},
            **info}


def push_floor(ctx: Context) -> dict:
    """Label Studio's own bulk import: the same task JSON (data + predictions) in one request, into a fresh project."""
    from annotation.preannotate import PreAnnotator
    from annotation.push import TASK_FIELDS, prediction, task_data
    from annotation.schema import labelstudio_config, load_schema

    release = _release(ctx.options["push_store"])
    annotator = PreAnnotator()
    with Timer() as build:
        tasks = [{"data": task_data(row, release.version), "predictions": [prediction(row["text"], annotator)]}
                 for batch in release.iter_batches(columns=list(TASK_FIELDS)) for row in batch.to_pylist()]
    request_mb = len(json.dumps(tasks).encode()) / 2**20
    connection = _connection(ctx, timeout=3600.0)
    client = connection.client()
    project = client.projects.create(title=ctx.options["import_title"], label_config=labelstudio_config(load_schema()))
    with ServerTimer(ctx.options["ls_pid"]) as timer:
        client.projects.import_tasks(project.id, request=tasks)
    on_server = client.projects.get(project.id).task_number
    if on_server != len(tasks):
        raise SystemExit(f"push floor: imported {len(tasks)} tasks but the project has {on_server}")
    return timer.result(len(tasks), build_seconds=build.seconds, request_mb=request_mb, project_id=project.id,
                        predictions=sum(len(t["predictions"][0]["result"]) for t in tasks))


def _push(ctx: Context, full_sync: bool = False) -> tuple[dict, object]:
    import logging

    from annotation.push import Pusher
    from annotation.schema import load_schema

    logging.basicConfig(level=logging.WARNING)
    release = _release(ctx.options["push_store"])
    # the store as state folder, as `warta push STORE` does: the sync file lands there
    pusher = Pusher(_connection(ctx), load_schema(), state_dir=Path(ctx.options["push_store"]), full_sync=full_sync)
    with ServerTimer(ctx.options["ls_pid"]) as timer:
        report = pusher.push(release, ctx.options["push_title"], batch_size=ctx.options.get("push_batch", 1000))
    if report.failed:
        raise SystemExit(f"push: {len(report.failed)} failures, first: {report.failed[0]}")
    extra = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
             "drifted": len(report.drifted), "project_id": report.project_id}
    return timer.result(report.created + report.updated + report.unchanged, **extra), report


def push_run(ctx: Context) -> dict:
    result, report = _push(ctx)
    if report.created != ctx.options["push_rows"]:
        raise SystemExit(f"push: created {report.created} tasks, expected {ctx.options['push_rows']}")
    return result


def push_noop(ctx: Context, full_sync: bool = False) -> dict:
    """The same release pushed again to the same project: nothing to create or update."""
    result, report = _push(ctx, full_sync=full_sync)
    if report.unchanged != ctx.options["push_rows"] or report.created or report.updated:
        raise SystemExit(f"no-op re-push: {report.summary()}")
    expected = "listing" if full_sync else "fingerprint"
    if report.sync != expected:
        raise SystemExit(f"no-op re-push: synced by {report.sync}, expected {expected}")
    return {**result, "sync": report.sync}


def push_noop_full(ctx: Context) -> dict:
    return push_noop(ctx, full_sync=True)


register(Stage(
    name="push",
    unit="tasks",
    run=push_run,
    baseline=push_floor,
    baseline_label="Label Studio import, 1 request",
    requires=("normalize",),
    setup=push_setup,
    labelstudio=True,
    followups=(Followup("no-op re-push", push_noop, "the same release pushed again: sync file + fingerprint check"),
               Followup("no-op re-push, --full-sync", push_noop_full,
                        "the same release pushed again, every task listed from the server")),
    description="Pusher.push: pre-annotate, list existing tasks, import in batches (with predictions)",
))


# ---- stage: iob ------------------------------------------------------------------------------------

def iob_setup(ctx: Context) -> dict:
    path, info = label_studio_export(ctx, ctx.options.get("annotated_articles", 1000))
    return {"options": {"ls_export": str(path)}, **info}


def iob_run(ctx: Context) -> dict:
    """Export file -> CoNLL with annotation.tokens: tokenize once per article, spans_to_iob per annotation.

    The row is tokenize + spans_to_iob alone (what the project's target is about); a second row times
    the whole file -> CoNLL path (JSON parse, Span objects, tokens and tags, writing), like the
    converter's. Importing spaCy and building the tokenizer happen once per process, before either
    (as importing the converter's module does for it); they are reported as `warmup_seconds`.
    """
    from annotation.schema import ENTITY_CONTROL_NAME
    from annotation.spans import Span
    from annotation.tokens import spans_to_iob, token_offsets, tokenize

    path = Path(ctx.options["ls_export"])
    out = ctx.work / "iob-ours"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with Timer() as warmup:
        tokenize("Presiden Joko Widodo tiba di Jl. Thamrin.")  # imports spaCy, builds the tokenizer
    with Timer() as total:
        with Timer() as parse:
            with path.open(encoding="utf-8") as handle:
                tasks = json.load(handle)
            work = []
            for task in tasks:
                done = [a for a in task["annotations"] if not a.get("was_cancelled")]
                if done:
                    work.append((task["data"]["text"], [
                        [Span(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
                         for r in a["result"] if r.get("from_name") == ENTITY_CONTROL_NAME] for a in done]))
        with Timer() as convert:
            converted = []
            for text, per_annotation in work:
                starts, ends = token_offsets(text)  # what export does: offsets once per article, no Token objects
                tokens = [text[s:e] for s, e in zip(starts, ends)]
                converted.append((tokens, [spans_to_iob(text, spans) for spans in per_annotation]))
        with Timer() as write:
            with (out / "result.conll").open("w", encoding="utf-8") as handle:
                handle.write("-DOCSTART- -X- O\n")
                for tokens, results in converted:
                    for iob in results:
                        handle.write("".join(f"{token} -X- _ {tag}\n" for token, tag in zip(tokens, iob.tags)) + "\n")
    annotations = entities = problems = tokens_total = 0
    for tokens, results in converted:
        for iob in results:
            annotations += 1
            tokens_total += len(tokens)
            entities += len(iob.kept)
            problems += len(iob.problems)
    end_to_end = {"stage": "file -> CoNLL, end to end", "items": annotations, "seconds": total.seconds,
                  "cpu_seconds": total.cpu_seconds, "rss_start_mb": total.rss_start_mb, "hwm_end_mb": total.hwm_end_mb,
                  "description": "JSON parse + Span objects + tokenize + spans_to_iob + write CoNLL"}
    return convert.result(annotations, warmup_seconds=warmup.seconds, parse_seconds=parse.seconds,
                          write_seconds=write.seconds, end_to_end_seconds=total.seconds, articles=len(work),
                          tokens=tokens_total, entities=entities, boundary_problems=problems, subrows=[end_to_end])


def iob_floor(ctx: Context) -> dict:
    """label_studio_sdk's Converter, CONLL2003, on the same export file (import of its module not timed).

    Afterwards, untimed for the row: its tokenize-and-tag function alone (`create_tokens_and_tags`)
    over the same annotations, to compare like with like with our tokenize + spans_to_iob."""
    with Timer() as importing:
        from label_studio_sdk.converter import Converter
        from label_studio_sdk.converter.utils import create_tokens_and_tags

    from annotation.schema import ENTITY_CONTROL_NAME, labelstudio_config, load_schema

    config = labelstudio_config(load_schema())
    out = ctx.work / "iob-converter"
    shutil.rmtree(out, ignore_errors=True)
    with Timer() as timer:
        converter = Converter(config=config, project_dir=None, download_resources=False)
        converter.convert(ctx.options["ls_export"], str(out), "CONLL2003", is_dir=False)
    blocks = entities = tokens = 0
    with (out / "result.conll").open(encoding="utf-8") as handle:
        in_block = False
        for line in handle:
            if line.startswith("-DOCSTART-"):
                continue
            if line == "\n":
                blocks += in_block
                in_block = False
                continue
            in_block = True
            tokens += 1
            entities += line.rstrip("\n").rsplit(" ", 1)[1].startswith("B-")
        blocks += in_block
    with open(ctx.options["ls_export"], encoding="utf-8") as handle:
        work = [(task["data"]["text"], [[{**r["value"], "type": "labels"} for r in a["result"]
                                         if r.get("from_name") == ENTITY_CONTROL_NAME]
                                        for a in task["annotations"] if not a.get("was_cancelled")])
                for task in json.load(handle)]
    with Timer() as core:
        for text, per_annotation in work:
            for spans in per_annotation:
                create_tokens_and_tags(text, spans)
    return timer.result(blocks, tokens=tokens, entities=entities, import_seconds=importing.seconds,
                        core_seconds=core.seconds, core_cpu_seconds=core.cpu_seconds)


register(Stage(
    name="iob",
    unit="annotations",
    run=iob_run,
    baseline=iob_floor,
    baseline_label="label_studio_sdk Converter CONLL2003",
    requires=("normalize",),
    setup=iob_setup,
    repeat=5,
    description="Label Studio JSON export -> CoNLL: tokenize per article, spans_to_iob per annotation",
))


# ---- stage: export ---------------------------------------------------------------------------------

def export_setup(ctx: Context) -> dict:
    """An annotation snapshot: `warta pull` of a Label Studio export file (see `label_studio_export`)."""
    from annotation.pull import pull

    path, info = label_studio_export(ctx, ctx.options.get("annotated_articles", 1000))
    annotations = ctx.work / "annotations"
    shutil.rmtree(annotations, ignore_errors=True)
    with Timer() as timer:
        run = pull(None, "bench", annotations, export_file=path)
    return {"options": {"annotations_dir": str(annotations)}, "export_file": info, "pull_seconds": timer.seconds,
            "pull_counts": run.counts}


def export_run(ctx: Context) -> dict:
    """annotation.export.export, then datasets.load_dataset of every config into a fresh cache."""
    import logging

    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    import datasets

    from annotation.export import export
    from annotation.schema import load_schema

    logging.basicConfig(level=logging.ERROR)
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    out, cache = ctx.work / "hf-export", ctx.work / "hf-cache"
    for folder in (out, cache):
        shutil.rmtree(folder, ignore_errors=True)
    schema = load_schema()
    with Timer() as timer:
        with Timer() as exporting:
            result = export(ctx.work / "store", Path(ctx.options["annotations_dir"]), out, schema)
        with Timer() as loading:
            loaded = {}
            for config, splits in result.rows.items():
                if splits:
                    dataset = datasets.load_dataset(str(out), config, cache_dir=str(cache))
                    loaded[config] = {split: dataset[split].num_rows for split in dataset}
    for config, splits in result.rows.items():
        if splits and loaded.get(config) != splits:
            raise SystemExit(f"export: {config} wrote {splits} rows but load_dataset read {loaded.get(config)}")
    articles = sum(result.rows["articles"].values())
    shutil.rmtree(cache, ignore_errors=True)
    return timer.result(articles, export_seconds=exporting.seconds, export_cpu_seconds=exporting.cpu_seconds,
                        export_peak_mb=exporting.hwm_end_mb, load_seconds=loading.seconds, rows=result.rows,
                        boundary_problems=len(result.boundary_problems), out_mb=_folder_mb(out))


def export_floor(ctx: Context) -> dict:
    """pyarrow reads the release's Parquet files and writes the same rows to one Parquet file."""
    import pyarrow.parquet as pq

    release = _release(ctx.work / "store")
    out = ctx.work / "export-floor.parquet"
    rows = 0
    with Timer() as timer:
        writer = None
        for path in release.files:
            source = pq.ParquetFile(path)
            if writer is None:
                writer = pq.ParquetWriter(out, source.schema_arrow, compression="zstd")
            for batch in source.iter_batches(batch_size=10_000):
                writer.write_batch(batch)
                rows += batch.num_rows
        if writer is not None:
            writer.close()
    size = out.stat().st_size / 2**20
    out.unlink()
    return timer.result(rows, parquet_mb=size)


register(Stage(
    name="export",
    unit="articles",
    run=export_run,
    baseline=export_floor,
    baseline_label="pyarrow: release -> 1 Parquet file",
    requires=("normalize",),
    setup=export_setup,
    description="annotation.export.export + datasets.load_dataset of every config",
))


# ---- running stages in fresh processes --------------------------------------------------------------

def _profile_normalize(ctx: Context) -> dict:
    """cProfile of one `normalize_folder` run (not timed for the table: the profiler slows it down)."""
    import cProfile
    import io
    import logging
    import pstats

    from dataset.pipeline import normalize_folder

    logging.basicConfig(level=logging.ERROR)
    out = ctx.work / "profile-store"
    shutil.rmtree(out, ignore_errors=True)
    profiler = cProfile.Profile()
    with Timer() as timer:
        profiler.enable()
        run = normalize_folder(ctx.corpus, out)
        profiler.disable()
    stats_path = ctx.work / "normalize.prof"
    profiler.dump_stats(stats_path)
    reports = {}
    for key in ("cumulative", "tottime"):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats(key).print_stats(25)
        reports[key] = buffer.getvalue()
    shutil.rmtree(out, ignore_errors=True)
    return timer.result(run.stats.articles, stats_path=str(stats_path), reports=reports)


def _followup_role(stage: str, run: Callable[[Context], dict]) -> str:
    """The role `measure` runs follow-up `run` of `stage` as."""
    return f"followup{[followup.run for followup in STAGES[stage].followups].index(run)}"


def _role_function(stage: str, role: str) -> Callable[[Context], dict]:
    if role == "profile":
        return _profile_normalize
    if role.startswith("followup"):
        return STAGES[stage].followups[int(role.removeprefix("followup"))].run
    return getattr(STAGES[stage], role)  # run, baseline, setup


def _report(profiler, limit: int = 30) -> dict:
    import io
    import pstats

    reports = {}
    for key in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats(key).print_stats(limit)
        reports[key] = buffer.getvalue()
    return reports


def _worker(spec: str) -> None:
    job = json.loads(spec)
    function = _role_function(job["stage"], job["role"])
    ctx = Context.from_json(job["context"])
    if job.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        result = function(ctx)
        profiler.disable()
        profiler.dump_stats(job["profile"])
        result.update(profiled=True, stats_path=job["profile"], reports=_report(profiler))
    else:
        result = function(ctx)
    Path(job["result"]).write_text(json.dumps(result, default=str))


def measure(stage: str, role: str, ctx: Context, profile: Path | None = None) -> dict:
    """Run one stage function in a fresh interpreter; its result plus that process's peak RSS and CPU."""
    result_path = ctx.work / f".result-{stage}-{role}-{os.getpid()}.json"
    spec = json.dumps({"stage": stage, "role": role, "context": ctx.to_json(), "result": str(result_path),
                       "profile": str(profile) if profile else None})
    load_before, git_head = os.getloadavg(), _git_head()
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", spec])
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{stage} ({role}) failed with exit code {process.returncode}")
    result = json.loads(result_path.read_text())
    result_path.unlink()
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    result["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["loadavg_before"], result["loadavg_after"] = list(load_before), list(os.getloadavg())
    result["git_head"] = git_head
    return result


def _median_run(results: list[dict]) -> dict:
    """The run with the median time (all of them listed in `seconds_all`): short stages vary by 10-20% run to run."""
    ranked = sorted(results, key=lambda r: r["seconds"])
    median = dict(ranked[(len(ranked) - 1) // 2])
    if len(results) > 1:
        median["seconds_all"] = [round(r["seconds"], 3) for r in results]
    return median


def _rates(result: dict) -> dict:
    items, seconds, cpu = result["items"], result["seconds"], result["cpu_seconds"]
    return {
        "items_per_s": items / seconds if seconds else None,
        "items_per_s_core": items / cpu if cpu else None,
        "cores_used": cpu / seconds if seconds else None,
    }


# ---- corpus ----------------------------------------------------------------------------------------

def corpus(work: Path, n: int, seed: int, duplicate_rate: float) -> CorpusInfo:
    """The synthetic corpus of this size under `work`, reused when an identical one is already there."""
    folder = work / f"corpus-{n}-s{seed}-d{duplicate_rate:g}"
    info_path = work / f"{folder.name}.json"
    if info_path.is_file():
        info = CorpusInfo.load(info_path)
        if (info.n, info.seed, info.duplicate_rate, info.version, info.per_folder) == (
                n, seed, duplicate_rate, GENERATOR_VERSION, PER_FOLDER) and info.folder == folder and folder.is_dir():
            print(f"corpus: reusing {n:,} articles in {folder}", flush=True)
            return info
    shutil.rmtree(folder, ignore_errors=True)
    info = make_corpus(folder, n, seed=seed, duplicate_rate=duplicate_rate)
    info.save(info_path)
    print(f"corpus: {info.n:,} dumps, {info.bytes / 2**20:.1f} MB, {info.duplicates:,} planted near-duplicates in "
          f"{len(info.groups):,} groups, written in {info.seconds:.1f}s ({info.n / info.seconds:,.0f} files/s) "
          f"to {folder}", flush=True)
    return info


# ---- the run ---------------------------------------------------------------------------------------

def _ordered(names: list[str]) -> list[str]:
    wanted: list[str] = []

    def add(name: str) -> None:
        if name not in STAGES:
            raise SystemExit(f"unknown stage {name!r} (known: {', '.join(STAGES)})")
        for dependency in STAGES[name].requires:
            add(dependency)
        if name not in wanted:
            wanted.append(name)

    for name in names:
        add(name)
    return wanted


def _start_labelstudio(work: Path) -> tuple[dict, Path]:
    """A dedicated Label Studio server with a fresh data dir under `work`; its URL, data dir and pid."""
    from scripts import labelstudio

    labelstudio.ensure_server_installed()
    data_dir = Path(tempfile.mkdtemp(prefix="labelstudio-", dir=work))
    started = time.perf_counter()
    info = labelstudio.start(data_dir, timeout=600)
    print(f"label studio {labelstudio.LABEL_STUDIO_VERSION}: up at {info.url} after {time.perf_counter() - started:.1f}s "
          f"(pid {info.pid}, data in {data_dir})", flush=True)
    return {"ls_url": info.url, "ls_data_dir": str(data_dir), "ls_pid": info.pid,
            "ls_version": labelstudio.LABEL_STUDIO_VERSION, "ls_start_seconds": time.perf_counter() - started}, data_dir


def _stop_labelstudio(data_dir: Path) -> None:
    from scripts import labelstudio

    labelstudio.stop(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def bench_stage(name: str, ctx: Context, info: CorpusInfo | None, profile_dir: Path | None = None) -> list[dict]:
    """The stage's row (run next to its floor) and one row per follow-up; setup and server are untimed."""
    stage = STAGES[name]
    row: dict = {"stage": name, "unit": stage.unit, "description": stage.description}
    rows = [row]
    options = dict(ctx.options)
    server_dir = None

    def profile(role: str) -> Path | None:
        return profile_dir / f"{name}-{role}.prof" if profile_dir else None

    try:
        if stage.labelstudio:
            server, server_dir = _start_labelstudio(ctx.work)
            options.update(server)
            row["labelstudio"] = {k: v for k, v in server.items() if k in ("ls_version", "ls_start_seconds")}
        if stage.setup is not None:
            print(f"{name}: preparing (untimed) ...", flush=True)
            setup = measure(name, "setup", dataclasses.replace(ctx, options=options))
            options.update(setup.pop("options", {}))
            row["setup"] = setup
        ctx = dataclasses.replace(ctx, options=options)
        floors, results = [], []
        repeat = 1 if profile("run") else stage.repeat
        for attempt in range(1, repeat + 1):
            of = f" ({attempt} of {repeat})" if repeat > 1 else ""
            if stage.baseline is not None:
                print(f"{name}: measuring the floor ({stage.baseline_label}){of} ...", flush=True)
                floors.append(measure(name, "baseline", ctx))
            print(f"{name}: measuring {stage.unit}{of} ...", flush=True)
            results.append(measure(name, "run", ctx, profile("run")))
        if floors:
            floor = _median_run(floors)
            row["baseline"] = {"label": stage.baseline_label, **floor, **_rates(floor)}
        result = _median_run(results)
        subrows = result.pop("subrows", [])
        row.update(result)
        row.update(_rates(result))
        if stage.baseline is not None and row["baseline"]["items_per_s"]:
            row["ratio"] = row["items_per_s"] / row["baseline"]["items_per_s"]
        for sub in subrows:  # another view of the same run: same process, same peak memory
            sub = {**sub, "stage": f"{name} ({sub['stage']})", "unit": stage.unit, "peak_mb": result["peak_mb"],
                   "loadavg_before": result["loadavg_before"], "loadavg_after": result["loadavg_after"], "subrow": True}
            sub.update(_rates(sub))
            if stage.baseline is not None and row["baseline"]["items_per_s"]:
                sub["ratio"] = sub["items_per_s"] / row["baseline"]["items_per_s"]
            rows.append(sub)
        if stage.evaluate is not None and info is not None:
            row["quality"] = stage.evaluate(ctx, info, result)
        for index, followup in enumerate(stage.followups):
            print(f"{name}: measuring the {followup.name} ...", flush=True)
            result = measure(name, f"followup{index}", ctx, profile(f"followup{index}"))
            followed = {"stage": f"{name} ({followup.name})", "unit": stage.unit, "description": followup.description,
                        **result, **_rates(result)}
            if followup.versus_run and followed["items_per_s"] and row.get("items_per_s"):
                followed["versus"] = {"stage": name, "items_per_s": row["items_per_s"],
                                      "items_per_s_core": row["items_per_s_core"]}
                followed["ratio"] = followed["items_per_s"] / row["items_per_s"]
            rows.append(followed)
    finally:
        if server_dir is not None:
            _stop_labelstudio(server_dir)
    return rows


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def markdown_table(rows: list[dict]) -> str:
    lines = ["| stage | items | seconds | items/s | items/s/core | peak MB | baseline items/s | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        floor = row.get("baseline") or {}
        ratio = row.get("ratio")
        name = row["stage"] + (" (under cProfile)" if row.get("profiled") else "")
        lines.append(
            f"| {name} | {row['items']:,} | {_num(row['seconds'], 2)} | {_num(row['items_per_s'])} | "
            f"{_num(row['items_per_s_core'])} | {_num(row['peak_mb'])} | {_num(floor.get('items_per_s'))} | "
            f"{'—' if ratio is None else f'{ratio:.3f}'} |")
        if floor:
            lines.append(
                f"| ↳ floor: {floor['label']} | {floor['items']:,} | {_num(floor['seconds'], 2)} | "
                f"{_num(floor['items_per_s'])} | {_num(floor['items_per_s_core'])} | {_num(floor['peak_mb'])} | — | — |")
    return "\n".join(lines)


def _load(row: dict) -> str:
    before, after = row.get("loadavg_before"), row.get("loadavg_after")
    return f"load average {before[0]:.2f} before, {after[0]:.2f} after" if before and after else ""


def _publish_share(row: dict) -> str:
    """The datatrove run's publish step, which runs on one core however many tasks: what bounds a cluster run."""
    seconds = row.get("publish_seconds")
    if not seconds:
        return "publish step not timed"
    return (f"its publish step (one core) took {seconds:.1f} s of {row['seconds']:.1f} "
            f"({row['inputs'] / seconds:,.0f} inputs/s)")


def describe(row: dict) -> list[str]:
    if row.get("subrow"):
        return []
    if row.get("skipped"):
        return [f"- {row['stage']}: skipped: {row['skipped']}"]
    if row.get("versus"):
        versus = row["versus"]
        head = (f"- {row['stage']}: {row['items_per_s']:,.0f} {row['unit']}/s on the clock, {row['ratio']:.2f}x the "
                f"{versus['stage']}")
        if "reused" in row:
            return [f"{head} run's {versus['items_per_s']:,.0f}/s (the ratio column); {row['reused']:,} of "
                    f"{row['items']:,} records reused, {row['added']:,} articles added; {row['message']}"
                    + (f"; {_publish_share(row)}" if "publish_seconds" in row else "")]
        return [f"{head} default engine's {versus['items_per_s']:,.0f}/s (the ratio column); "
                f"{row['items_per_s_core']:,.0f}/s per core against {versus['items_per_s_core']:,.0f}; "
                f"{row['cores_used']:.2f} cores busy (the workers' {row['worker_cpu_seconds']:.1f} CPU seconds included, the "
                f"largest worker {row['worker_peak_mb']:,.0f} MB); {_publish_share(row)}; the same Parquet bytes as the "
                f"default engine: {'yes' if row['same_bytes_as_default_engine'] else 'NO'}"]
    notes = [f"- {row['stage']}: {row['cores_used']:.2f} cores busy on average; "
             f"{row['rss_start_mb']:.0f} MB resident after imports, {row['peak_mb']:.0f} MB peak; {_load(row)}"]
    floor = row.get("baseline") or {}
    stage = row["stage"]
    if stage == "normalize":
        per_core = row["items_per_s_core"]
        verdict = "meets" if per_core >= TARGET_PER_CORE else f"is {TARGET_PER_CORE / per_core:.1f}x below"
        notes.append(f"- normalize: {per_core:,.0f} articles/s/core {verdict} the target of {TARGET_PER_CORE:,}; "
                     f"{row.get('rejected', 0)} rejected, {row.get('warnings', 0)} warnings, release "
                     f"{_num(row.get('release_mb'), 1)} MB")
        quality = row.get("quality") or {}
        if quality:
            notes.append(
                f"- near-duplicates: pairwise recall {_num(quality['recall'], 3)}, precision "
                f"{_num(quality['precision'], 3)} ({quality['correct_pairs']:,} of {quality['true_pairs']:,} planted "
                f"pairs found; {quality['predicted_pairs']:,} pairs predicted); {quality['copies_found']:,} of "
                f"{quality['copies']:,} planted copies share their original's cluster")
    elif stage == "push":
        notes.append(
            f"- push: {row['created']:,} tasks created in {row['seconds']:.1f}s ({row['items_per_s']:,.0f} tasks/s); "
            f"CPU {row['client_cpu_seconds']:.1f}s client + {row['server_cpu_seconds']:.1f}s server; "
            f"server resident {row['server_rss_mb']:,.0f} MB afterwards")
        if floor:
            notes.append(
                f"- push floor: Label Studio imported the same {floor['items']:,} tasks ({floor['request_mb']:.1f} MB of "
                f"JSON, {floor['predictions']:,} predicted regions) in one request in {floor['seconds']:.1f}s "
                f"(CPU {floor['client_cpu_seconds']:.1f}s client + {floor['server_cpu_seconds']:.1f}s server); building "
                f"that JSON (task_data + pre-annotation, not in the floor's time) took {floor['build_seconds']:.1f}s; "
                f"push / floor = {row.get('ratio', float('nan')):.2f}")
    elif stage.startswith("push (no-op"):
        target = TARGET_NOOP_PUSH_SECONDS_PER_10K * row["items"] / 10_000
        verdict = "meets" if row["seconds"] <= target else f"is {row['seconds'] / target:.1f}x over"
        if row.get("sync") == "listing":
            verdict = f"for comparison (the target applies to the default push) {verdict}"
        notes.append(f"- {stage.removeprefix('push (').rstrip(')')}: {row['unchanged']:,} tasks unchanged in "
                     f"{row['seconds']:.2f}s (synced by {row.get('sync', '?')}), {verdict} the "
                     f"target of {target:.1f}s ({TARGET_NOOP_PUSH_SECONDS_PER_10K:g}s per 10,000 tasks); CPU "
                     f"{row['client_cpu_seconds']:.1f}s client + {row['server_cpu_seconds']:.1f}s server")
    elif stage == "iob":
        ratio = row.get("ratio")
        verdict = ("meets" if ratio and ratio >= TARGET_IOB_RATIO else
                   f"is {TARGET_IOB_RATIO / ratio:.1f}x short of" if ratio else "cannot be checked against")
        notes.append(
            f"- iob: {row['items']:,} annotations of {row['articles']:,} articles ({row['tokens']:,} tokens): "
            f"tokenize + spans_to_iob {row['seconds']:.2f}s; end to end {row['end_to_end_seconds']:.2f}s = JSON parse "
            f"and Span objects {row['parse_seconds']:.2f}s + that + writing CoNLL {row['write_seconds']:.2f}s; importing "
            f"spaCy and building the tokenizer beforehand took {row['warmup_seconds']:.2f}s (in neither row); "
            f"{row['entities']:,} entities tagged, {row['boundary_problems']:,} spans left out with a boundary problem")
        if floor:
            notes.append(
                f"- iob vs Label Studio's converter (Converter.convert, file in, CoNLL out, {floor['seconds']:.2f}s; "
                f"importing its module {floor['import_seconds']:.2f}s, not timed): tokenize + spans_to_iob is "
                f"{ratio:.1f}x its throughput, which {verdict} the target of {TARGET_IOB_RATIO:g}x; end to end "
                f"{floor['seconds'] / row['end_to_end_seconds']:.1f}x; like for like, our tokenize + spans_to_iob vs its "
                f"create_tokens_and_tags alone ({floor['core_seconds']:.2f}s) is {floor['core_seconds'] / row['seconds']:.1f}x. "
                f"The converter tagged {floor['entities']:,} entities over {floor['tokens']:,} tokens in {floor['items']:,} blocks")
        if row.get("seconds_all"):
            notes.append(f"- iob: median of {len(row['seconds_all'])} runs each, alternating, fresh processes: ours "
                         f"{row['seconds_all']} s, the converter's {floor.get('seconds_all')} s")
    elif stage == "export":
        setup = row.get("setup") or {}
        counts = setup.get("pull_counts") or {}
        notes.append(
            f"- export: export() {row['export_seconds']:.1f}s (peak so far {row['export_peak_mb']:,.0f} MB) + "
            f"load_dataset of every config {row['load_seconds']:.1f}s; rows {json.dumps(row['rows'])}; "
            f"{row['boundary_problems']} boundary problems; folder {row['out_mb']:.1f} MB; annotations from "
            f"pull of {counts.get('annotations', '?')} annotations on {counts.get('tasks', '?')} tasks "
            f"({setup.get('pull_seconds', float('nan')):.1f}s, untimed)")
        if floor:
            notes.append(f"- export floor: pyarrow rewrote {floor['items']:,} rows in {floor['seconds']:.2f}s, peak "
                         f"{floor['peak_mb']:,.0f} MB; export / floor = {row.get('ratio', float('nan')):.3f}")
    return notes


SCALING_STAGES = ("normalize", "export")


DATATROVE_SCALING = f"normalize, datatrove engine ({DATATROVE_TASKS} tasks on {DATATROVE_WORKERS} workers)"


def run_scaling(work: Path, sizes: list[int], seed: int, duplicate_rate: float, stages: list[str], options: dict) -> dict:
    """Normalize (and, if asked, export) at each size, each in a fresh process; peak-memory ratios largest/smallest."""
    rows: dict[str, list[dict]] = {name: [] for name in stages}
    for n in sizes:
        info = corpus(work, n, seed, duplicate_rate)
        ctx = Context(info.folder, work, n, options)
        print(f"scaling: normalize on {n:,} articles ...", flush=True)
        result = measure("normalize", "run", ctx)
        if "normalize" in rows:
            rows["normalize"].append({"articles": n, **result, **_rates(result)})
            print(f"scaling: normalize --engine datatrove on {n:,} articles ...", flush=True)
            # its peak is the publish step's: it runs in the measured process
            result = measure("normalize", _followup_role("normalize", normalize_datatrove_run), ctx)
            if not result.get("skipped"):
                rows.setdefault(DATATROVE_SCALING, []).append({"articles": n, **result, **_rates(result)})
        if "export" in rows:
            print(f"scaling: export on {n:,} articles (preparing annotations, untimed) ...", flush=True)
            setup = measure("export", "setup", ctx)
            ctx = dataclasses.replace(ctx, options={**options, **setup.pop("options")})
            print(f"scaling: export on {n:,} articles ...", flush=True)
            result = measure("export", "run", ctx)
            rows["export"].append({"articles": n, **result, **_rates(result), "setup": setup})
            for folder in ("hf-export", "annotations"):
                shutil.rmtree(work / folder, ignore_errors=True)
        shutil.rmtree(work / "store", ignore_errors=True)
    summary = {}
    for name, stage_rows in rows.items():
        small, large = stage_rows[0], stage_rows[-1]
        summary[name] = {
            "rows": stage_rows,
            "size_ratio": large["articles"] / small["articles"],
            "peak_mb_ratio": large["peak_mb"] / small["peak_mb"],
            "peak_growth_mb_ratio": (large["peak_mb"] - large["rss_start_mb"]) / max(small["peak_mb"] - small["rss_start_mb"], 1e-9),
            "throughput_ratio": large["items_per_s"] / small["items_per_s"],
        }
    return summary


def scaling_table(scaling: dict) -> str:
    lines = ["| stage | articles | seconds | items/s | items/s/core | MB after imports | peak MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, summary in scaling.items():
        for row in summary["rows"]:
            lines.append(f"| {name} | {row['articles']:,} | {row['seconds']:,.1f} | {_num(row['items_per_s'])} | "
                         f"{_num(row['items_per_s_core'])} | {row['rss_start_mb']:,.0f} | {row['peak_mb']:,.0f} |")
    lines.append("")
    for name, summary in scaling.items():
        ratio = summary["peak_mb_ratio"]
        verdict = "meets" if ratio <= TARGET_SCALING_PEAK_RATIO else "misses"
        lines.append(f"- {name}: {summary['size_ratio']:g}x the articles: peak memory x{ratio:.2f} ({verdict} the target "
                     f"of x{TARGET_SCALING_PEAK_RATIO:g}; growth above the post-import baseline "
                     f"x{summary['peak_growth_mb_ratio']:.2f}), throughput x{summary['throughput_ratio']:.2f}")
        for row in summary["rows"]:
            if name == "export":
                lines.append(f"  - {row['articles']:,}: export() {row['export_seconds']:.1f}s, peak after export() "
                             f"{row['export_peak_mb']:,.0f} MB; load_dataset {row['load_seconds']:.1f}s; {_load(row)}")
            elif "publish_seconds" in row:
                lines.append(f"  - {row['articles']:,}: {_publish_share(row)}; {_load(row)}")
            else:
                lines.append(f"  - {row['articles']:,}: {_load(row)}")
    return "\n".join(lines)


def _git_head() -> str | None:
    """The commit (and whether the library has uncommitted changes): others may commit while a bench runs."""
    try:
        head = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "dataset", "annotation"],
                               capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return None
    changed = sorted(line[3:] for line in dirty if line.strip())
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "load average %.2f, %.2f, %.2f" % os.getloadavg()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000, help="corpus size (default 20000)")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated; known: {', '.join(STAGES)}")
    parser.add_argument("--push-articles", type=int, default=10_000,
                        help="articles pushed to Label Studio (default 10000; a subset is normalized when fewer than --articles)")
    parser.add_argument("--push-batch", type=int, default=1000, help="Pusher batch size (default 1000)")
    parser.add_argument("--annotated-articles", type=int, default=1000,
                        help="articles in the synthetic Label Studio export (2 annotations each) for iob and export")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (a matching corpus there is reused)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duplicate-rate", type=float, default=0.05)
    parser.add_argument("--scaling", action="store_true",
                        help="also run normalize and export (those of --stages) at two sizes; report the peak-memory ratio")
    parser.add_argument("--scaling-sizes", default="20000,200000", help="the two (or more) sizes for --scaling")
    parser.add_argument("--profile", type=int, metavar="N", help="instead of the table: cProfile normalize on N articles")
    parser.add_argument("--cprofile", default="", metavar="STAGES",
                        help="run these stages' measured work (run and follow-ups) under cProfile; their times are inflated")
    parser.add_argument("--profile-dir", type=Path, help="where --cprofile writes .prof files (default: the work folder)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return 0

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="warta-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    report: dict = {"meta": {"python": platform.python_version(), "platform": platform.platform(), "cores": cores,
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "work": str(work),
                             "uptime_start": _uptime(), "git_head": _git_head(),
                             "argv": sys.argv[1:] if argv is None else argv}}
    options = {"push_articles": args.push_articles, "push_batch": args.push_batch,
               "annotated_articles": args.annotated_articles}
    profiled = {s.strip() for s in args.cprofile.split(",") if s.strip()}
    profile_dir = (args.profile_dir or work).resolve()
    if profiled:
        profile_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {cores} cores; {report['meta']['uptime_start']}", flush=True)
    try:
        if args.profile:
            info = corpus(work, args.profile, args.seed, args.duplicate_rate)
            result = measure("normalize", "profile", Context(info.folder, work, info.n, options))
            print(f"\nnormalize under cProfile: {result['items']:,} articles in {result['seconds']:.1f}s "
                  f"(stats in {result['stats_path']})\n")
            print(result["reports"]["cumulative"])
            print(result["reports"]["tottime"])
            report["profile"] = result
        else:
            selected = [s.strip() for s in args.stages.split(",") if s.strip() and s.strip() != "none"]
            names = _ordered(selected)
            rows = []
            if names:
                info = corpus(work, args.articles, args.seed, args.duplicate_rate)
                report["corpus"] = {k: v for k, v in info.to_json().items() if k not in ("files", "groups", "outlets")}
                ctx = Context(info.folder, work, info.n, options)
                for name in names:
                    rows.extend(bench_stage(name, ctx, info, profile_dir if name in profiled else None))
                report["stages"] = rows
                report["meta"]["uptime_after_stages"] = _uptime()
                print(f"\n{info.n:,} synthetic articles, {cores} cores, Python {platform.python_version()}; "
                      f"{report['meta']['uptime_after_stages']}\n")
                print(markdown_table(rows))
                print()
                for row in rows:
                    print("\n".join(describe(row)))
                for row in rows:
                    if row.get("reports"):
                        print(f"\n{row['stage']} under cProfile ({row['stats_path']}):\n")
                        print(row["reports"]["cumulative"])
                        print(row["reports"]["tottime"])
            if args.scaling:
                sizes = [int(s) for s in args.scaling_sizes.split(",")]
                scaled = [name for name in SCALING_STAGES if name in selected] or ["normalize"]
                scaling = run_scaling(work, sizes, args.seed, args.duplicate_rate, scaled, options)
                report["scaling"] = scaling
                report["meta"]["uptime_after_scaling"] = _uptime()
                print(f"\nscaling ({report['meta']['uptime_after_scaling']})\n")
                print(scaling_table(scaling))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
            print(f"\nwrote {args.json}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
