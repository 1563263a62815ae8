"""`--engine datatrove` runs the same normalize_document as datatrove tasks and writes the very same release."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dataset import engines
from dataset.engines import EngineError, EngineUnavailable, normalize_folder_datatrove, publish_shards
from dataset.pipeline import normalize_folder
from scripts.cli import cli
from scripts.synthetic import make_corpus
from tests.helpers import ROOT, SEEDS

pytest.importorskip("datatrove", reason="the datatrove extra is part of the test extra: pip install -e '.[test]'")

TASKS = 3  # more than one task, so inputs are really sharded; workers=1 keeps it in-process (no forkserver)


def assert_same_release(a, b) -> None:
    """Same rows in the same order, same files byte for byte, same manifest."""
    assert a.release is not None and b.release is not None
    assert a.release.read().to_pylist() == b.release.read().to_pylist()
    assert [f.name for f in a.release.files] == [f.name for f in b.release.files]
    for file_a, file_b in zip(a.release.files, b.release.files):
        assert file_a.read_bytes() == file_b.read_bytes(), file_a.name
    assert (a.release.path / "manifest.json").read_bytes() == (b.release.path / "manifest.json").read_bytes()
    assert (a.message, a.stats.as_dict(), a.rejected, a.warnings) == (b.message, b.stats.as_dict(), b.rejected, b.warnings)
    assert list(a.stats.removed_by_rule) == list(b.stats.removed_by_rule)  # same order in the CLI's JSON too


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A few hundred synthetic articles (with planted near-duplicates) plus every kind of bad input and a sidecar."""
    root = tmp_path_factory.mktemp("datatrove")
    folder = root / "dumps"
    make_corpus(folder, 300, seed=11)
    bad = folder / "zz-bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "blank.txt").write_bytes(b"  \n\n\t\n")
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (bad / "boilerplate.txt").write_text("Bagikan:\n\nBaca juga: Sesuatu\n\nTerkini Lainnya\n\nADVERTISEMENT\n")
    (bad / "huge.txt").write_bytes(b"JAKARTA - " + b"kata " * 300_000)
    (bad / "latin.txt").write_bytes("JAKARTA - Kafe “Café” di pusat kota dibuka kembali setelah renovasi, kata pemiliknya.\n"
                                    .encode("cp1252"))
    (root / "secret.txt").write_text((SEEDS / "004_826b45a90dec8776.txt").read_text(encoding="utf-8"))
    os.symlink(root / "secret.txt", bad / "link.txt")
    listed = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt"))
    shared = [{"source_file": name, "url": "https://example.id/dup"} for name in (listed[1], DUPLICATE, "zz-bad/empty.txt")]
    assert listed[150] == DUPLICATE
    (folder / "metadata.jsonl").write_text(
        json.dumps({"source_file": listed[0], "url": "https://example.id/a", "outlet": "Kompas"}) + "\n"
        + "".join(json.dumps(row) + "\n" for row in shared)
        + json.dumps({"source_file": "../secret.txt"}) + "\nnot json\n")
    return folder


MAX_BYTES = 1024 * 1024  # so huge.txt (1.5 MB) is too large
DUPLICATE = "0000/00000150.txt"  # the sidecar gives it the URL of an earlier article: read by its task, left out by publish


def test_seeds_give_the_same_release(tmp_path):
    local = normalize_folder(SEEDS, tmp_path / "local")
    datatrove = normalize_folder_datatrove(SEEDS, tmp_path / "datatrove", tasks=TASKS, workers=1)
    assert local.release.manifest["rows"] == 5
    assert_same_release(local, datatrove)


