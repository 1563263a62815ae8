"""Typed access to annotation/schema.toml, the single source of truth for warta's labels.

Everything that names a label (the Label Studio config, the Hugging Face features, the dataset
card tables) derives it from a `LabelSchema`, so labels cannot drift between those places.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("schema.toml")

TEXT_FIELD = "text"
TEXT_OBJECT_NAME = "text"
ENTITY_CONTROL_NAME = "entities"
STANCE_CONTROL_PREFIX = "stance_"
OUTSIDE_TAG = "O"

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_HOTKEY = re.compile(r"(?:(?:ctrl|shift|alt|meta)\+)*[a-z0-9]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class SchemaError(ValueError):
    """The label schema is malformed or inconsistent."""


class UnknownNameError(LookupError):
    """A label, stance target or control name that the schema does not define."""


@dataclasses.dataclass(frozen=True)
class Definition:
    """A one-line definition in Indonesian (`id`) and English (`en`)."""

    id: str
    en: str

    @property
    def bilingual(self) -> str:
        return f"{self.en} / {self.id}"


@dataclasses.dataclass(frozen=True)
class EntityLabel:
    name: str
    color: str
    hotkey: str
    definition: Definition


@dataclasses.dataclass(frozen=True)
class StanceChoice:
    value: str
    definition: Definition


@dataclasses.dataclass(frozen=True)
class StanceTask:
    """Article-level stance of the author toward each target."""

    targets: tuple[str, ...]
    choices: tuple[StanceChoice, ...]
    definition: Definition


@dataclasses.dataclass(frozen=True)
class LabelSchema:
    """The validated label schema; construct it with `load_schema` or `schema_from_mapping`."""

    version: str
    entities: tuple[EntityLabel, ...]
    stance: StanceTask

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def entity_labels(self) -> tuple[str, ...]:
        return tuple(entity.name for entity in self.entities)

    @property
    def bio_tags(self) -> tuple[str, ...]:
        """Token tags in ClassLabel order: `O`, then `B-X`, `I-X` per entity label."""
        return (OUTSIDE_TAG,) + tuple(f"{prefix}-{name}" for name in self.entity_labels for prefix in "BI")

    @property
    def stance_targets(self) -> tuple[str, ...]:
        return self.stance.targets

    @property
    def stance_choices(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.stance.choices)

    @property
    def stance_control_names(self) -> tuple[str, ...]:
        return tuple(control_name_for_target(target) for target in self.stance.targets)

    def entity(self, name: str) -> EntityLabel:
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise UnknownNameError(f"no entity label {name!r}; the schema defines {list(self.entity_labels)}")

    def control_name_for_target(self, target: str) -> str:
        if target not in self.stance.targets:
            raise UnknownNameError(f"no stance target {target!r}; the schema defines {list(self.stance.targets)}")
        return control_name_for_target(target)

    def target_for_control_name(self, control_name: str) -> str:
        for target in self.stance.targets:
            if control_name_for_target(target) == control_name:
                return target
        raise UnknownNameError(
            f"no stance control {control_name!r}; the schema defines {list(self.stance_control_names)}"
        )

    def with_targets(self, targets: Sequence[str]) -> LabelSchema:
        """The same schema with another list of stance targets (validated again)."""
        if isinstance(targets, str):
            raise SchemaError("stance targets must be a list of strings, not a single string")
        return dataclasses.replace(self, stance=dataclasses.replace(self.stance, targets=tuple(targets)))

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the shape of schema.toml; `schema_from_mapping(s.to_dict()) == s`."""
        return {
            "version": self.version,
            "entity": [
                {"name": e.name, "color": e.color, "hotkey": e.hotkey, "id": e.definition.id, "en": e.definition.en}
                for e in self.entities
            ],
            "stance": {
                "targets": list(self.stance.targets),
                "id": self.stance.definition.id,
                "en": self.stance.definition.en,
                "choice": [
                    {"value": c.value, "id": c.definition.id, "en": c.definition.en} for c in self.stance.choices
                ],
            },
        }

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical content: equal for equal schemas, whatever the TOML formatting."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def control_name_for_target(target: str) -> str:
    """The Label Studio control name of a stance target: `Amerika Serikat` -> `stance_amerika_serikat`."""
    ascii_text = unicodedata.normalize("NFKD", target).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not slug:
        raise SchemaError(f"stance target {target!r} has no letters or digits to build a control name from")
    return STANCE_CONTROL_PREFIX + slug


