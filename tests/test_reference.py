"""The main job's reference path: seeds + reference annotations through the real Label Studio give the reference back."""

from __future__ import annotations

import tempfile
import uuid

import datasets

from annotation.client import Connection
from annotation.export import export
from annotation.pull import pull
from annotation.push import Pusher
from annotation.reference import load_reference, load_reference_into
from annotation.schema import load_schema
from dataset.pipeline import normalize_folder
from tests.helpers import SEEDS


def test_reference_annotations_round_trip_into_the_dataset(labelstudio, tmp_path):
    connection = Connection(labelstudio.url, labelstudio.token)
    schema = load_schema()
    release = normalize_folder(SEEDS, tmp_path / "articles").release
    title = f"reference {uuid.uuid4().hex[:8]}"
    project_id = Pusher(connection, schema).push(release, title).project_id
    person_task = sorted(connection.client().tasks.list(project=project_id, fields="all"), key=lambda t: t.id)[-1]
    person = connection.client().users.create(username=f"p{uuid.uuid4().hex[:6]}", email=f"{uuid.uuid4().hex[:6]}@example.org")
    connection.client().annotations.create(id=person_task.id, completed_by=person.id, result=[])

    first = load_reference_into(connection, title, release, schema)
    assert len(first.loaded) == 4 and list(first.skipped.values()) == ["already annotated by a person"]
    again = load_reference_into(connection, title, release, schema)
    assert again.loaded == [] and sorted(set(again.skipped.values())) == [
        "already annotated by a person", "already has the reference annotation"]

    pull(connection, title, tmp_path / "annotations")
    result = export(tmp_path / "articles", tmp_path / "annotations", tmp_path / "hf", schema)
    assert result.boundary_problems == []
    ner = datasets.load_dataset(str(tmp_path / "hf"), "ner", cache_dir=tempfile.mkdtemp())
    rows = {r["id"]: r for split in ner.values() for r in split}
    by_file = {r["source_file"]: r["id"] for r in release.read().to_pylist()}
    labels = schema.entity_labels
    compared = 0
    for name, reference in load_reference().items():
        if by_file[name] == person_task.data["article_id"]:
            continue
        row = rows[by_file[name]]
        assert row["text"] == reference.text
        assert [(s["start"], s["end"], labels[s["label"]]) for s in row["spans"]] == [
            (s.start, s.end, s.label) for s in reference.spans]
        assert row["gold_source"] == "single"
        compared += 1
    assert compared == 4
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert "The `reference` annotator is the project's own hand-made reference annotation" in card
