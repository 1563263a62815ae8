"""croissant.json of an export: an MLCommons Croissant 1.0 description generated from the export's features.

Every record set and field comes from the same `datasets.Features` that typed the Parquet files, so the
Croissant description cannot drift from the data. One `cr:FileSet` per config (`{config}/*.parquet`), one
`cr:RecordSet` per config whose fields are exactly the Hugging Face columns, and one small `sc:Enumeration`
record set per ClassLabel column holding its class names (index -> name). Output is deterministic: no
timestamps, and the same inputs give the same bytes.

Loads offline with `mlcroissant.Dataset(jsonld=folder / "croissant.json")`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from datasets import ClassLabel, Features, LargeList, List, Value

from .card import CONFIG_DESCRIPTIONS
from .schema import LabelSchema

CROISSANT_FILE = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
DATASET_DESCRIPTION = ("Indonesian news articles with gold named entities (spans and IOB2 tags) and the author's stance "
                       "toward fixed targets, adjudicated from Label Studio annotations. License: mixed (`other`): "
                       "article texts belong to their publishers; annotations are CC BY 4.0.")
# The @context of the official Croissant 1.0 examples (github.com/mlcommons/croissant, datasets/1.0/*/metadata.json),
# plus `equivalentProperty` and `samplingRate`, which mlcroissant >= 1.1 lists in its standard 1.0 context and warns
# about ("@context is not standard") when missing.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
# Columns that identify one record of a config (Croissant `key`); used only when the config has all of them.
RECORD_KEYS = {"articles": ("id",), "ner": ("id",), "stance": ("article_id", "target"), "annotations": ("annotation_id",)}


class CroissantError(ValueError):
    """A feature type that this module cannot express in Croissant 1.0."""


def _scalar_type(value: Value, where: str) -> tuple[str, str]:
    """HF `Value` -> (Croissant dataType, words for the description)."""
    dtype = value.pa_type
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return "sc:Text", "string"
    if pa.types.is_boolean(dtype):
        return "sc:Boolean", "boolean"
    if pa.types.is_integer(dtype):
        return "sc:Integer", str(dtype)
    if pa.types.is_floating(dtype):
        return "sc:Float", str(dtype)
    if pa.types.is_timestamp(dtype):
        return "sc:DateTime", f"timestamp ({dtype.unit}{', ' + dtype.tz if dtype.tz else ''})"
    if pa.types.is_date(dtype):
        return "sc:Date", "date"
    raise CroissantError(f"{where}: no Croissant 1.0 data type for the Hugging Face type {value.dtype!r}")


class _Builder:
    """Walks the features of one config and produces its `cr:Field`s and the class-name record sets."""

    def __init__(self, config: str, file_set: str, taken: set[str]):
        self.config = config
        self.file_set = file_set
        self.taken = taken
        self.class_sets: list[dict] = []

    def source(self, column: str, json_path: str | None) -> dict:
        source: dict[str, Any] = {"fileSet": {"@id": self.file_set}, "extract": {"column": column}}
        if json_path:
            source["transform"] = {"jsonPath": json_path}
        return source

    def field(self, name: str, feature: Any, parent_id: str, column: str, json_path: str | None,
              in_list: bool) -> dict:
        field_id = f"{parent_id}/{name}"
        where = f"{self.config}: {field_id.split('/', 1)[1]}"
        node: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": name}
        repeated = False
        inner = feature
        if isinstance(inner, (List, LargeList)):
            repeated, inner = True, inner.feature
        nested = 0
        while isinstance(inner, (List, LargeList)):
            nested, inner = nested + 1, inner.feature
        if repeated and in_list:
            raise CroissantError(f"{where}: a list inside a list of records has no Croissant 1.0 form")
        list_words = "list of " * (1 + nested) if repeated else ""
        if isinstance(inner, dict):
            if nested:
                raise CroissantError(f"{where}: lists of lists of records have no Croissant 1.0 form")
            node["description"] = (f"{list_words}records with {', '.join(f'`{k}`' for k in inner)}"
                                   f" (column `{column}` of the {self.config} Parquet files)")
            node["subField"] = [
                self.field(key, sub, field_id, column, f"{json_path}.{key}" if json_path else key,
                           in_list or repeated)
                for key, sub in inner.items()]
        elif isinstance(inner, ClassLabel):
            class_set = self.class_set(field_id, inner)
            node["dataType"] = "sc:Integer"
            names = ", ".join(f"{i}={n}" for i, n in enumerate(inner.names))
            node["description"] = (f"{list_words}class index: {names} (names in record set `{class_set}`)")
            node["source"] = self.source(column, json_path)
        elif isinstance(inner, Value):
            data_type, words = _scalar_type(inner, where)
            node["dataType"] = data_type
            node["description"] = f"{list_words}{words}"
            node["source"] = self.source(column, json_path)
        else:
            raise CroissantError(f"{where}: the Hugging Face feature {type(inner).__name__} has no Croissant form here")
        if repeated:
            node["repeated"] = True
        return node

    def class_set(self, field_id: str, label: ClassLabel) -> str:
        record_set = f"{field_id.replace('/', '_')}_classes"
        if record_set in self.taken:
            raise CroissantError(f"record set id {record_set!r} is used twice")
        self.taken.add(record_set)
        index, name = f"{record_set}/index", f"{record_set}/name"
        self.class_sets.append({
            "@type": "cr:RecordSet",
            "@id": record_set,
            "name": record_set,
            "description": f"Class names of `{field_id}`: the integer stored in the column is the index.",
            "dataType": "sc:Enumeration",
            "key": {"@id": index},
            "field": [
                {"@type": "cr:Field", "@id": index, "name": "index", "description": "class index",
                 "dataType": "sc:Integer"},
                {"@type": "cr:Field", "@id": name, "name": "name", "description": "class name", "dataType": "sc:Text"},
            ],
            "data": [{index: i, name: label_name} for i, label_name in enumerate(label.names)],
        })
        return record_set


def semantic_version(version: str) -> str:
    """Release names are `v1.2.3`; Croissant wants MAJOR.MINOR.PATCH (mlcroissant warns on the `v`)."""
    return version[1:] if version[:1] in ("v", "V") and version[1:2].isdigit() else version


def cite_as(name: str, url: str, version: str) -> str:
    """A BibTeX entry built from the dataset's name, address and version (Croissant recommends `citeAs`)."""
    key = "".join(c if c.isalnum() else "_" for c in name)
    return f"@misc{{{key}, title={{{name}}}, howpublished={{\\url{{{url}}}}}, version={{{version}}}}}"


