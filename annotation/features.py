"""Hugging Face features of every exported config, derived from the one label schema."""

from __future__ import annotations

from datasets import ClassLabel, Features, List, Value

from dataset.records import ARTICLE_SCHEMA

from .schema import LabelSchema


def article_features() -> Features:
    return Features.from_arrow_schema(ARTICLE_SCHEMA)


def _span_feature(schema: LabelSchema) -> dict:
    return {"start": Value("int32"), "end": Value("int32"), "label": ClassLabel(names=list(schema.entity_labels))}


def ner_features(schema: LabelSchema) -> Features:
    return Features({
        "id": Value("string"),
        "text": Value("string"),
        "tokens": List(Value("string")),
        "token_offsets": List(List(Value("int32"))),
        "ner_tags": List(ClassLabel(names=list(schema.bio_tags))),
        "spans": List(_span_feature(schema)),
        "gold_source": Value("string"),
        "annotators": Value("int32"),
        "boundary_problems": Value("int32"),
        "article_release": Value("string"),
    })


def stance_features(schema: LabelSchema) -> Features:
    return Features({
        "article_id": Value("string"),
        "target": Value("string"),
        "stance": ClassLabel(names=list(schema.stance_choices)),
        "title": Value("string"),
        "text": Value("string"),
        "gold_source": Value("string"),
        "annotators": Value("int32"),
    })


def annotation_features(schema: LabelSchema) -> Features:
    return Features({
        "annotation_id": Value("int64"),
        "article_id": Value("string"),
        "annotator": Value("string"),
        "ground_truth": Value("bool"),
        "was_cancelled": Value("bool"),
        "lead_time": Value("float64"),
        "created_at": Value("string"),
        "spans": List(_span_feature(schema)),
        "stance": List({"target": Value("string"), "stance": ClassLabel(names=list(schema.stance_choices))}),
        "rejected_items": Value("int32"),
        "result": Value("string"),
    })


def config_features(schema: LabelSchema) -> dict[str, Features]:
    return {"articles": article_features(), "ner": ner_features(schema), "stance": stance_features(schema),
            "annotations": annotation_features(schema)}
