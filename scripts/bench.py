"""Throughput and peak memory of the pipeline stages on a synthetic corpus, next to a floor measured in the same run.

    python scripts/bench.py                          # 20,000 articles, every registered stage
    python scripts/bench.py --articles 5000 --stages normalize --json bench.json
    python scripts/bench.py --scaling --scaling-sizes 20000,200000
    python scripts/bench.py --profile 2000           # cProfile of one normalize run, top 25 by cumulative time
    python scripts/bench.py --keep /tmp/warta-bench  # keep corpus and outputs; a kept corpus is reused

Every measurement runs in a fresh Python process, so its peak memory (`ru_maxrss` of that child,
read with `os.wait4`) belongs to that stage alone and includes the interpreter and its imports.
`items/s/core` divides by the CPU seconds the stage used (all threads), so it is throughput per
fully busy core whether or not the stage runs in parallel.

To add a stage (push to Label Studio, span -> IOB, HF export), write a function `(Context) -> dict`
that does its imports, then times only the work with `Timer`, and `register(Stage(...))` it; a stage
may name the stages it needs (`requires`) and read their outputs under `ctx.work`.
"""

from __future__ import annotations

import argparse
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


# ---- measuring -------------------------------------------------------------------------------------

def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Timer:
    """Wall and CPU time (every thread of the process) of a block, and the resident memory when it began."""

    def __enter__(self) -> "Timer":
        self.rss_start_mb = _rss_mb()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu

    def result(self, items: int, **extra) -> dict:
        return {"items": items, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                "rss_start_mb": self.rss_start_mb, **extra}


@dataclass(frozen=True)
class Context:
    """What a stage function gets: the corpus, a work folder shared by the stages of one run, the size."""

    corpus: Path
    work: Path
    articles: int

    def to_json(self) -> dict:
        return {"corpus": str(self.corpus), "work": str(self.work), "articles": self.articles}

    @classmethod
    def from_json(cls, data: dict) -> "Context":
        return cls(Path(data["corpus"]), Path(data["work"]), data["articles"])


@dataclass(frozen=True)
class Stage:
    """One benchmarked stage: the timed work, the floor it is compared with, and an optional quality check.

    `run` and `baseline` execute in fresh subprocesses and return `Timer.result(...)` dicts; `evaluate`
    runs in the bench process afterwards with the run's result and the corpus ground truth.
    """

    name: str
    unit: str
    run: Callable[[Context], dict]
    baseline: Callable[[Context], dict] | None = None
    baseline_label: str = ""
    evaluate: Callable[[Context, CorpusInfo, dict], dict] | None = None
    requires: tuple[str, ...] = ()
    description: str = ""


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


