"""A project pushed with other stance targets (`warta push --targets`) keeps its answers through pull and export."""

from __future__ import annotations

import json
import tempfile
import uuid

import datasets
import pytest
from click.testing import CliRunner

from annotation.client import Connection
from annotation.export import export
from annotation.pull import pull
from annotation.push import Pusher
from annotation.reference import load_reference, load_reference_into
from annotation.schema import SchemaError, labelstudio_config, load_schema, stance_targets_of_config
from dataset.pipeline import normalize_folder
from dataset.store import Store
from scripts.cli import cli
from tests.helpers import SEEDS

TARGETS = ["Rusia", "NATO", "Tiongkok"]  # two the reference answers, one it does not


@pytest.mark.parametrize("targets", [TARGETS, ["Amerika Serikat", "Türkiye", "Uni Eropa"], ["Rusia"]])
def test_targets_are_read_back_from_the_config_push_writes(targets):
    assert stance_targets_of_config(labelstudio_config(load_schema(targets=targets))) == tuple(targets)


def test_a_config_without_warta_stance_controls_has_no_targets():
    assert stance_targets_of_config('<View><Text name="text" value="$text"/><Header value="Rusia"/>'
                                    '<Choices name="sentiment" toName="text"><Choice value="a"/></Choices></View>') == ()
    with pytest.raises(SchemaError, match="not XML"):
        stance_targets_of_config("<View>")


def test_a_header_reworded_in_label_studio_still_names_a_known_target():
    """Only the Header is the target's name; re-worded, its control is taken for the target it is named after."""
    config = labelstudio_config(load_schema()).replace('<Header value="Rusia"', '<Header value="Rusia (Federasi Rusia)"')
    assert stance_targets_of_config(config, known=load_schema().stance_targets) == load_schema().stance_targets
    with pytest.raises(SchemaError, match="'stance_rusia' has no Header naming its target"):
        stance_targets_of_config(config)


def tiongkok_answer(folder):
    """The seeds normalized into folder/articles, and a Label Studio export file with one AGAINST on `Tiongkok`."""
    release = normalize_folder(SEEDS, folder / "articles").release
    row = release.read().to_pylist()[0]
    export_file = folder / "export.json"
    export_file.write_text(json.dumps([{"id": 7, "annotations": [{"id": 70, "completed_by": 1, "result": [
        {"from_name": "stance_tiongkok", "to_name": "text", "type": "choices", "value": {"choices": ["AGAINST"]}}]}],
        "data": {"article_id": row["id"], "text": row["text"], "text_sha256": row["text_sha256"],
                 "release": release.version}}]), encoding="utf-8")
    return row, export_file


def test_targets_given_to_a_pull_are_checked_and_a_change_of_them_is_a_new_snapshot(tmp_path):
    _, export_file = tiongkok_answer(tmp_path)
    out = tmp_path / "annotations"
    with pytest.raises(SchemaError, match="duplicate stance control name 'stance_amerika_serikat'"):
        pull(None, "offline", out, export_file=export_file, targets=["Amerika Serikat", "Amerika-Serikat"])
    assert not Store(out).versions()
    assert "stance_targets" not in pull(None, "offline", out, export_file=export_file).release.manifest
    corrected = pull(None, "offline", out, export_file=export_file, targets=["Rusia", "Tiongkok"])
    assert corrected.release.version == "v1.1.0" and corrected.release.manifest["stance_targets"] == ["Rusia", "Tiongkok"]
    assert pull(None, "offline", out, export_file=export_file, targets=["Rusia", "Tiongkok"]).release is None


def test_a_project_pushed_with_targets_exports_their_answers(labelstudio, tmp_path):
    connection = Connection(labelstudio.url, labelstudio.token)
    release = normalize_folder(SEEDS, tmp_path / "articles").release
    title = f"targets {uuid.uuid4().hex[:8]}"
    project_id = Pusher(connection, load_schema(targets=TARGETS)).push(release, title).project_id

    assert len(load_reference_into(connection, title, release).loaded) == 5
    controls = {item["from_name"] for task in connection.client().tasks.list(project=project_id, fields="all")
                for annotation in task.annotations for item in annotation["result"] if item["type"] == "choices"}
    assert controls == {"stance_rusia", "stance_nato"}

    snapshot = pull(connection, title, tmp_path / "annotations").release
    assert snapshot.manifest["stance_targets"] == TARGETS
    result = export(tmp_path / "articles", tmp_path / "annotations", tmp_path / "hf", load_schema())
    assert result.stance_targets == tuple(TARGETS)
    assert result.validation.rejections == []
    stance = datasets.load_dataset(str(tmp_path / "hf"), "stance", cache_dir=tempfile.mkdtemp())
    rows = [row for split in stance.values() for row in split]
    reference = {name: article.stance for name, article in load_reference().items()}
    expected = sorted((target, answers[target]) for answers in reference.values() for target in ("Rusia", "NATO"))
    names = stance["train"].features["stance"].names
    assert sorted((row["target"], names[row["stance"]]) for row in rows) == expected
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert 'Targets: "Rusia", "NATO", "Tiongkok".' in card


def test_pull_from_an_export_file_records_the_targets_it_is_given(tmp_path):
    row, export_file = tiongkok_answer(tmp_path)
    runner = CliRunner()
    refused = runner.invoke(cli, ["pull", "--project", "p", "--out", str(tmp_path / "a"), "--targets", "Tiongkok"])
    assert refused.exit_code == 2 and "--targets and --export-server go with --from-export" in refused.output
    done = runner.invoke(cli, ["pull", "--project", "offline", "--out", str(tmp_path / "annotations"),
                               "--from-export", str(export_file), "--targets", "Rusia, Tiongkok"])
    assert done.exit_code == 0, done.output
    assert Store(tmp_path / "annotations").release().manifest["stance_targets"] == ["Rusia", "Tiongkok"]
    exported = runner.invoke(cli, ["export", "--articles", str(tmp_path / "articles"), "--annotations",
                                   str(tmp_path / "annotations"), "--out", str(tmp_path / "hf")])
    assert exported.exit_code == 0, exported.output
    assert "stance targets (as the snapshot records them): Rusia, Tiongkok" in exported.output
    stance = datasets.load_dataset(str(tmp_path / "hf"), "stance", cache_dir=tempfile.mkdtemp())
    rows = [row for split in stance.values() for row in split]
    assert [(r["article_id"], r["target"], r["stance"]) for r in rows] == [
        (row["id"], "Tiongkok", load_schema().stance_choices.index("AGAINST"))]
