"""Faults cost nothing: injected server errors, a killed server, interrupted and concurrent writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotation.client import Connection
from annotation.push import Pusher
from annotation.schema import load_schema
from dataset.pipeline import normalize_folder
from dataset.store import IntegrityError, Store
from scripts import labelstudio as server
from scripts.cli import cli
from tests.faults import FaultProxy
from tests.helpers import ROOT, SEEDS

BODY = (SEEDS / "004_826b45a90dec8776.txt").read_text(encoding="utf-8")


def corpus(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i:05d}.txt").write_text(BODY.replace("Kamis", f"Kamis ke-{i}"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    return normalize_folder(corpus(folder / "dumps", 300), folder / "store").release


def article_ids(connection: Connection, project_id: int) -> list[str]:
    return [t.data["article_id"] for t in connection.client().tasks.list(project=project_id, fields="all", page_size=1000)]


def is_import(method: str, path: str) -> bool:
    return method == "POST" and "/import" in path


@pytest.mark.parametrize("fault", ["fail", "fail-after"])
def test_transient_errors_are_retried_without_duplicates(labelstudio, release, fault):
    rule = lambda method, path, n: fault if is_import(method, path) and n % 2 == 1 else "pass"
    with FaultProxy(labelstudio.url, rule) as proxy:
        connection = Connection(proxy.url, labelstudio.token, retries=3, backoff=0.05)
        report = Pusher(connection, load_schema()).push(release, f"faults {uuid.uuid4().hex[:8]}", batch_size=100)
        # odd-numbered import requests fail: with "fail" each batch needs a second request (3 faults);
        # with "fail-after" the re-sync finds the committed batch and sends nothing again (batches 1 and 3 hit).
        assert proxy.injected[fault] == {"fail": 3, "fail-after": 2}[fault]
    assert (report.created, report.failed) == (300, [])
    ids = article_ids(Connection(labelstudio.url, labelstudio.token), report.project_id)
    assert len(ids) == len(set(ids)) == 300


def test_a_reference_annotation_committed_before_a_500_is_not_created_twice(labelstudio, tmp_path):
    from annotation.reference import load_reference_into

    release = normalize_folder(SEEDS, tmp_path / "articles").release
    title = f"reference faults {uuid.uuid4().hex[:8]}"
    Pusher(Connection(labelstudio.url, labelstudio.token), load_schema()).push(release, title)
    rule = lambda method, path, n: "fail-after" if method == "POST" and path.rstrip("/").endswith("/annotations") and n == 1 else "pass"
    with FaultProxy(labelstudio.url, rule) as proxy:
        loaded = load_reference_into(Connection(proxy.url, labelstudio.token, retries=2, backoff=0.05), title, release)
        assert proxy.injected["fail-after"] == 5  # every task's first create was committed, then answered 500
    assert len(loaded.loaded) == 5
    project = Pusher(Connection(labelstudio.url, labelstudio.token), load_schema()).find_project(title)
    tasks = Connection(labelstudio.url, labelstudio.token).client().tasks.list(project=project.id, fields="all")
    assert sorted(t.total_annotations for t in tasks) == [1] * 5


def test_a_stalled_request_times_out_and_is_retried_without_duplicates(labelstudio, release):
    """The stalled import reaches the server after the client gave up: push waits, re-syncs, and cleans any copy."""
    rule = lambda method, path, n: 4.0 if is_import(method, path) and n == 1 else "pass"
    title = f"stall {uuid.uuid4().hex[:8]}"
    with FaultProxy(labelstudio.url, rule) as proxy:
        connection = Connection(proxy.url, labelstudio.token, retries=3, backoff=0.05, timeout=3.0)
        report = Pusher(connection, load_schema()).push(release, title, batch_size=50)
        assert proxy.injected["stall"] == 1
        time.sleep(5)  # let the stalled request land, whenever it does
    assert (report.created, report.failed) == (300, [])
    direct = Connection(labelstudio.url, labelstudio.token)
    rerun = Pusher(direct, load_schema()).push(release, title)
    ids = article_ids(direct, report.project_id)
    assert len(ids) == len(set(ids)) == 300
    assert rerun.unchanged == 300 and rerun.created == 0


def test_persistent_errors_name_the_batch_and_a_rerun_finishes(labelstudio, release, monkeypatch):
    title = f"persistent {uuid.uuid4().hex[:8]}"
    failing = lambda method, path, n: "fail" if is_import(method, path) else "pass"
    with FaultProxy(labelstudio.url, failing) as proxy:
        monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
        monkeypatch.setenv("LABEL_STUDIO_API_KEY", labelstudio.token)
        from annotation import client

        monkeypatch.setattr(client.Connection, "backoff", 0.01)
        result = CliRunner().invoke(cli, ["push", str(release.path.parent), "--project", title, "--batch-size", "200"])
    assert result.exit_code == 1
    assert "failed: import batch 1 (200 tasks, articles " in result.output
    assert "Label Studio at http://127.0.0.1:" in result.output and "answered 500" in result.output
    assert "Error: 2 batch(es) failed; re-run the same command to finish" in result.output
    assert labelstudio.token not in result.output
    monkeypatch.setenv("LABEL_STUDIO_URL", labelstudio.url)
    again = CliRunner().invoke(cli, ["push", str(release.path.parent), "--project", title])
    assert again.exit_code == 0 and "300 created" in again.output
    project = Pusher(Connection(labelstudio.url, labelstudio.token), load_schema()).find_project(title)
    ids = article_ids(Connection(labelstudio.url, labelstudio.token), project.id)
    assert len(ids) == len(set(ids)) == 300


def test_server_killed_mid_push_then_rerun_completes(tmp_path, release):
    """Three kills during a push (a random moment after its second, third or fourth batch); after each restart
    the re-run leaves exactly one task per article."""
    data_dir = tmp_path / "ls"
    url, token = server.start(data_dir).url, server.read_token(data_dir)
    outcomes = []
    try:
        for cycle in range(3):
            title = f"killed {cycle} {uuid.uuid4().hex[:6]}"
            connection = Connection(url, token, retries=1, backoff=0.05, timeout=10)
            pid = server.status(data_dir).pid
            chance = random.Random(cycle)
            killer = threading.Timer(chance.uniform(0.0, 0.3), lambda: os.killpg(os.getpgid(pid), signal.SIGKILL))
            sent = []

            def progress(done: int) -> None:
                sent.append(done)
                if sum(sent) >= 25 * (cycle + 2) and not killer.is_alive() and not killer.finished.is_set():
                    killer.start()  # the kill lands while the next batches are on their way

            with pytest.raises(Exception):
                Pusher(connection, load_schema()).push(release, title, batch_size=25, progress=progress)
            killer.join()
            url = server.start(data_dir).url  # the killed server's half-closed sockets may hold the old port a while
            project = Pusher(Connection(url, token), load_schema()).find_project(title)
            before = len(article_ids(Connection(url, token), project.id))
            report = Pusher(Connection(url, token), load_schema()).push(release, title, batch_size=25)
            ids = article_ids(Connection(url, token), report.project_id)
            outcomes.append((0 < before < 300, len(ids) - len(set(ids)), 300 - len(set(ids))))
            assert report.failed == []
    finally:
        server.stop(data_dir)
    assert outcomes == [(True, 0, 0)] * 3, "(killed mid-push, duplicates, missing) per kill"


def test_interrupted_release_writes_nothing_and_the_next_run_succeeds(tmp_path, monkeypatch):
    from dataset import pipeline

    calls = {"n": 0}
    original = pipeline.write_parquet

    def crash(*args, **kwargs):
        calls["n"] += 1
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pipeline, "write_parquet", crash)
    with pytest.raises(OSError, match="disk full"):
        normalize_folder(SEEDS, tmp_path / "store")
    assert Store(tmp_path / "store").versions() == [] and not list((tmp_path / "store").glob(".staging-*"))
    monkeypatch.setattr(pipeline, "write_parquet", original)
    assert normalize_folder(SEEDS, tmp_path / "store").release.version == "v1.0.0"


def test_killed_normalize_leaves_no_version_and_the_next_run_cleans_up(tmp_path):
    dumps = corpus(tmp_path / "dumps", 3000)
    store = tmp_path / "store"
    process = subprocess.Popen([sys.executable, "-m", "scripts.cli", "normalize", str(dumps), "--out", str(store)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(store.glob(".staging-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.kill()
    process.wait()
    assert Store(store).versions() == [] and list(store.glob(".staging-*")), "killed while staging"
    assert normalize_folder(dumps, store).release.version == "v1.0.0"
    assert not list(store.glob(".staging-*")) and Store(store).release().verify() == []


def test_interrupted_pull_and_export_leave_no_half_version(tmp_path, monkeypatch):
    from annotation import card, pull as pull_module

    store = tmp_path / "store"
    release = normalize_folder(SEEDS, store).release
    row = release.read().to_pylist()[0]
    export_file = tmp_path / "export.json"
    import json

    export_file.write_text(json.dumps([{"id": 1, "data": {"article_id": row["id"], "text": row["text"],
                                                            "text_sha256": row["text_sha256"], "release": "v1.0.0"},
                                        "annotations": [{"id": 5, "completed_by": 1, "result": [], "was_cancelled": False,
                                                         "ground_truth": False}], "drafts": [], "predictions": []}]))
    original = pull_module.write_parquet
    written = []

    def crash_second(*args, **kwargs):
        if written:
            raise OSError("killed (simulated)")
        written.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pull_module, "write_parquet", crash_second)
    with pytest.raises(OSError):
        pull_module.pull(None, "offline", tmp_path / "annotations", export_file=export_file)
    assert Store(tmp_path / "annotations").versions() == []
    monkeypatch.setattr(pull_module, "write_parquet", original)
    assert pull_module.pull(None, "offline", tmp_path / "annotations", export_file=export_file).release.version == "v1.0.0"

    from annotation.export import export

    out = tmp_path / "hf"
    export(store, tmp_path / "annotations", out, load_schema())
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    monkeypatch.setattr(card, "write_card", lambda *a, **k: (_ for _ in ()).throw(OSError("killed (simulated)")))
    with pytest.raises(OSError):
        export(store, tmp_path / "annotations", out, load_schema())
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".hf")] == []


def test_concurrent_normalize_runs_one_wins_the_other_fails_cleanly(tmp_path):
    dumps = corpus(tmp_path / "dumps", 1500)
    store = tmp_path / "store"
    command = [sys.executable, "-m", "scripts.cli", "normalize", str(dumps), "--out", str(store)]
    runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(), p.communicate()) for p in runs]
    codes = sorted(code for code, _ in results)
    outputs = " ".join(out + err for _, (out, err) in results)
    assert Store(store).versions() == ["v1.0.0"] and Store(store).release().verify() == []
    if codes == [0, 1]:
        assert "is being written by another process; try again when it has finished" in outputs
    else:  # the runs did not overlap: the second found nothing new
        assert codes == [0, 0] and "no change since v1.0.0" in outputs


def test_writer_waiting_on_the_lock_gets_a_clean_error(tmp_path):
    store = Store(tmp_path / "store")
    with store.lock():
        result = subprocess.run([sys.executable, "-m", "scripts.cli", "normalize", str(SEEDS), "--out", str(store.root)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {store.root} is being written by another process; try again when it has finished")


def test_altered_release_is_refused_by_push_and_export(tmp_path, labelstudio):
    store = tmp_path / "store"
    release = normalize_folder(SEEDS, store).release
    with release.files[0].open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(IntegrityError, match="checksum differs"):
        Pusher(Connection(labelstudio.url, labelstudio.token), load_schema()).push(release, f"altered {uuid.uuid4().hex[:6]}")
    result = CliRunner().invoke(cli, ["verify", str(store)])
    assert result.exit_code == 1 and "v1.0.0/data/articles-00000.parquet: checksum differs" in result.output