register(Stage(
    name="normalize",
    unit="articles",
    run=normalize_run,
    baseline=parquet_floor,
    baseline_label="pyarrow: read bytes -> 1-column Parquet",
    evaluate=normalize_quality,
    description="normalize_folder end to end: read, clean, metadata, MinHash, Parquet",
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


ROLES: dict[str, Callable[[str], Callable[[Context], dict]]] = {
    "run": lambda name: STAGES[name].run,
    "baseline": lambda name: STAGES[name].baseline,
    "profile": lambda name: _profile_normalize,
}


def _worker(spec: str) -> None:
    job = json.loads(spec)
    function = ROLES[job["role"]](job["stage"])
    result = function(Context.from_json(job["context"]))
    Path(job["result"]).write_text(json.dumps(result))


def measure(stage: str, role: str, ctx: Context) -> dict:
    """Run one stage function in a fresh interpreter; its result plus that process's peak RSS and CPU."""
    result_path = ctx.work / f".result-{stage}-{role}-{os.getpid()}.json"
    spec = json.dumps({"stage": stage, "role": role, "context": ctx.to_json(), "result": str(result_path)})
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", spec])
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{stage} ({role}) failed with exit code {process.returncode}")
    result = json.loads(result_path.read_text())
    result_path.unlink()
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    result["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


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


def bench_stage(name: str, ctx: Context, info: CorpusInfo) -> dict:
    stage = STAGES[name]
    row: dict = {"stage": name, "unit": stage.unit, "description": stage.description}
    if stage.baseline is not None:
        print(f"{name}: measuring the floor ({stage.baseline_label}) ...", flush=True)
        floor = measure(name, "baseline", ctx)
        row["baseline"] = {"label": stage.baseline_label, **floor, **_rates(floor)}
    print(f"{name}: measuring {ctx.articles:,} {stage.unit} ...", flush=True)
    result = measure(name, "run", ctx)
    row.update(result)
    row.update(_rates(result))
    if stage.baseline is not None and row["baseline"]["items_per_s"]:
        row["ratio"] = row["items_per_s"] / row["baseline"]["items_per_s"]
    if stage.evaluate is not None:
        row["quality"] = stage.evaluate(ctx, info, result)
    return row


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
        lines.append(
            f"| {row['stage']} | {row['items']:,} | {_num(row['seconds'], 2)} | {_num(row['items_per_s'])} | "
            f"{_num(row['items_per_s_core'])} | {_num(row['peak_mb'])} | {_num(floor.get('items_per_s'))} | "
            f"{'—' if ratio is None else f'{ratio:.3f}'} |")
        if floor:
            lines.append(
                f"| ↳ floor: {floor['label']} | {floor['items']:,} | {_num(floor['seconds'], 2)} | "
                f"{_num(floor['items_per_s'])} | {_num(floor['items_per_s_core'])} | {_num(floor['peak_mb'])} | — | — |")
    return "\n".join(lines)


def describe(row: dict) -> list[str]:
    notes = [f"- {row['stage']}: {row['cores_used']:.2f} cores busy on average; "
             f"{row['rss_start_mb']:.0f} MB resident after imports, {row['peak_mb']:.0f} MB peak"]
    if row["stage"] == "normalize":
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
    return notes


def run_scaling(work: Path, sizes: list[int], seed: int, duplicate_rate: float) -> dict:
    rows = []
    for n in sizes:
        info = corpus(work, n, seed, duplicate_rate)
        ctx = Context(info.folder, work, n)
        print(f"scaling: normalize on {n:,} articles ...", flush=True)
        result = measure("normalize", "run", ctx)
        shutil.rmtree(work / "store", ignore_errors=True)
        rows.append({"articles": n, **result, **_rates(result)})
    small, large = rows[0], rows[-1]
    return {
        "rows": rows,
        "size_ratio": large["articles"] / small["articles"],
        "peak_mb_ratio": large["peak_mb"] / small["peak_mb"],
        "peak_growth_mb_ratio": (large["peak_mb"] - large["rss_start_mb"]) / max(small["peak_mb"] - small["rss_start_mb"], 1e-9),
        "throughput_ratio": large["items_per_s"] / small["items_per_s"],
    }


def scaling_table(scaling: dict) -> str:
    lines = ["| articles | seconds | items/s | items/s/core | MB after imports | peak MB |",
             "|---:|---:|---:|---:|---:|---:|"]
    for row in scaling["rows"]:
        lines.append(f"| {row['articles']:,} | {row['seconds']:,.1f} | {_num(row['items_per_s'])} | "
                     f"{_num(row['items_per_s_core'])} | {row['rss_start_mb']:,.0f} | {row['peak_mb']:,.0f} |")
    lines.append("")
    lines.append(f"{scaling['size_ratio']:g}x the articles: peak memory x{scaling['peak_mb_ratio']:.2f} "
                 f"(growth above the post-import baseline x{scaling['peak_growth_mb_ratio']:.2f}), "
                 f"throughput x{scaling['throughput_ratio']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000, help="corpus size (default 20000)")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated; known: {', '.join(STAGES)}")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (a matching corpus there is reused)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duplicate-rate", type=float, default=0.05)
    parser.add_argument("--scaling", action="store_true", help="also run normalize at two sizes; report the peak-memory ratio")
    parser.add_argument("--scaling-sizes", default="20000,200000", help="the two (or more) sizes for --scaling")
    parser.add_argument("--profile", type=int, metavar="N", help="instead of the table: cProfile normalize on N articles")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return 0

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="warta-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    report: dict = {"meta": {"python": platform.python_version(), "platform": platform.platform(), "cores": cores,
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "work": str(work)}}
    try:
        if args.profile:
            info = corpus(work, args.profile, args.seed, args.duplicate_rate)
            result = measure("normalize", "profile", Context(info.folder, work, info.n))
            print(f"\nnormalize under cProfile: {result['items']:,} articles in {result['seconds']:.1f}s "
                  f"(stats in {result['stats_path']})\n")
            print(result["reports"]["cumulative"])
            print(result["reports"]["tottime"])
            report["profile"] = result
        else:
            names = _ordered([s.strip() for s in args.stages.split(",") if s.strip() and s.strip() != "none"])
            rows = []
            if names:
                info = corpus(work, args.articles, args.seed, args.duplicate_rate)
                report["corpus"] = {k: v for k, v in info.to_json().items() if k not in ("files", "groups", "outlets")}
                ctx = Context(info.folder, work, info.n)
                rows = [bench_stage(name, ctx, info) for name in names]
                report["stages"] = rows
                print(f"\n{info.n:,} synthetic articles, {cores} cores, Python {platform.python_version()}\n")
                print(markdown_table(rows))
                print()
                for row in rows:
                    print("\n".join(describe(row)))
            if args.scaling:
                sizes = [int(s) for s in args.scaling_sizes.split(",")]
                scaling = run_scaling(work, sizes, args.seed, args.duplicate_rate)
                report["scaling"] = scaling
                print("\nnormalize scaling\n")
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