def test_synthetic_corpus_and_bad_inputs_give_the_same_release(corpus, tmp_path):
    local = normalize_folder(corpus, tmp_path / "local", max_bytes=MAX_BYTES)
    datatrove = normalize_folder_datatrove(corpus, tmp_path / "datatrove", max_bytes=MAX_BYTES, tasks=TASKS, workers=1,
                                           keep_work=True)
    assert_same_release(local, datatrove)
    rows = local.release.read().to_pylist()
    assert len(rows) >= 300 and [r["source_file"] for r in rows] == sorted(r["source_file"] for r in rows)
    assert len({r["dup_cluster"] for r in rows}) < len(rows)  # the planted near-duplicates were clustered
    assert {r["source_file"]: r["code"] for r in datatrove.rejected} == {
        "zz-bad/empty.txt": "empty", "zz-bad/blank.txt": "empty", "zz-bad/binary.txt": "binary",
        "zz-bad/boilerplate.txt": "no_article", "zz-bad/huge.txt": "too_large", "zz-bad/link.txt": "outside_input",
        DUPLICATE: "duplicate_url"}
    assert any("decoded as cp1252" in w["warning"] for w in datatrove.warnings)
    assert any(w["source_file"] is None and "../secret.txt" in w["warning"] for w in datatrove.warnings)
    # every rank reported its share of the rejections in its own ledger; the duplicate URL is publish's to find
    work = tmp_path / "datatrove" / engines.WORK_DIR
    ledger = [json.loads(line) for path in sorted((work / "ledger").glob("*.jsonl")) for line in path.open()]
    assert sorted(e["source_file"] for e in ledger if "code" in e) == sorted(
        r["source_file"] for r in datatrove.rejected if r["code"] != "duplicate_url")
    # ...and the same store published by the other engine is "no change"
    again = normalize_folder_datatrove(corpus, tmp_path / "local", max_bytes=MAX_BYTES, tasks=2, workers=1)
    assert again.release is None and again.message.startswith("no change since v1.0.0")
    assert not (tmp_path / "local" / engines.WORK_DIR).exists()  # the work folder is removed after a publish


def test_shard_names_are_deterministic(tmp_path):
    names = []
    for run in ("one", "two"):
        normalize_folder_datatrove(SEEDS, tmp_path / run, tasks=TASKS, workers=1, keep_work=True)
        work = tmp_path / run / engines.WORK_DIR
        names.append(sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.suffix in (".parquet", ".jsonl")))
    # 5 seeds over 3 tasks: ranks 0, 1 and 2 each have articles
    assert names[0] == names[1] == [
        "ledger/00000.jsonl", "ledger/00001.jsonl", "ledger/00002.jsonl", "listing.jsonl",
        "shards/00000.parquet", "shards/00001.parquet", "shards/00002.parquet"]


@pytest.mark.parametrize("tasks", [1, 2, 3, 5, 40])
def test_each_task_takes_a_consecutive_run_of_the_listing(tmp_path, tasks):
    from dataset.reading import list_paths

    names = [f"{folder}/{n:02d}.txt" for folder in ("a", "b", "c") for n in range(7)]
    for name in names:
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_text("x", encoding="utf-8")
    (tmp_path / "in" / "b" / "link.txt").symlink_to(tmp_path / "in" / "a" / "00.txt")
    listing = engines.write_listing(tmp_path / "in", tmp_path / "work")
    shares = [list(engines.task_share(listing, rank, tasks)) for rank in range(tasks)]
    assert [item for share in shares for item in share] == list(list_paths(tmp_path / "in"))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1  # of nearly equal length, not one task for all
    with pytest.raises(ValueError, match="rank"):
        list(engines.task_share(listing, tasks, tasks))


def test_the_input_is_walked_once_whatever_the_number_of_tasks(tmp_path, monkeypatch):
    """build_pipeline lists the input, the tasks take their shares of that listing, publish lists it again to
    check it: two walks, where every task used to walk the whole tree."""
    from dataset import reading

    walks = []
    real = reading._paths_in_order
    monkeypatch.setattr(reading, "_paths_in_order", lambda root, pattern: walks.append(root) or real(root, pattern))
    counts = []
    for tasks in (1, 5):
        walks.clear()
        normalize_folder_datatrove(SEEDS, tmp_path / f"tasks{tasks}", tasks=tasks, workers=1)
        counts.append(len(walks))
    assert counts == [2, 2]


def test_publishing_an_incomplete_run_is_refused(tmp_path):
    work = tmp_path / "work"
    normalize_folder_datatrove(SEEDS, tmp_path / "first", tasks=TASKS, workers=1, work_dir=work, keep_work=True)
    (work / "ledger" / "00001.jsonl").unlink()
    with pytest.raises(EngineError, match="2 input\\(s\\) without a result"):
        publish_shards(SEEDS, work, tmp_path / "second")
    assert not list((tmp_path / "second").glob("v*"))


def _swap_first_two(lines: list[str]) -> list[str]:
    return [lines[1], lines[0], *lines[2:]]


