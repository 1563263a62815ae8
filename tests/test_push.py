"""Pushing releases to the real Label Studio of the test session: idempotent, predictions, drift, faults."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from click.testing import CliRunner

from annotation.client import Connection, LabelStudioError
from annotation.push import ConfigChangeRefused, Pusher
from annotation.schema import load_schema, schema_from_mapping
from dataset.pipeline import normalize_folder
from scripts.cli import cli
from tests.helpers import SEEDS


@pytest.fixture
def connection(labelstudio) -> Connection:
    return Connection(labelstudio.url, labelstudio.token, retries=1, backoff=0.05)


@pytest.fixture
def seeds_store(tmp_path):
    dumps = tmp_path / "dumps"
    shutil.copytree(SEEDS, dumps)
    store = tmp_path / "store"
    return dumps, store, normalize_folder(dumps, store).release


def title() -> str:
    return f"warta test {uuid.uuid4().hex[:8]}"


def tasks_of(connection: Connection, project_id: int) -> list:
    return list(connection.client().tasks.list(project=project_id, fields="all"))


def test_five_seeds_become_five_tasks_with_predictions(connection, seeds_store):
    _, store, release = seeds_store
    report = Pusher(connection, load_schema(), state_dir=store).push(release, title())
    assert (report.created, report.unchanged, report.failed) == (5, 0, [])
    tasks = tasks_of(connection, report.project_id)
    assert len(tasks) == 5
    rows = {r["id"]: r for r in release.read().to_pylist()}
    for task in tasks:
        row = rows[task.data["article_id"]]
        assert task.data["text"] == row["text"] and task.data["text_sha256"] == row["text_sha256"]
        assert task.data["release"] == "v1.0.0"
        prediction = task.predictions[0]
        prediction = prediction if isinstance(prediction, dict) else prediction.model_dump()
        assert prediction["model_version"] == "warta-gazetteer-1"
        for region in prediction["result"]:
            value = region["value"]
            assert row["text"][value["start"] : value["end"]] == value["text"]
            assert 0 < region["score"] <= 1


def test_repush_and_lost_state_create_no_duplicates(connection, seeds_store):
    _, store, release = seeds_store
    name = title()
    first = Pusher(connection, load_schema(), state_dir=store).push(release, name)
    again = Pusher(connection, load_schema(), state_dir=store).push(release, name)
    assert (again.created, again.unchanged, again.project_id) == (0, 5, first.project_id)
    (store / ".labelstudio-projects.json").unlink()
    without_state = Pusher(connection, load_schema(), state_dir=store).push(release, name)
    assert (without_state.created, without_state.unchanged, without_state.project_id) == (0, 5, first.project_id)
    assert len(tasks_of(connection, first.project_id)) == 5


def test_noop_repush_skips_the_listing_only_while_the_server_is_unchanged(connection, seeds_store):
    _, store, release = seeds_store
    name = title()
    push = lambda **options: Pusher(connection, load_schema(), state_dir=store, **options).push(release, name)
    first = push()
    client = connection.client()
    assert first.sync == "listing" and first.created == 5
    again = push()
    assert (again.sync, again.unchanged, again.created) == ("fingerprint", 5, 0)
    assert push(full_sync=True).sync == "listing"

    victim = tasks_of(connection, first.project_id)[0]
    client.tasks.delete(str(victim.id))
    after_delete = push()
    assert (after_delete.sync, after_delete.created, after_delete.unchanged) == ("listing", 1, 4)
    assert push().sync == "fingerprint"

    edited = tasks_of(connection, first.project_id)[0]
    client.tasks.update(str(edited.id), data={**edited.data, "text": "diubah orang lain", "text_sha256": "0" * 64})
    after_edit = push()
    assert (after_edit.sync, after_edit.updated, after_edit.unchanged) == ("listing", 1, 4)
    restored = client.tasks.get(str(edited.id))
    assert restored.data["text"] == edited.data["text"]

    client.projects.import_tasks(first.project_id, request=[{"data": {"text": "tugas dari alat lain"}}])
    after_foreign = push()
    assert (after_foreign.sync, after_foreign.created, after_foreign.unchanged) == ("listing", 0, 5)
    assert push().sync == "fingerprint"
    assert len(tasks_of(connection, first.project_id)) == 6


@pytest.mark.parametrize("damage", ["", "not json", "[]", '{"url": 1}', "TASKS_AS_LIST", "TASK_AS_STRING"])
def test_damaged_sync_file_means_a_full_listing(connection, seeds_store, damage):
    _, store, release = seeds_store
    name = title()
    Pusher(connection, load_schema(), state_dir=store).push(release, name)
    path = next((store / ".labelstudio-sync").glob("*.json"))
    sync = json.loads(path.read_text())
    if damage == "TASKS_AS_LIST":
        damage = json.dumps({**sync, "tasks": list(sync["tasks"])})
    elif damage == "TASK_AS_STRING":
        damage = json.dumps({**sync, "tasks": {article: "x" for article in sync["tasks"]}})
    path.write_text(damage)
    report = Pusher(connection, load_schema(), state_dir=store).push(release, name)
    assert (report.sync, report.unchanged, report.created, report.failed) == ("listing", 5, 0, [])
    assert json.loads(path.read_text())["tasks"] == sync["tasks"], "the next push writes a good sync file again"


def test_change_during_a_push_leaves_no_sync_file(connection, seeds_store):
    _, store, release = seeds_store
    pusher = Pusher(connection, load_schema(), state_dir=store)
    original = pusher.fingerprint
    interloper = {}

    def fingerprint_after_another_import(project_id):
        if not interloper:  # the import of another client lands between warta's last import and its check
            interloper.update(connection.client().projects.import_tasks(
                project_id, request=[{"data": {"text": "tugas lain"}}], return_task_ids=True).task_ids and {"done": 1})
        return original(project_id)

    pusher.fingerprint = fingerprint_after_another_import
    report = pusher.push(release, title())
    assert interloper and report.created == 5
    assert not list((store / ".labelstudio-sync").glob("*.json"))
    assert Pusher(connection, load_schema(), state_dir=store).push(release, connection.client().projects.get(
        report.project_id).title).sync == "listing"


def test_changed_release_updates_unannotated_and_reports_annotated(connection, seeds_store):
    dumps, store, release = seeds_store
    name = title()
    pusher = Pusher(connection, load_schema(), state_dir=store)
    project_id = pusher.push(release, name).project_id
    rows = {r["source_file"]: r for r in release.read().to_pylist()}
    tasks = {t.data["source_file"]: t for t in tasks_of(connection, project_id)}
    annotated = tasks["003_daf129f8f384625a.txt"]
    connection.client().annotations.create(id=annotated.id, result=[{
        "from_name": "entities", "to_name": "text", "type": "labels",
        "value": {"start": 0, "end": 8, "text": rows["003_daf129f8f384625a.txt"]["text"][:8], "labels": ["PER"]}}])
    for name_ in ("003_daf129f8f384625a.txt", "004_826b45a90dec8776.txt"):
        path = dumps / name_
        path.write_text(path.read_text().replace("Presiden Rusia Vladimir", "Presiden Federasi Rusia Vladimir"))
    (dumps / "extra.txt").write_text("JAKARTA - Sebuah artikel baru yang cukup panjang untuk dianggap sebagai paragraf berita.\n")
    second = normalize_folder(dumps, store).release
    report = pusher.push(second, name)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 3)
    assert [d["task_id"] for d in report.drifted] == [annotated.id]
    after = {t.data["source_file"]: t for t in tasks_of(connection, project_id)}
    assert len(after) == 6
    assert after["003_daf129f8f384625a.txt"].data["text"] == rows["003_daf129f8f384625a.txt"]["text"], "annotated text kept"
    updated = after["004_826b45a90dec8776.txt"]
    assert "Federasi Rusia" in updated.data["text"] and updated.data["release"] == "v1.1.0"
    predictions = list(connection.client().predictions.list(task=updated.id))
    assert len(predictions) == 1
    for region in predictions[0].result:
        assert updated.data["text"][region["value"]["start"] : region["value"]["end"]] == region["value"]["text"]


def test_two_thousand_synthetic_tasks_in_batches(connection, tmp_path):
    dumps = tmp_path / "many"
    dumps.mkdir()
    body = (SEEDS / "004_826b45a90dec8776.txt").read_text()
    for i in range(2000):
        (dumps / f"{i:05d}.txt").write_text(body.replace("Kamis", f"Kamis ke-{i}"))
    release = normalize_folder(dumps, tmp_path / "store").release
    calls = []
    pusher = Pusher(connection, load_schema())
    original = pusher.client.projects.import_tasks
    pusher.client.projects.import_tasks = lambda *a, **k: calls.append(len(k["request"])) or original(*a, **k)
    report = pusher.push(release, title(), batch_size=500)
    assert calls == [500, 500, 500, 500] and report.created == 2000
    assert connection.client().projects.get(report.project_id).task_number == 2000
    assert Pusher(connection, load_schema()).push(release, connection.client().projects.get(report.project_id).title).unchanged == 2000


def test_schema_change_that_would_orphan_annotations_is_refused(connection, seeds_store):
    _, store, release = seeds_store
    name = title()
    report = Pusher(connection, load_schema(), state_dir=store).push(release, name)
    task = tasks_of(connection, report.project_id)[0]
    connection.client().annotations.create(id=task.id, result=[{
        "from_name": "entities", "to_name": "text", "type": "labels",
        "value": {"start": 0, "end": 3, "text": task.data["text"][:3], "labels": ["LAW"]}}])
    data = load_schema().to_dict()
    data["entity"] = [e for e in data["entity"] if e["name"] != "LAW"]
    smaller = schema_from_mapping(data)
    with pytest.raises(ConfigChangeRefused, match="drops entities:LAW"):
        Pusher(connection, smaller, state_dir=store).push(release, name)
    bigger = load_schema(targets=["Rusia", "Amerika Serikat", "Ukraina", "NATO", "Tiongkok"])
    grown = Pusher(connection, bigger, state_dir=store).push(release, name)
    assert grown.config_updated and grown.unchanged == 5
    assert "stance_" in connection.client().projects.get(report.project_id).label_config


def test_server_down_and_bad_token_give_clean_errors(labelstudio, seeds_store, monkeypatch):
    _, store, release = seeds_store
    down = Connection("http://127.0.0.1:9", "x" * 40, retries=1, backoff=0.01)
    with pytest.raises(LabelStudioError, match=r"cannot reach Label Studio at http://127.0.0.1:9 .*after 2 attempts"):
        Pusher(down, load_schema()).push(release, title())
    wrong = Connection(labelstudio.url, "0" * 40, retries=0)
    with pytest.raises(LabelStudioError, match="refused the API key") as error:
        Pusher(wrong, load_schema()).push(release, title())
    assert labelstudio.token not in str(error.value)
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "y" * 40)
    result = CliRunner().invoke(cli, ["push", str(store), "--project", title()])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: list projects: cannot reach Label Studio at http://127.0.0.1:9")


def test_push_command_uses_environment_connection(labelstudio, seeds_store, monkeypatch):
    _, store, _ = seeds_store
    monkeypatch.setenv("LABEL_STUDIO_URL", labelstudio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", labelstudio.token)
    result = CliRunner().invoke(cli, ["push", str(store), "--project", title()])
    assert result.exit_code == 0, result.output
    assert "5 created, 0 updated, 0 unchanged, 0 drifted, 0 failed" in result.output
    assert labelstudio.token not in result.output