def load_schema(path: Path | str | None = None, *, targets: Sequence[str] | None = None) -> LabelSchema:
    """Load and validate the schema file (annotation/schema.toml by default).

    `targets` replaces the stance targets of the file, for projects that track other actors.
    """
    path = Path(path) if path is not None else SCHEMA_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"schema file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise SchemaError(f"{path}: invalid TOML: {error}") from None
    schema = schema_from_mapping(data, source=str(path))
    return schema.with_targets(targets) if targets is not None else schema


def schema_from_mapping(data: Mapping[str, Any], *, source: str = "<schema>") -> LabelSchema:
    """Build a validated schema from data shaped like schema.toml."""
    try:
        _check_keys(data, required={"version", "entity", "stance"}, where="top level")
        stance = data["stance"]
        _check_keys(stance, required={"targets", "id", "en", "choice"}, where="[stance]")
        entities = tuple(
            _entity_from_table(item, f"entity[{index}]")
            for index, item in enumerate(_table_list(data["entity"], "entity"))
        )
        choices = tuple(
            _choice_from_table(item, f"stance.choice[{index}]")
            for index, item in enumerate(_table_list(stance["choice"], "stance.choice"))
        )
        targets = stance["targets"]
        if not isinstance(targets, (list, tuple)) or not all(isinstance(target, str) for target in targets):
            raise SchemaError("[stance] targets must be a list of strings")
        version = data["version"]
        if not isinstance(version, str):
            raise SchemaError("version must be a string such as \"1.0.0\"")
        return LabelSchema(
            version=version,
            entities=entities,
            stance=StanceTask(targets=tuple(targets), choices=choices, definition=_definition(stance, "[stance]")),
        )
    except SchemaError as error:
        raise SchemaError(f"{source}: {error}") from None


def _entity_from_table(table: Any, where: str) -> EntityLabel:
    _check_keys(table, required={"name", "color", "hotkey", "id", "en"}, where=where)
    return EntityLabel(
        name=_string(table, "name", where),
        color=_string(table, "color", where),
        hotkey=_string(table, "hotkey", where),
        definition=_definition(table, where),
    )


def _choice_from_table(table: Any, where: str) -> StanceChoice:
    _check_keys(table, required={"value", "id", "en"}, where=where)
    return StanceChoice(value=_string(table, "value", where), definition=_definition(table, where))


def _check_keys(table: Any, *, required: set[str], where: str) -> None:
    if not isinstance(table, Mapping):
        raise SchemaError(f"{where} must be a table")
    missing = required - table.keys()
    unknown = table.keys() - required
    problems = []
    if unknown:
        problems.append(f"has unknown keys {sorted(unknown)}")
    if missing:
        problems.append(f"is missing {sorted(missing)}")
    if problems:
        raise SchemaError(f"{where} {' and '.join(problems)}")


def _table_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SchemaError(f"{where} must be an array of tables ([[{where}]])")
    return value


