"""Pulling annotations from the real Label Studio: snapshot export, pseudonyms, versions, malformed exports."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from click.testing import CliRunner

from annotation.client import Connection
from annotation.pull import USER_PSEUDONYMS_FILE, MalformedExport, Pseudonymizer, PullError, download_snapshot, pull
from annotation.push import Pusher
from annotation.schema import load_schema
from dataset.pipeline import normalize_folder
from dataset.store import Store
from scripts.cli import cli
from tests.helpers import SEEDS


@pytest.fixture(scope="module")
def project(labelstudio, tmp_path_factory):
    """Seeds pushed; two real annotator users; one annotation each, one skip, one draft, one ground truth."""
    connection = Connection(labelstudio.url, labelstudio.token)
    folder = tmp_path_factory.mktemp("pull")
    release = normalize_folder(SEEDS, folder / "store").release
    name = f"pull test {uuid.uuid4().hex[:8]}"
    project_id = Pusher(connection, load_schema()).push(release, name).project_id
    client = connection.client()
    tag = uuid.uuid4().hex[:6]
    users = [client.users.create(username=f"{who}{tag}", email=f"{who}.{tag}@example.org", password="not-a-real-pass-1")
             for who in ("sari", "budi")]
    tasks = sorted(client.tasks.list(project=project_id, fields="all"), key=lambda t: t.data["source_file"])
    region = {"from_name": "entities", "to_name": "text", "type": "labels"}
    first = tasks[0]
    for user in users:
        client.annotations.create(id=first.id, completed_by=user.id, lead_time=30.0, result=[
            {**region, "value": {"start": 0, "end": 8, "text": first.data["text"][:8], "labels": ["PER"]}},
            {"from_name": "stance_rusia", "to_name": "text", "type": "choices", "value": {"choices": ["NONE"]}}])
    client.annotations.create(id=tasks[1].id, completed_by=users[0].id, was_cancelled=True, result=[])
    client.annotations.create(id=tasks[2].id, ground_truth=True, result=[])
    import httpx

    httpx.post(f"{labelstudio.url}/api/tasks/{tasks[3].id}/drafts", headers={"Authorization": f"Token {labelstudio.token}"},
               json={"result": [{**region, "value": {"start": 0, "end": 3, "text": tasks[3].data["text"][:3], "labels": ["ORG"]}}]},
               ).raise_for_status()
    return connection, name, folder, users, tasks


def test_pull_counts_every_kind_of_work(project):
    connection, name, folder, _, _ = project
    run = pull(connection, name, folder / "annotations")
    assert run.release.version == "v1.0.0"
    assert run.counts == {"tasks": 5, "annotations": 3, "cancelled": 1, "ground_truth": 1, "drafts": 1, "predictions": 5,
                          "annotators": 3, "tasks_served_text_differs": 0}
    rows = run.release.read_table("annotations").to_pylist()
    assert len(rows) == 4 and {r["was_cancelled"] for r in rows} == {True, False}
    assert {r["lead_time"] for r in rows if r["annotator"] != rows[0]["annotator"]} >= {30.0}


def test_annotators_are_pseudonyms_and_emails_never_leave(project):
    connection, name, folder, users, _ = project
    out = folder / "private-check"
    release = pull(connection, name, out).release
    everything = b"".join(p.read_bytes() for p in release.path.rglob("*") if p.is_file())
    for user in users:
        assert user.email.encode() not in everything and user.username.encode() not in everything
    pseudonyms = {r["annotator"] for r in release.read_table("annotations").to_pylist()}
    assert all(p.startswith("annotator-") for p in pseudonyms) and len(pseudonyms) == 3


def test_pseudonyms_are_stable_across_pulls_and_change_with_the_salt(project, monkeypatch):
    connection, name, folder, _, _ = project
    out = folder / "stable"
    first = pull(connection, name, out)
    again = pull(connection, name, out)
    assert again.release is None and "no change" in again.message
    shutil.rmtree(out / "v1.0.0")
    rebuilt = pull(connection, name, out).release
    names = lambda r: sorted(x["annotator"] for x in r.read_table("annotations").to_pylist())
    assert names(rebuilt) == names(first.release)
    monkeypatch.setenv("WARTA_PSEUDONYM_SALT", "another salt")
    other = pull(connection, name, folder / "other-salt").release
    assert set(names(other)).isdisjoint(names(rebuilt))


def test_an_export_file_names_its_authors_as_the_server_pull_did(project, monkeypatch):
    """Label Studio's export file names authors by bare user id; a server pull names them by email."""
    connection, name, folder, _, _ = project
    out = folder / "from-file"
    served = pull(connection, name, out)
    export = download_snapshot(connection, served.release.manifest["source"]["project_id"], folder / "export.json")
    assert all(isinstance(a["completed_by"], int) for task in json.loads(export.read_text()) for a in task["annotations"])
    again = pull(None, name, out, export_file=export)
    assert again.release is None and again.message == "no change since v1.0.0: no new version written"
    fresh = pull(None, name, folder / "no-server-pull", export_file=export).release  # nothing known: named by user id
    names = lambda release: sorted(r["annotator"] for r in release.read_table("annotations").to_pylist())
    assert names(fresh) != names(served.release)
    monkeypatch.setenv("WARTA_PSEUDONYM_SALT", "another salt")  # the remembered names are then stale
    shutil.copytree(out, folder / "salted", ignore=shutil.ignore_patterns("v*"))
    salted = pull(None, name, folder / "salted", export_file=export).release
    assert set(names(salted)).isdisjoint(names(served.release))
    monkeypatch.delenv("WARTA_PSEUDONYM_SALT")
    assert "@" not in (out / USER_PSEUDONYMS_FILE).read_text()


