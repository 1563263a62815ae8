"""An export replaces its `--out` folder and a pull publishes into its `--out` store: neither may destroy or
mix into something else (an input store, a folder of other files, a store of another kind)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dataset.pipeline import normalize_folder
from dataset.store import Store
from scripts.cli import cli
from tests.helpers import SEEDS


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """An article release of the seeds and an annotation snapshot of one empty annotation per article (offline)."""
    root = tmp_path_factory.mktemp("guards")
    rows = normalize_folder(SEEDS, root / "articles").release.read().to_pylist()
    tasks = [{"id": n, "data": {"article_id": r["id"], "text": r["text"], "text_sha256": r["text_sha256"]},
              "annotations": [{"id": 100 + n, "completed_by": 1, "result": []}]} for n, r in enumerate(rows, start=1)]
    (root / "export.json").write_text(json.dumps(tasks), encoding="utf-8")
    result = CliRunner().invoke(cli, ["pull", "--project", "p", "--out", str(root / "annotations"),
                                      "--from-export", str(root / "export.json")])
    assert result.exit_code == 0, result.output
    return root


def export(stores, out, articles="articles"):
    return CliRunner().invoke(cli, ["export", "--articles", str(stores / articles),
                                    "--annotations", str(stores / "annotations"), "--out", str(out)])


def test_export_refuses_an_out_that_holds_its_input_stores(stores):
    result = export(stores, stores)
    assert result.exit_code == 1 and "holds or is inside the input store" in result.output
    assert Store(stores / "articles").versions() == ["v1.0.0"] and Store(stores / "annotations").versions() == ["v1.0.0"]
    inside = export(stores, stores / "articles" / "hf")
    assert inside.exit_code == 1 and "holds or is inside the input store" in inside.output


def test_export_refuses_a_folder_of_other_files(stores, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = export(stores, tmp_path / "mine")
    assert result.exit_code == 1 and "neither empty nor an earlier export" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_export_replaces_an_earlier_export_and_fills_an_empty_folder(stores, tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "empty", tmp_path / "new"):
        result = export(stores, out)
        assert result.exit_code == 0, result.output
        assert (out / "README.md").exists() and (out / "quality").is_dir()


def test_export_refuses_articles_that_are_not_an_article_release(stores, tmp_path):
    result = export(stores, tmp_path / "hf", articles="annotations")
    assert result.exit_code == 1 and "is not an article release" in result.output


def test_a_store_takes_releases_of_one_kind_only(stores):
    result = CliRunner().invoke(cli, ["pull", "--project", "p", "--out", str(stores / "articles"),
                                      "--from-export", str(stores / "export.json")])
    assert result.exit_code == 1 and "holds articles releases" in result.output
    assert Store(stores / "articles").versions() == ["v1.0.0"]
    assert not [p for p in (stores / "articles").iterdir() if p.name.startswith(".staging")]