def _string(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise SchemaError(f"{where}.{key} must be a string, got {type(value).__name__}")
    return value


def _definition(table: Mapping[str, Any], where: str) -> Definition:
    return Definition(id=_string(table, "id", where), en=_string(table, "en", where))


def _check_text(value: str, what: str, *, is_name: bool) -> None:
    if not value.strip():
        raise SchemaError(f"{what} is empty")
    if _CONTROL_CHARS.search(value):
        raise SchemaError(f"{what} {value!r} contains a line break or control character")
    if is_name and value != value.strip():
        raise SchemaError(f"{what} {value!r} has leading or trailing whitespace")
    if is_name and "$" in value:
        raise SchemaError(f"{what} {value!r} contains '$', which Label Studio reads as a task field reference")


def _check_unique(values: Sequence[str], what: str) -> None:
    seen: dict[str, str] = {}
    for value in values:
        key = value.casefold()
        if key in seen:
            raise SchemaError(f"duplicate {what} {value!r} (clashes with {seen[key]!r})")
        seen[key] = value


def _validate(schema: LabelSchema) -> None:
    if not schema.version.strip():
        raise SchemaError("version is empty")
    if not schema.entities:
        raise SchemaError("no entity labels defined")
    for entity in schema.entities:
        where = f"entity {entity.name!r}"
        _check_text(entity.name, "entity label", is_name=True)
        if entity.name == OUTSIDE_TAG:
            raise SchemaError(f"entity label {OUTSIDE_TAG!r} is reserved for the outside tag of BIO tagging")
        if not _COLOR.fullmatch(entity.color):
            raise SchemaError(f"{where}: color {entity.color!r} is not of the form #RRGGBB")
        if not _HOTKEY.fullmatch(entity.hotkey):
            raise SchemaError(
                f"{where}: hotkey {entity.hotkey!r} must be one lowercase letter or digit, "
                "optionally after modifiers such as 'shift+'"
            )
        _check_definition(entity.definition, where)
    _check_unique(schema.entity_labels, "entity label")
    _check_unique([entity.hotkey for entity in schema.entities], "hotkey")

    stance = schema.stance
    _check_definition(stance.definition, "[stance]")
    if "$" in stance.definition.bilingual:
        raise SchemaError("[stance] definition contains '$'; it is shown in a Header, which reads '$name' as a task field")
    if not stance.targets:
        raise SchemaError("stance targets are empty; list at least one target")
    for target in stance.targets:
        _check_text(target, "stance target", is_name=True)
    _check_unique(stance.targets, "stance target")
    _check_unique([control_name_for_target(target) for target in stance.targets], "stance control name")
    if not stance.choices:
        raise SchemaError("no stance choices defined")
    for choice in stance.choices:
        _check_text(choice.value, "stance choice", is_name=True)
        _check_definition(choice.definition, f"stance choice {choice.value!r}")
    _check_unique(schema.stance_choices, "stance choice")


def _check_definition(definition: Definition, where: str) -> None:
    _check_text(definition.id, f"{where}: Indonesian definition (id)", is_name=False)
    _check_text(definition.en, f"{where}: English definition (en)", is_name=False)


def labelstudio_config(schema: LabelSchema) -> str:
    """The Label Studio labeling config (XML) for the schema.

    Built with ElementTree so every label and definition is escaped, and with a `Text` object
    (never `HyperText`) so HTML inside articles is shown as text instead of being rendered.
    """
    view = ET.Element("View")
    labels = ET.SubElement(view, "Labels", name=ENTITY_CONTROL_NAME, toName=TEXT_OBJECT_NAME)
    for entity in schema.entities:
        ET.SubElement(
            labels,
            "Label",
            value=entity.name,
            background=entity.color,
            hotkey=entity.hotkey,
            hint=entity.definition.bilingual,
        )
    ET.SubElement(view, "Text", name=TEXT_OBJECT_NAME, value=f"${TEXT_FIELD}")

    stance_view = ET.SubElement(view, "View")
    ET.SubElement(stance_view, "Header", value=schema.stance.definition.bilingual, size="5")
    for target in schema.stance.targets:
        ET.SubElement(stance_view, "Header", value=target, size="6")
        choices = ET.SubElement(
            stance_view,
            "Choices",
            name=control_name_for_target(target),
            toName=TEXT_OBJECT_NAME,
            choice="single",
            required="false",
            showInline="true",
        )
        for choice in schema.stance.choices:
            ET.SubElement(choices, "Choice", value=choice.value, hint=choice.definition.bilingual)
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


def stance_targets_of_config(config: str, known: Sequence[str] = ()) -> tuple[str, ...]:
    """The stance targets a Label Studio config made by `labelstudio_config` asks about, in its order.

    A project pushed with other targets (`warta push --targets`) is read back with this: a target's
    name is the Header above its Choices (the control name is a lossy slug). A Header re-worded in
    Label Studio no longer names it; the control is then taken for the one of `known` it is named
    after, and a control that is neither raises SchemaError naming it (its answers would be lost)."""
    try:
        root = ET.fromstring(config)
    except ET.ParseError as error:
        raise SchemaError(f"the project's labeling config is not XML ({error})") from None
    by_control = {control_name_for_target(target): target for target in known}
    targets: list[str] = []
    for parent in root.iter():
        previous = None
        for element in parent:
            name = element.get("name") or ""
            if element.tag == "Choices" and name.startswith(STANCE_CONTROL_PREFIX):
                header = (previous.get("value") or "") if previous is not None and previous.tag == "Header" else ""
                if _names_control(header, name):
                    targets.append(header)
                elif name in by_control:
                    targets.append(by_control[name])
                else:
                    raise SchemaError(f"the project's stance control {name!r} has no Header naming its target "
                                      f"(found {header!r}): restore the Header, or push with --targets again")
            previous = element
    return tuple(targets)


def _names_control(header: str, control: str) -> bool:
    try:
        return control_name_for_target(header) == control
    except SchemaError:
        return False
