"""The label schema: loader validation, generated XML, and acceptance by a real Label Studio."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from annotation import schema as schema_module
from annotation.schema import (
    SchemaError,
    UnknownNameError,
    control_name_for_target,
    labelstudio_config,
    load_schema,
    schema_from_mapping,
)

EXPECTED_LABELS = ("PER", "ORG", "GPE", "LOC", "FAC", "NORP", "EVT", "LAW")
EXPECTED_TARGETS = ("Rusia", "Amerika Serikat", "Ukraina", "NATO")
HOSTILE_LABEL = 'P<E>R & "Co"'
HOSTILE_DEFINITION = 'a < b & "c" > d'
HOSTILE_TARGET = 'Uni "Eropa" & <NATO>'
HOSTILE_CHOICE = 'PRO <&> "x"'


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _schema_file(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the real schema.toml with exact text replacements (each must apply)."""
    text = schema_module.SCHEMA_PATH.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "schema.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _create_project(labelstudio, title: str, config: str):
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=labelstudio.url, api_key=labelstudio.token)
    return client.projects.create(title=title, label_config=config)


def test_default_schema_content() -> None:
    schema = load_schema()
    assert schema.entity_labels == EXPECTED_LABELS
    assert schema.stance_targets == EXPECTED_TARGETS
    assert schema.stance_choices == ("FAVOR", "AGAINST", "NONE")
    assert schema.stance_control_names == (
        "stance_rusia",
        "stance_amerika_serikat",
        "stance_ukraina",
        "stance_nato",
    )
    assert schema.bio_tags[:3] == ("O", "B-PER", "I-PER")
    assert len(schema.bio_tags) == 1 + 2 * len(EXPECTED_LABELS)
    assert len({entity.hotkey for entity in schema.entities}) == len(EXPECTED_LABELS)
    for entity in schema.entities:
        assert entity.definition.id and entity.definition.en
    assert "Kremlin" in schema.entity("ORG").definition.en
    assert "AS" in schema.entity("GPE").definition.id
    assert "AUTHOR" in schema.stance.definition.en


def test_target_control_names_round_trip() -> None:
    schema = load_schema()
    for target in schema.stance_targets:
        assert schema.target_for_control_name(schema.control_name_for_target(target)) == target
    assert control_name_for_target("Côte d'Ivoire") == "stance_cote_d_ivoire"
    with pytest.raises(UnknownNameError):
        schema.target_for_control_name("stance_china")
    with pytest.raises(UnknownNameError):
        schema.control_name_for_target("China")


def test_fingerprint_is_stable_and_content_sensitive() -> None:
    schema = load_schema()
    assert len(schema.fingerprint) == 64
    assert load_schema().fingerprint == schema.fingerprint
    assert schema_from_mapping(schema.to_dict()) == schema
    assert schema_from_mapping(json.loads(json.dumps(schema.to_dict()))).fingerprint == schema.fingerprint
    assert schema.with_targets(["Rusia", "China"]).fingerprint != schema.fingerprint
    assert load_schema(targets=["China"]).stance_targets == ("China",)


def test_fingerprint_ignores_toml_formatting(tmp_path) -> None:
    path = _schema_file(tmp_path, ('version = "1.0.0"', '# a comment\nversion    =    "1.0.0"   # trailing'))
    assert load_schema(path).fingerprint == load_schema().fingerprint


def test_config_uses_text_not_hypertext() -> None:
    root = ET.fromstring(labelstudio_config(load_schema()))
    assert root.tag == "View"
    texts = root.findall(".//Text")
    assert [(t.get("name"), t.get("value")) for t in texts] == [("text", "$text")]
    assert not root.findall(".//HyperText")
    labels = root.find(".//Labels")
    assert (labels.get("name"), labels.get("toName")) == ("entities", "text")
    assert [label.get("value") for label in labels.findall("Label")] == list(EXPECTED_LABELS)
    first = labels.find("Label")
    assert first.get("hotkey") == "1" and first.get("background").startswith("#")
    assert "Joko Widodo" in first.get("hint") and "Person" in first.get("hint") and "Nama orang" in first.get("hint")


def test_each_stance_control_follows_its_target_header() -> None:
    root = ET.fromstring(labelstudio_config(load_schema()))
    container = next(view for view in root.iter("View") if view.find("Choices") is not None)
    children = list(container)
    for target in EXPECTED_TARGETS:
        choices = next(c for c in children if c.tag == "Choices" and c.get("name") == control_name_for_target(target))
        header = children[children.index(choices) - 1]
        assert (header.tag, header.get("value")) == ("Header", target)
        assert choices.get("choice") == "single" and choices.get("required") == "false"
        assert choices.get("toName") == "text"
        assert [c.get("value") for c in choices.findall("Choice")] == ["FAVOR", "AGAINST", "NONE"]
        assert all(c.get("hint") for c in choices.findall("Choice"))


