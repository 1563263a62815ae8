"""The main job's reference path: seeds + reference annotations through the real Label Studio give the reference back."""

from __future__ import annotations

import shutil
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

    first = load_reference_into(connection, title, release)
    assert len(first.loaded) == 4 and list(first.skipped.values()) == ["already annotated by a person"]
    again = load_reference_into(connection, title, release)
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


def test_export_keeps_gold_on_the_text_that_was_annotated(labelstudio, tmp_path):
    """An article whose text changes in a later release keeps its gold spans on the text the annotators saw."""
    connection = Connection(labelstudio.url, labelstudio.token)
    schema = load_schema()
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    first = normalize_folder(seeds, tmp_path / "articles").release
    title = f"drift {uuid.uuid4().hex[:8]}"
    Pusher(connection, schema).push(first, title)
    assert len(load_reference_into(connection, title, first).loaded) == 5
    pull(connection, title, tmp_path / "annotations")

    name, reference = sorted(load_reference().items())[0]
    raw = (seeds / name).read_text(encoding="utf-8")
    opening = reference.text.split("\n")[0][:60]
    at = raw.index("\n", raw.index(opening))  # after the body's first paragraph: every later span moves
    (seeds / name).write_text(raw[:at] + "\n\nParagraf ini ditambahkan setelah artikel dianotasi, sehingga semua "
                              "posisi entitas sesudahnya bergeser beberapa puluh karakter ke belakang.\n" + raw[at:],
                              encoding="utf-8")
    second = normalize_folder(seeds, tmp_path / "articles").release
    assert second.version != first.version
    moved = {r["source_file"]: r for r in second.read().to_pylist()}[name]
    assert moved["text"] != reference.text

    result = export(tmp_path / "articles", tmp_path / "annotations", tmp_path / "hf", schema)
    assert [(d["article_id"], d["kept"], d["text_release"]) for d in result.drifted] == [(moved["id"], True, first.version)]
    assert result.boundary_problems == []
    ner = datasets.load_dataset(str(tmp_path / "hf"), "ner", cache_dir=tempfile.mkdtemp())
    row = next(r for split in ner.values() for r in split if r["id"] == moved["id"])
    assert row["text"] == reference.text and row["article_release"] == first.version
    labels = schema.entity_labels
    assert [(s["start"], s["end"], labels[s["label"]]) for s in row["spans"]] == [
        (s.start, s.end, s.label) for s in reference.spans]
    assert (tmp_path / "hf" / "quality" / "drifted.jsonl").read_text(encoding="utf-8").count("\n") == 1