def test_the_remembered_user_pseudonyms_are_checked(project, caplog):
    connection, name, folder, _, _ = project
    out = folder / "checked"
    served = pull(connection, name, out)
    export = download_snapshot(connection, served.release.manifest["source"]["project_id"], folder / "export2.json")
    with pytest.raises(PullError, match="remembers the users of http://127.0.0.1:1"):
        pull(None, name, out, export_file=export, export_server="http://127.0.0.1:1")
    assert pull(None, name, out, export_file=export, export_server=connection.url + "/").release is None
    remembered = json.loads((out / USER_PSEUDONYMS_FILE).read_text())
    user = next(iter(remembered["servers"][connection.url]))
    remembered["servers"][connection.url][user] = "siti@example.org"  # edited by hand
    (out / USER_PSEUDONYMS_FILE).write_text(json.dumps(remembered))
    typed = pull(None, name, out, export_file=export).release
    assert "siti@example.org" not in {r["annotator"] for r in typed.read_table("annotations").to_pylist()}
    assert "a name in it is not a pseudonym" in caplog.text and "siti@example.org" not in caplog.text


def test_new_annotation_makes_a_new_snapshot_version(project):
    connection, name, folder, users, tasks = project
    out = folder / "versions"
    pull(connection, name, out)
    connection.client().annotations.create(id=tasks[4].id, completed_by=users[1].id, result=[
        {"from_name": "stance_nato", "to_name": "text", "type": "choices", "value": {"choices": ["NONE"]}}])
    second = pull(connection, name, out)
    assert second.release.version == "v1.1.0" and second.release.manifest["parent_version"] == "v1.0.0"
    assert second.counts["annotations"] == 4
    assert Store(out).release("v1.0.0").verify() == []


def test_pull_command_prints_counts(project, labelstudio, monkeypatch):
    connection, name, folder, _, _ = project
    monkeypatch.setenv("LABEL_STUDIO_URL", labelstudio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", labelstudio.token)
    result = CliRunner().invoke(cli, ["pull", "--project", name, "--out", str(folder / "cli")])
    assert result.exit_code == 0, result.output
    assert "wrote v1.0.0" in result.output and "1 drafts" in result.output and labelstudio.token not in result.output


@pytest.mark.parametrize(
    "content,message",
    [
        ('[{"id": 1, "data": {"article_id": "a", "text": "x"}, "annotations": [{"id": 9, "resu', "is not valid JSON"),
        ('{"id": 1}', "not a JSON list"),
        ('[{"id": 1, "annotations": []}]', "task 1: missing field 'data'"),
        ('[{"id": 2, "data": {"text": "x"}, "annotations": []}]', "task 2: data has no article_id"),
        ('[{"id": 3, "data": {"article_id": "a"}, "annotations": [{"id": 7}]}]', "task 3 annotation 7: missing field 'result'"),
        ('[{"id": "abc", "data": {"article_id": "a"}, "annotations": []}]', "task #0: id is 'abc', not an integer"),
        ('[{"id": 4, "data": {"article_id": "a"}, "annotations": [null]}]', "task 4: an annotation is None, not an object"),
        ('[{"id": 5, "data": {"article_id": "a"}, "annotations": [{"id": 8, "result": [], "created_at": "yesterday"}]}]',
         "task 5 annotation 8: created_at: 'yesterday' is not an ISO 8601 time"),
        ('[{"id": 6, "data": {"article_id": "a"}, "annotations": [{"id": 9, "result": [], "lead_time": "3s"}]}]',
         "task 6 annotation 9: lead_time is '3s', not an integer or a number or null"),
        ('[{"id": 7, "data": {"article_id": "a"}, "annotations": [{"id": 10, "result": [], "ground_truth": "false"}]}]',
         "task 7 annotation 10: ground_truth is 'false', not true or false or null"),
        ('[{"id": 8, "data": {"article_id": "a"}, "annotations": [], "drafts": 3}]', "task 8: drafts is 3, not a list or null"),
        ('[{"id": 9, "data": {"article_id": "a"}, "annotations": [{"id": 11, "result": [], "completed_by": [2]}]}]',
         "task 9 annotation 11: completed_by is \\[2\\], not an integer or null"),
    ],
)
def test_malformed_export_writes_nothing(tmp_path, content, message):
    export = tmp_path / "export.json"
    export.write_text(content)
    with pytest.raises(MalformedExport, match=message):
        pull(None, "offline", tmp_path / "out", export_file=export)
    assert Store(tmp_path / "out").versions() == []
    result = CliRunner().invoke(cli, ["pull", "--project", "offline", "--out", str(tmp_path / "cli"), "--from-export", str(export)])
    assert result.exit_code == 1 and message.split(":")[0] in result.output


def test_pseudonymizer_names_the_reference_annotator():
    pseudonym = Pseudonymizer(b"salt")
    assert pseudonym("reference@warta.local") == "reference"
    assert pseudonym("Sari@Example.org") == pseudonym("sari@example.org") != pseudonym("budi@example.org")
