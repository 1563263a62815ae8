"""croissant.json: a real export (seeds + a hand-written Label Studio export file) checked with mlcroissant.

No Label Studio server: `pull` reads the export file offline. mlcroissant validates the JSON-LD and reads
the Parquet files back through the Croissant description, which must give the same rows as pyarrow.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import datasets
import mlcroissant as mlc
import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, Features, List, Value

from annotation.croissant import CONTEXT, CroissantError, croissant_metadata, write_croissant
from annotation.export import export
from annotation.features import config_features
from annotation.pull import pull
from annotation.schema import load_schema
from dataset.pipeline import normalize_folder
from tests.helpers import SEEDS

SCHEMA = load_schema()
FEATURES = config_features(SCHEMA)
REPO_URL = "https://huggingface.co/datasets/warta/indonesian-news-ner-stance"
# mlcroissant 1.1.1 recommends `datePublished`; the export has no date that is not a timestamp of the run.
ACCEPTED_WARNING = "datePublished"


def _region(text: str, surface: str, label: str) -> dict:
    start = text.index(surface)
    return {"from_name": "entities", "to_name": "text", "type": "labels", "id": f"{label}-{start}",
            "value": {"start": start, "end": start + len(surface), "text": surface, "labels": [label]}}


def _stance(target: str, choice: str) -> dict:
    return {"from_name": SCHEMA.control_name_for_target(target), "to_name": "text", "type": "choices",
            "value": {"choices": [choice]}}


def _label_studio_export(rows: list[dict], version: str) -> list[dict]:
    """Three articles, two annotators each: the same names marked, agreeing stance on `Rusia`, one disagreement."""
    tasks = []
    annotation_id = 1000
    for position, row in enumerate(rows[:3]):
        text = row["text"]
        names = [(surface, label) for surface, label in (("Joe Biden", "PER"), ("Vladimir Putin", "PER"), ("Rusia", "GPE"),
                                                         ("Ukraina", "GPE")) if surface in text]
        assert names, f"seed {row['source_file']} mentions none of the names this test marks"
        annotations = []
        for annotator, choice in ((1, "AGAINST"), (2, "AGAINST" if position != 2 else "NONE")):
            annotation_id += 1
            annotations.append({
                "id": annotation_id, "completed_by": annotator, "was_cancelled": False, "ground_truth": False,
                "created_at": f"2024-03-0{position + 1}T08:00:00Z", "lead_time": 30.5 + annotator,
                "result": [_region(text, surface, label) for surface, label in names] + [_stance("Rusia", choice)],
            })
        tasks.append({"id": position + 1, "annotations": annotations, "drafts": [], "predictions": [],
                      "data": {"article_id": row["id"], "text": text, "text_sha256": row["text_sha256"],
                               "release": version, "source_file": row["source_file"]}})
    return tasks


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("croissant")
    store = folder / "articles"
    release = normalize_folder(SEEDS, store).release
    rows = sorted(release.read().to_pylist(), key=lambda r: r["source_file"])
    export_file = folder / "label-studio-export.json"
    export_file.write_text(json.dumps(_label_studio_export(rows, release.version), ensure_ascii=False), encoding="utf-8")
    pull(None, "offline", folder / "annotations", export_file=export_file)
    result = export(store, folder / "annotations", folder / "hf", SCHEMA)
    path = folder / "hf" / "croissant.json"
    return {"folder": folder, "out": folder / "hf", "path": path, "result": result, "release": release,
            "doc": json.loads(path.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def dataset(exported):
    return mlc.Dataset(jsonld=exported["path"])


def _plain(value, prefix: str = ""):
    """mlcroissant record values -> Python values as pyarrow gives them: bytes decoded, field ids shortened."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {key.rsplit("/", 1)[-1]: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _parquet_rows(out: Path, config: str) -> list[dict]:
    rows = []
    for path in sorted((out / config).glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def _record_set(doc: dict, record_set_id: str) -> dict:
    matches = [rs for rs in doc["recordSet"] if rs["@id"] == record_set_id]
    assert len(matches) == 1, f"record set {record_set_id!r} appears {len(matches)} times"
    return matches[0]


def test_export_writes_croissant_with_the_standard_header(exported):
    doc = exported["doc"]
    assert exported["path"].is_file()
    assert doc["@context"] == CONTEXT and doc["@type"] == "sc:Dataset"
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert doc["name"] == "warta-indonesian-news" and doc["license"] == "other" and doc["url"] == REPO_URL
    assert doc["version"] == exported["release"].version.removeprefix("v") == "1.0.0"
    assert "CC BY 4.0" in doc["description"]
    assert {k: v for k, v in exported["result"].rows.items() if v} == {"articles": {"train": 5}, "ner": {"train": 3},
                                                                        "stance": {"train": 2}, "annotations": {"train": 6}}
    assert [d["@id"] for d in doc["distribution"]] == [f"{c}-parquet" for c in FEATURES]
    for file_set, config in zip(doc["distribution"], FEATURES):
        assert file_set["@type"] == "cr:FileSet" and file_set["includes"] == f"{config}/*.parquet"
        assert file_set["encodingFormat"] == "application/x-parquet"
        assert sorted(exported["out"].glob(file_set["includes"])), f"{file_set['includes']} matches no file"


def test_mlcroissant_accepts_it_with_no_error(dataset):
    issues = dataset.metadata.ctx.issues
    assert not issues.errors
    assert [w for w in issues.warnings if ACCEPTED_WARNING not in w] == []


def test_mlcroissant_command_line_validates(exported):
    command = [str(Path(sys.executable).parent / "mlcroissant"), "validate", "--jsonld", str(exported["path"])]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "error(s)" not in output and "Traceback" not in output
    assert "Done." in output


def test_mlcroissant_rejects_a_broken_description(exported, tmp_path):
    """The validation above can fail: a field whose source names a file set that does not exist is an error."""
    doc = json.loads(exported["path"].read_text(encoding="utf-8"))
    _record_set(doc, "ner")["field"][0]["source"]["fileSet"]["@id"] = "no-such-files"
    broken = tmp_path / "croissant.json"
    broken.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(mlc.ValidationError):
        mlc.Dataset(jsonld=broken)


def test_every_config_is_a_record_set_with_the_feature_names(exported, dataset):
    by_id = {rs.id: rs for rs in dataset.metadata.record_sets}
    for config, features in FEATURES.items():
        record_set = by_id[config]
        assert [f.name for f in record_set.fields] == list(features)
        assert [f.id for f in record_set.fields] == [f"{config}/{name}" for name in features]
        for field, feature in zip(record_set.fields, features.values()):
            inner = feature.feature if isinstance(feature, List) else feature
            assert bool(field.repeated) == isinstance(feature, List), field.id
            if isinstance(inner, dict):
                assert [s.name for s in field.sub_fields] == list(inner), field.id


def test_feature_types_map_to_croissant_types(exported):
    doc = exported["doc"]

    def field(config: str, *path: str) -> dict:
        node = {"field": _record_set(doc, config)["field"]}
        for name in path:
            node = next(f for f in node.get("field", node.get("subField", [])) if f["name"] == name)
        return node

    assert field("articles", "id")["dataType"] == "sc:Text"
    assert field("articles", "published_at")["dataType"] == "sc:DateTime"
    assert field("articles", "published_date")["dataType"] == "sc:Date"
    assert field("articles", "language_score")["dataType"] == "sc:Float"
    assert field("articles", "n_words")["dataType"] == "sc:Integer"
    assert field("articles", "authors").items() >= {"dataType": "sc:Text", "repeated": True}.items()
    assert field("annotations", "ground_truth")["dataType"] == "sc:Boolean"
    assert field("annotations", "lead_time")["dataType"] == "sc:Float"
    assert field("annotations", "annotation_id")["dataType"] == "sc:Integer"
    assert field("ner", "token_offsets").items() >= {"dataType": "sc:Integer", "repeated": True}.items()
    spans = field("ner", "spans")
    assert spans["repeated"] is True and "dataType" not in spans
    assert [(s["name"], s["dataType"], s["source"]["extract"]["column"], s["source"]["transform"]["jsonPath"])
            for s in spans["subField"]] == [("start", "sc:Integer", "spans", "start"), ("end", "sc:Integer", "spans", "end"),
                                            ("label", "sc:Integer", "spans", "label")]
    tags = field("ner", "ner_tags")
    assert tags["dataType"] == "sc:Integer" and tags["repeated"] is True
    assert "0=O, 1=B-PER" in tags["description"] and "ner_ner_tags_classes" in tags["description"]


def test_class_names_load_as_enumerations(dataset):
    expected = {"ner_ner_tags_classes": SCHEMA.bio_tags, "ner_spans_label_classes": SCHEMA.entity_labels,
                "stance_stance_classes": SCHEMA.stance_choices, "annotations_spans_label_classes": SCHEMA.entity_labels,
                "annotations_stance_stance_classes": SCHEMA.stance_choices}
    enumerations = [rs.id for rs in dataset.metadata.record_sets if rs.id not in FEATURES]
    assert sorted(enumerations) == sorted(expected)
    for record_set, names in expected.items():
        records = [_plain(r) for r in dataset.records(record_set=record_set)]
        assert records == [{"index": i, "name": name} for i, name in enumerate(names)]


def test_ner_records_through_mlcroissant_equal_the_parquet_rows(exported, dataset):
    expected = {row["id"]: row for row in _parquet_rows(exported["out"], "ner")}
    loaded = {}
    for record in dataset.records(record_set="ner"):
        row = _plain(record)
        loaded[row["id"]] = row
    assert loaded.keys() == expected.keys() and len(loaded) == 3
    for article_id, row in expected.items():
        assert loaded[article_id] == row
    # the gold spans really are there, and mean what the class-name record set says
    labels = {SCHEMA.entity_labels[s["label"]] for row in loaded.values() for s in row["spans"]}
    assert labels == {"PER", "GPE"}
    assert any(SCHEMA.bio_tags[t] == "B-PER" for row in loaded.values() for t in row["ner_tags"])


def test_other_configs_round_trip_through_mlcroissant(exported, dataset):
    for config, key in (("stance", ("article_id", "target")), ("annotations", ("annotation_id",)), ("articles", ("id",))):
        expected = {tuple(row[k] for k in key): row for row in _parquet_rows(exported["out"], config)}
        loaded = {}
        for record in dataset.records(record_set=config):
            row = _plain(record)
            for name, value in row.items():
                if hasattr(value, "to_pydatetime"):  # pandas Timestamp -> what pyarrow returns
                    value = value.to_pydatetime()
                    row[name] = value.date() if FEATURES[config][name].dtype == "date32" else value
            loaded[tuple(row[k] for k in key)] = row
        assert loaded.keys() == expected.keys(), config
        for k, row in expected.items():
            for name, value in row.items():
                if isinstance(value, float):
                    assert loaded[k][name] == pytest.approx(value, rel=1e-6), (config, name)
                else:
                    assert loaded[k][name] == value, (config, name)


def test_output_is_deterministic(exported, tmp_path):
    rows = exported["result"].rows
    arguments = dict(name="warta-indonesian-news", description="d", version="v1.0.0", license="other", url=REPO_URL)
    first = write_croissant(tmp_path, FEATURES, rows, SCHEMA, **arguments).read_bytes()
    second = write_croissant(tmp_path, FEATURES, rows, SCHEMA, **arguments).read_bytes()
    assert first == second and b"Z\"" not in first
    assert json.loads(first)["recordSet"] == exported["doc"]["recordSet"]


def test_configs_without_rows_are_left_out():
    rows = {"articles": {"train": 2}, "ner": {}, "stance": {}, "annotations": {"test": 1}}
    doc = croissant_metadata(FEATURES, rows, SCHEMA, "n", "d", "1.0.0", "other", REPO_URL)
    assert [d["includes"] for d in doc["distribution"]] == ["articles/*.parquet", "annotations/*.parquet"]
    assert {rs["@id"] for rs in doc["recordSet"]} == {"articles", "annotations", "annotations_spans_label_classes",
                                                      "annotations_stance_stance_classes"}


def test_several_split_files_and_scalar_types_load(tmp_path):
    features = Features({"id": Value("string"), "when": Value("timestamp[ms, tz=UTC]"), "day": Value("date32"),
                         "ok": Value("bool"), "score": Value("float32"), "tags": List(ClassLabel(names=["a", "b"])),
                         "meta": {"n": Value("int64")}})
    rows = [{"id": f"r{i}", "when": datetime.datetime(2024, 1, i + 1, 9, tzinfo=datetime.timezone.utc),
             "day": datetime.date(2024, 2, i + 1), "ok": i % 2 == 0, "score": i / 4, "tags": [1, 0][:i],
             "meta": {"n": 10 * i}} for i in range(3)]
    (tmp_path / "cfg").mkdir()
    datasets.Dataset.from_list(rows[:2], features=features).to_parquet(str(tmp_path / "cfg" / "train-00000-of-00001.parquet"))
    datasets.Dataset.from_list(rows[2:], features=features).to_parquet(str(tmp_path / "cfg" / "test-00000-of-00001.parquet"))
    path = write_croissant(tmp_path, {"cfg": features}, {"cfg": {"train": 2, "test": 1}}, SCHEMA, "n", "d", "v2.1.0",
                           "other", REPO_URL)
    loaded = {}
    for record in mlc.Dataset(jsonld=path).records(record_set="cfg"):
        row = _plain(record)
        loaded[row["id"]] = row
    assert sorted(loaded) == ["r0", "r1", "r2"]
    for row in rows:
        got = loaded[row["id"]]
        assert got["when"].to_pydatetime() == row["when"] and got["day"].date() == row["day"]
        assert (got["ok"], got["score"], got["tags"], got["meta"]) == (row["ok"], row["score"], row["tags"], row["meta"])


@pytest.mark.parametrize("feature", [Value("binary"), List(List({"a": Value("int32")})),
                                     List({"inner": List(Value("string"))})])
def test_features_croissant_cannot_express_are_refused(feature):
    with pytest.raises(CroissantError):
        croissant_metadata({"cfg": Features({"x": feature})}, {"cfg": {"train": 1}}, SCHEMA, "n", "d", "1.0.0", "other",
                           REPO_URL)