@pytest.mark.parametrize("change, message", [
    (lambda lines: lines[1:], "1 input\\(s\\) without a result \\(first: "),
    (lambda lines: [*lines, lines[0]], "0 input\\(s\\) without a result, 0 result\\(s\\) for no current input, 1 repeated"),
    (lambda lines: [*lines, json.dumps({"source_file": "gone.txt", "code": "empty", "reason": "is empty"}) + "\n"],
     "1 result\\(s\\) for no current input \\(first: gone.txt\\)"),
    (_swap_first_two, "a task's ledger is not in the listing's order"),
    (lambda lines: [*lines[:-1], lines[-1][:20]], "00000.jsonl: a line that is not JSON .*: its task did not finish"),
])
def test_a_ledger_that_does_not_match_the_listing_is_refused(tmp_path, change, message):
    work = tmp_path / "work"
    normalize_folder_datatrove(SEEDS, tmp_path / "first", tasks=2, workers=1, work_dir=work, keep_work=True)
    ledger = work / "ledger" / "00000.jsonl"
    ledger.write_text("".join(change(ledger.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8")
    with pytest.raises(EngineError, match=message):
        publish_shards(SEEDS, work, tmp_path / "second")
    assert not list((tmp_path / "second").glob("v*"))


def test_the_publisher_reads_the_ledgers_in_step_with_the_listing(corpus, tmp_path, monkeypatch):
    """The first release batch is written when little more than its own inputs' ledger entries have been
    read, so the publish step's memory does not grow with the corpus; the rows are the same."""
    work = tmp_path / "work"
    first = normalize_folder_datatrove(corpus, tmp_path / "first", max_bytes=MAX_BYTES, tasks=TASKS, workers=1,
                                       work_dir=work, keep_work=True)
    read_ledger, write_release = engines._ledger_entries, engines.write_release
    read, at_batches = [], []

    def counted(path, block=engines.LEDGER_BLOCK):
        for entry in read_ledger(path, 200):  # a few entries a block
            read.append(entry["source_file"])
            yield entry

    def watched(store, batches, *rest):
        def each():
            for batch in batches:
                at_batches.append((batch.num_rows, len(read)))
                yield batch
        return write_release(store, each(), *rest)

    monkeypatch.setattr(engines, "_ledger_entries", counted)
    monkeypatch.setattr(engines, "write_release", watched)
    monkeypatch.setattr(engines, "BATCH_ROWS", 10)
    second = publish_shards(corpus, work, tmp_path / "second")
    assert second.release.read().to_pylist() == first.release.read().to_pylist()
    assert len(read) == len(set(read)) == second.stats.documents  # each entry read once
    assert [rows for rows, _ in at_batches[:-1]] == [10] * (len(at_batches) - 1)
    assert at_batches[0][1] <= 10 + TASKS + 2  # its 10 rows, one entry ahead in each ledger, a left-out input or two


def test_the_publisher_holds_one_or_two_shards_open_whatever_the_number_of_tasks(corpus, tmp_path, monkeypatch):
    """Each task takes a consecutive run of the listing, so merging in listing order goes shard after shard."""
    work = tmp_path / "work"
    first = normalize_folder_datatrove(corpus, tmp_path / "first", max_bytes=MAX_BYTES, tasks=12, workers=1,
                                       work_dir=work, keep_work=True)
    open_now, most = set(), []

    class Tracked(engines._Shard):
        def _current(self):
            batch = super()._current()
            (open_now.add if self._batches is not None else open_now.discard)(self.path.name)
            most.append(len(open_now))
            return batch

    monkeypatch.setattr(engines, "_Shard", Tracked)
    second = publish_shards(corpus, work, tmp_path / "second")
    assert_same_release(first, second)
    assert len(list((work / "shards").glob("*.parquet"))) == 12
    assert max(most) <= 2 and not open_now


def test_a_ledger_is_read_a_block_at_a_time(tmp_path):
    entries = [{"source_file": f"berita/{i:02d}-é.txt", "warnings": ["kata " * i]} for i in range(40)]
    path = tmp_path / "00000.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    for block in (1, 50, 10_000):  # a line longer than the block is read whole
        assert list(engines._ledger_entries(path, block)) == entries


def test_publishing_after_a_sidecar_entry_changed_is_refused(tmp_path):
    """A task made its record with the sidecar entry it read; a release must not list another one with it."""
    import shutil

    source, work = tmp_path / "in", tmp_path / "work"
    shutil.copytree(SEEDS, source)
    name = sorted(p.name for p in SEEDS.glob("*.txt"))[2]
    (source / "metadata.jsonl").write_text(json.dumps({"source_file": name, "outlet": "Kompas"}) + "\n")
    normalize_folder_datatrove(source, tmp_path / "first", tasks=TASKS, workers=1, work_dir=work, keep_work=True)
    (source / "metadata.jsonl").write_text(json.dumps({"source_file": name, "outlet": "Tempo"}) + "\n")
    with pytest.raises(EngineError, match=f"{name}: its sidecar entry changed after its task read it"):
        publish_shards(source, work, tmp_path / "second")
    assert not list((tmp_path / "second").glob("v*"))


def test_tasks_sign_their_articles_for_the_near_duplicate_index(tmp_path):
    import pyarrow.parquet as pq

    from dataset.dedup import NearDuplicateIndex

    work = tmp_path / "work"
    normalize_folder_datatrove(SEEDS, tmp_path / "store", tasks=TASKS, workers=1, work_dir=work, keep_work=True)
    shards = [pq.read_table(path) for path in sorted((work / "shards").glob("*.parquet"))]
    assert all(shard.schema == engines.SHARD_SCHEMA for shard in shards)
    index = NearDuplicateIndex()
    for shard in shards:
        texts, keys = shard.column("text").to_pylist(), shard.column("band_keys").to_pylist()
        assert keys == index.band_keys(texts).tolist()
        assert {len(row) for row in keys} == {index.bands}


def _rewrite_shard(path: Path, change) -> None:
    import pyarrow.parquet as pq

    table = change(pq.read_table(path))
    pq.write_table(table, path)


def test_the_publish_step_is_timed_apart_from_the_tasks(tmp_path):
    """The publish step runs on one core however many tasks: its own time, not the tasks', bounds a cluster run."""
    import time

    work = tmp_path / "work"
    normalize_folder_datatrove(SEEDS, tmp_path / "first", tasks=TASKS, workers=1, work_dir=work, keep_work=True)
    started = time.perf_counter()
    run = publish_shards(SEEDS, work, tmp_path / "second", run=lambda: time.sleep(0.5))
    elapsed = time.perf_counter() - started
    assert run.release is not None and run.publish_seconds is not None
    assert 0 < run.publish_seconds <= elapsed - 0.5


def test_shards_without_band_keys_are_signed_when_published(tmp_path):
    """Shards written before the tasks signed their articles still publish the same release."""
    work = tmp_path / "work"
    first = normalize_folder_datatrove(SEEDS, tmp_path / "first", tasks=TASKS, workers=1, work_dir=work, keep_work=True)
    for path in (work / "shards").glob("*.parquet"):
        _rewrite_shard(path, lambda table: table.drop_columns(["band_keys"]))
    assert_same_release(first, publish_shards(SEEDS, work, tmp_path / "second"))


@pytest.mark.parametrize("change, message", [
    (lambda table: table.slice(0, table.num_rows - 1), "fewer rows than its task's ledger lists"),
    (lambda table: pa_concat(table, table.slice(0, 1)), "more rows than its task's ledger lists"),
    (lambda table: table.set_column(1, table.schema.field("source_file"), pa_strings(["other.txt"] * table.num_rows)),
     "out of step"),
])
def test_shards_that_disagree_with_their_ledger_are_refused(tmp_path, change, message):
    work = tmp_path / "work"
    normalize_folder_datatrove(SEEDS, tmp_path / "first", tasks=2, workers=1, work_dir=work, keep_work=True)
    _rewrite_shard(work / "shards" / "00001.parquet", change)
    with pytest.raises(EngineError, match=message):
        publish_shards(SEEDS, work, tmp_path / "second")
    assert not list((tmp_path / "second").glob("v*"))


def pa_concat(*tables):
    import pyarrow as pa

    return pa.concat_tables(tables)


def pa_strings(values):
    import pyarrow as pa

    return pa.array(values, pa.string())


def test_a_shard_hands_out_its_rows_in_order_across_batches(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "00000.parquet"
    pq.write_table(pa.table({"n": list(range(10))}), path, row_group_size=3)
    shard = engines._Shard(path, batch_rows=4)
    taken = [[row for batch in shard.take([{}] * count) for row in batch.column("n").to_pylist()]
             for count in (1, 5, 0, 4)]  # a shard's rows follow its ledger entries: only their number counts
    assert taken == [[0], [1, 2, 3, 4, 5], [], [6, 7, 8, 9]]
    assert shard.finished()
    with pytest.raises(EngineError, match="fewer rows than its task's ledger lists"):
        shard.take([{}])


def test_cli_engines_print_the_same_summary(corpus, tmp_path):
    runner = CliRunner()
    outputs = []
    for engine in (["--engine", "local"], ["--engine", "datatrove", "--tasks", str(TASKS), "--workers", "1"]):
        store = tmp_path / engine[1]
        result = runner.invoke(cli, ["normalize", str(corpus), "--out", str(store), "--max-mb", "1", "--json", *engine])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]["rejected"]) == 7 and outputs[0]["message"] == "wrote v1.0.0 (300 rows)"  # 300 + latin.txt - DUPLICATE
    result = runner.invoke(cli, ["normalize", str(SEEDS), "--out", str(tmp_path / "x"), "--tasks", "2"])
    assert result.exit_code == 2 and "--engine datatrove only" in result.output


def test_missing_datatrove_is_one_clear_error(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "datatrove" or m.startswith("datatrove.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "datatrove", None)  # `import datatrove` now raises ImportError
    with pytest.raises(EngineUnavailable, match=re.escape("pip install -e '.[datatrove]'")):
        normalize_folder_datatrove(SEEDS, tmp_path / "store")
    result = CliRunner().invoke(cli, ["normalize", str(SEEDS), "--out", str(tmp_path / "store"), "--engine", "datatrove"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {engines.INSTALL_HINT}"
    assert not (tmp_path / "store").exists()


def test_the_same_pipeline_runs_as_slurm_array_tasks(tmp_path):
    """What sbatch would run on the nodes: `launch_pickled_pipeline executor.pik` once per array task, then a
    dependent 1-task job that publishes; each in a fresh process that never built the pipeline itself."""
    import dill
    from datatrove.executor import SlurmPipelineExecutor

    work, out = tmp_path / "work", tmp_path / "slurm"
    normalize = SlurmPipelineExecutor(engines.build_pipeline(SEEDS, work), tasks=TASKS, time="01:00:00", partition="cpu",
                                      logging_dir=str(work / "logs"), job_name="warta-normalize")
    publish = SlurmPipelineExecutor([engines.publish_step(SEEDS, work, out)], tasks=1, time="01:00:00", partition="cpu",
                                    logging_dir=str(tmp_path / "publish-logs"), job_name="warta-publish")
    launcher = Path(sys.executable).with_name("launch_pickled_pipeline")
    fake_bin = tmp_path / "bin"  # the node-list lookup datatrove does on a node: `scontrol show hostnames`
    fake_bin.mkdir()
    (fake_bin / "scontrol").write_text("#!/bin/sh\necho localhost\n")
    (fake_bin / "scontrol").chmod(0o755)
    env = {**os.environ, "SLURM_NODELIST": "localhost", "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}

    def launch(executor, tasks: int) -> None:  # the part of SlurmPipelineExecutor.launch_job before sbatch
        logs = Path(executor.logging_dir.path)
        logs.mkdir(parents=True, exist_ok=True)
        (logs / "ranks_to_run.json").write_text(json.dumps(list(range(tasks))))
        with (logs / "executor.pik").open("wb") as handle:
            dill.dump(executor, handle, fmode=dill.CONTENTS_FMODE)
        procs = [subprocess.Popen([str(launcher), str(logs / "executor.pik")], env={**env, "SLURM_ARRAY_TASK_ID": str(r)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for r in range(tasks)]
        for proc in procs:
            assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()[-2000:]

    launch(normalize, TASKS)
    assert sorted(p.name for p in (work / "shards").iterdir()) == ["00000.parquet", "00001.parquet", "00002.parquet"]
    launch(publish, 1)
    from dataset.store import Store

    slurm = Store(out).release()
    local = normalize_folder(SEEDS, tmp_path / "local").release
    assert [f.read_bytes() for f in slurm.files] == [f.read_bytes() for f in local.files]
    assert (slurm.path / "manifest.json").read_bytes() == (local.path / "manifest.json").read_bytes()


def test_keep_work_keeps_the_shards_the_readme_names(tmp_path):
    runner = CliRunner()
    for flag, kept in (([], False), (["--keep-work"], True)):
        store = tmp_path / ("kept" if kept else "removed")
        result = runner.invoke(cli, ["normalize", str(SEEDS), "--out", str(store), "--engine", "datatrove", "--tasks", "1",
                                     "--workers", "1", *flag])
        assert result.exit_code == 0, result.output
        assert (store / ".datatrove" / "shards" / "00000.parquet").is_file() is kept
    assert "DIR/.datatrove/shards/00000.parquet" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_file_name_that_is_not_utf8_gives_the_same_release(tmp_path):
    """discover sorts such a name by its bytes; the ledger lists its printable name, which sorts elsewhere."""
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    article = next(SEEDS.glob("*.txt")).read_bytes()
    for name in (b"a_x.txt", b"b.txt", b"a\xe9.txt"):
        with open(os.fsencode(folder) + b"/" + name, "wb") as handle:
            handle.write(article + name)
    local = normalize_folder(folder, tmp_path / "local")
    datatrove = normalize_folder_datatrove(folder, tmp_path / "datatrove", tasks=2, workers=1)
    assert [r["code"] for r in datatrove.rejected] == ["bad_name"]
    assert_same_release(local, datatrove)