@pytest.mark.labelstudio
def test_real_server_accepts_generated_config(labelstudio) -> None:
    schema = load_schema()
    project = _create_project(labelstudio, "warta schema check", labelstudio_config(schema))
    parsed = project.parsed_label_config
    assert set(parsed) == {"entities", *schema.stance_control_names}
    assert parsed["entities"]["type"] == "Labels"
    assert parsed["entities"]["labels"] == list(EXPECTED_LABELS)
    assert parsed["entities"]["inputs"] == [{"type": "Text", "valueType": None, "value": "text"}]
    for control in schema.stance_control_names:
        assert parsed[control]["type"] == "Choices"
        assert parsed[control]["to_name"] == ["text"]
        assert parsed[control]["labels"] == ["FAVOR", "AGAINST", "NONE"]


@pytest.mark.labelstudio
def test_real_server_rejects_a_broken_config(labelstudio) -> None:
    """Guards the acceptance test above: the server does validate configs."""
    from label_studio_sdk.core.api_error import ApiError

    broken = labelstudio_config(load_schema()).replace('toName="text"', 'toName="nowhere"', 1)
    with pytest.raises(ApiError) as caught:
        _create_project(labelstudio, "warta broken config", broken)
    assert caught.value.status_code == 400


@pytest.mark.labelstudio
def test_special_characters_are_escaped_and_round_trip(labelstudio, tmp_path) -> None:
    path = _schema_file(
        tmp_path,
        ('name = "PER"', f"name = {_toml_string(HOSTILE_LABEL)}"),
        ('id = "Nama orang', 'id = "a < b & \\"c\\" > d Nama orang'),
        ('"Rusia",', f"{_toml_string(HOSTILE_TARGET)},"),
        ('value = "FAVOR"', f"value = {_toml_string(HOSTILE_CHOICE)}"),
    )
    schema = load_schema(path)
    assert schema.entity_labels[0] == HOSTILE_LABEL
    config = labelstudio_config(schema)
    root = ET.fromstring(config)
    assert root.find(".//Label").get("value") == HOSTILE_LABEL
    assert HOSTILE_DEFINITION in root.find(".//Label").get("hint")

    project = _create_project(labelstudio, "warta hostile names", config)
    parsed = project.parsed_label_config
    assert parsed["entities"]["labels"] == list(schema.entity_labels)
    assert HOSTILE_DEFINITION in parsed["entities"]["labels_attrs"][HOSTILE_LABEL]["hint"]
    hostile_control = schema.control_name_for_target(HOSTILE_TARGET)
    assert hostile_control == "stance_uni_eropa_nato"
    assert parsed[hostile_control]["labels"] == [HOSTILE_CHOICE, "AGAINST", "NONE"]


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        (('name = "ORG"', 'name = "PER"'), "duplicate entity label 'PER'"),
        (('name = "ORG"', 'name = "per"'), "duplicate entity label 'per'"),
        (('targets = ["Rusia", "Amerika Serikat", "Ukraina", "NATO"]', "targets = []"), "stance targets are empty"),
        (('"NATO"]', '"Rusia"]'), "duplicate stance target 'Rusia'"),
        (('"NATO"]', '"Amerika-Serikat"]'), "duplicate stance control name"),
        (('"NATO"]', '"<&>"]'), "no letters or digits"),
        (('hotkey = "2"', 'hotkey = "1"'), "duplicate hotkey '1'"),
        (('hotkey = "2"', 'hotkey = "22"'), "hotkey '22'"),
        (('hotkey = "2"', 'hotkey = "Ctrl-2"'), "hotkey 'Ctrl-2'"),
        (('color = "#4363d8"', 'color = "blue"'), "not of the form #RRGGBB"),
        (('name = "ORG"', 'name = ""'), "entity label is empty"),
        (('name = "ORG"', 'name = " ORG"'), "leading or trailing whitespace"),
        (('name = "ORG"', 'name = "$ORG"'), "contains '$'"),
        (('name = "ORG"', 'name = "O"'), "reserved"),
        (('hotkey = "2"', 'hotky = "2"'), "unknown keys ['hotky']"),
        (('value = "NONE"', 'value = "AGAINST"'), "duplicate stance choice 'AGAINST'"),
        (('version = "1.0.0"', "version = 1"), "version must be a string"),
        (('version = "1.0.0"', "version = [oops"), "invalid TOML"),
    ],
)
def test_loader_rejects_bad_schemas(tmp_path, replacement, message) -> None:
    path = _schema_file(tmp_path, replacement)
    with pytest.raises(SchemaError) as caught:
        load_schema(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_empty_target_override_is_rejected() -> None:
    with pytest.raises(SchemaError, match="stance targets are empty"):
        load_schema(targets=[])
    with pytest.raises(SchemaError, match="list of strings"):
        load_schema().with_targets("Rusia")


def test_missing_schema_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        load_schema(tmp_path / "absent.toml")