def croissant_metadata(features: dict[str, Features], rows: dict[str, dict[str, int]], schema: LabelSchema, name: str,
                       description: str, version: str, license: str, url: str) -> dict:
    """The Croissant JSON-LD document (a dict) for an export with these features and row counts."""
    configs = [config for config in features if sum((rows.get(config) or {}).values()) > 0]
    distribution = []
    record_sets = []
    taken = set(configs)
    for config in configs:
        file_set = f"{config}-parquet"
        if file_set in taken:
            raise CroissantError(f"file set id {file_set!r} clashes with a record set")
        taken.add(file_set)
        counts = ", ".join(f"{split}: {n}" for split, n in rows[config].items())
        distribution.append({
            "@type": "cr:FileSet",
            "@id": file_set,
            "name": file_set,
            "description": f"Parquet files of the `{config}` config, one per split ({counts} rows).",
            "encodingFormat": PARQUET,
            "includes": f"{config}/*.parquet",
        })
        builder = _Builder(config, file_set, taken)
        fields = [builder.field(column, feature, config, column, None, False) for column, feature in features[config].items()]
        record_set: dict[str, Any] = {
            "@type": "cr:RecordSet",
            "@id": config,
            "name": config,
            "description": CONFIG_DESCRIPTIONS.get(config, f"the {config} config"),
            "field": fields,
        }
        key = RECORD_KEYS.get(config)
        if key and all(column in features[config] for column in key):
            ids = [{"@id": f"{config}/{column}"} for column in key]
            record_set["key"] = ids[0] if len(ids) == 1 else ids
        record_sets.append(record_set)
        record_sets.extend(builder.class_sets)
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": name,
        "description": description,
        "license": license,
        "url": url,
        "version": semantic_version(version),
        "citeAs": cite_as(name, url, semantic_version(version)),
        "inLanguage": "id",
        "keywords": sorted({"indonesian", "news", "named-entity-recognition", "stance-detection",
                            f"label-schema-{schema.version}"}),
        "distribution": distribution,
        "recordSet": record_sets,
    }


def write_croissant(folder: Path, features: dict[str, Features], rows: dict[str, dict[str, int]], schema: LabelSchema,
                    name: str, description: str, version: str, license: str, url: str) -> Path:
    """Write `folder/croissant.json` describing the Parquet configs under `folder`; returns its path."""
    document = croissant_metadata(features, rows, schema, name, description, version, license, url)
    path = Path(folder) / CROISSANT_FILE
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return path
