"""README.md of an export: DATASET_CARD.md rendered with tables computed from the exported data.

`configs` and `dataset_info` come from `datasets` (MetadataConfigs, DatasetInfosDict) and the
vocabulary fields are checked against the lists that ship inside the `datasets` wheel.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from dataset import __version__
from dataset.records import REMOVAL_RULES
from dataset.store import Release, Store

from .agreement import AgreementReport
from .export import SPLITS
from .gold import GoldResult
from .schema import LabelSchema
from .validate import Validation

CARD_TEMPLATE = Path(__file__).resolve().parent.parent / "DATASET_CARD.md"
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M")]
CONFIG_DESCRIPTIONS = {
    "articles": "one clean article with its metadata and the audit of removed lines",
    "ner": "one article with gold entity spans, tokens and IOB2 tags",
    "stance": "one article and target with the gold author stance",
    "annotations": "one annotator's raw work on one article (pseudonymized)",
}


def size_category(n: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if n < limit), "n>1T")


def card_data(schema: LabelSchema, features: dict, rows: dict[str, dict[str, int]], folder: Path,
              annotators: set[str]) -> DatasetCardData:
    data = DatasetCardData(
        language=["id"],
        license="other",
        license_name="mixed",
        license_details="Article texts belong to their publishers; annotations are CC BY 4.0.",
        annotations_creators=["expert-generated"] if annotators <= {"reference"} else ["crowdsourced", "expert-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        size_categories=[size_category(sum(rows["articles"].values()))],
        source_datasets=["original"],
        task_categories=["token-classification", "text-classification"],
        task_ids=["named-entity-recognition"],
        pretty_name="Indonesian news: entities and author stance (warta)",
        tags=["news", "indonesian", "stance-detection", "named-entity-recognition", "label-studio", "warta"],
    )
    configs = {}
    infos = {}
    for name, counts in rows.items():
        if not counts:
            continue
        configs[name] = {"data_files": [{"split": split, "path": f"{name}/{split}-*.parquet"} for split in counts]}
        splits = SplitDict()
        for split, count in counts.items():
            nbytes = sum(pq.ParquetFile(p).metadata.row_group(i).total_byte_size
                         for p in sorted((folder / name).glob(f"{split}-*.parquet"))
                         for i in range(pq.ParquetFile(p).metadata.num_row_groups))
            splits.add(SplitInfo(name=split, num_examples=count, num_bytes=nbytes))
        infos[name] = DatasetInfo(features=features[name], splits=splits, config_name=name)
    MetadataConfigs(configs).to_dataset_card_data(data)
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def agreement_tables(report: AgreementReport, labels: tuple[str, ...]) -> str:
    def number(value) -> str:
        return "—" if value is None else f"{value:.3f}"

    lines = ["Krippendorff's alpha (nominal) of the stance labels:", "", "| target | alpha | units | note |", "|---|---|---|---|"]
    for target, alpha in report.stance_alpha.items():
        lines.append(f"| {target} | {number(alpha.value)} | {alpha.units} | {alpha.reason or ''} |")
    overall = report.stance_alpha_overall
    lines.append(f"| **all targets** | {number(overall.value)} | {overall.units} | {overall.reason or ''} |")
    lines += ["", "Cohen's kappa of the stance labels per annotator pair:", "", "| annotators | kappa | items | note |",
              "|---|---|---|---|"]
    for kappa in report.stance_kappa:
        lines.append(f"| {' / '.join(kappa.annotators)} | {number(kappa.value)} | {kappa.n} | {kappa.reason or ''} |")
    if not report.stance_kappa:
        lines.append("| — | — | 0 | fewer than two annotators answered the same items |")
    micro = report.span_micro
    lines += ["", f"Entity span F1 between annotators, summed over all pairs ({micro.articles} shared article-pairs; "
              "a span is not counted against an annotator whose span items at that place were rejected in validation):", "",
              "| label | exact F1 | overlap F1 |", "|---|---|---|"]
    for label in labels:
        lines.append(f"| `{label}` | {number(micro.exact_by_label[label].f1)} | {number(micro.overlap_by_label[label].f1)} |")
    lines.append(f"| **all** | {number(micro.exact.f1)} | {number(micro.overlap.f1)} |")
    return "\n".join(lines)


def _lineage(store: Store, part: str) -> list[str]:
    entries = []
    for version in reversed(store.versions()):
        manifest = store.release(version).manifest
        counts = manifest.get("counts") or {"rows": manifest["rows"]}
        summary = ", ".join(f"{value} {key}" for key, value in counts.items())
        parent = manifest.get("parent_version")
        entries.append(f"{part} {version} ({manifest.get('bump')}{', after ' + parent if parent else ''}): {summary}")
    return entries


def write_card(folder: Path, schema: LabelSchema, features: dict, rows: dict[str, dict[str, int]], validation: Validation,
               gold: GoldResult, report: AgreementReport, release: Release, snapshot: Release, article_store: Store,
               snapshot_store: Store, repo_id: str, quorum: float) -> Path:
    annotators = {j.annotator for j in validation.judgements}
    stats = release.manifest.get("stats") or {}
    removed = stats.get("removed_by_rule") or {}
    split_names = [s for s in SPLITS if any(s in counts for counts in rows.values())]
    empty = [s for s in SPLITS if s not in split_names]
    entity_counts = {split: Counter() for split in split_names}
    stance_counts = {t: Counter() for t in schema.stance_targets}
    for split in split_names:
        path = folder / "ner" / f"{split}-00000-of-00001.parquet"
        if path.exists():
            for spans in pq.read_table(path, columns=["spans"]).column("spans").to_pylist():
                entity_counts[split].update(schema.entity_labels[s["label"]] for s in spans)
    for article_gold in gold.gold.values():
        for target in schema.stance_targets:
            stance_counts[target][article_gold.stance.get(target, "no gold")] += 1
    sources = Counter(g.source for g in gold.gold.values())
    skipped = validation.counts["skipped"]
    summary = (f"{validation.counts['converted_annotations']} annotations by {len(annotators)} annotator(s) on "
               f"{len({j.article_id for j in validation.judgements})} article(s); {skipped} skipped. Gold comes from "
               + ", ".join(f"{n} article(s) by {source}" for source, n in sorted(sources.items())) + ".")
    if "reference" in annotators:
        only_reference = sum(1 for g in gold.gold.values() if g.source == "single")
        summary += (f" The `reference` annotator is the project's own hand-made reference annotation of the seed "
                    f"articles, loaded into Label Studio where no person had annotated yet; {only_reference} article(s) "
                    "have gold from one annotator only, so their labels are not an agreement between people.")
    context = dict(
        pretty_name="Indonesian news: entities and author stance",
        toolkit_version=f"warta {__version__}",
        repo_id=repo_id,
        split_names=split_names,
        split_note=(f"Empty splits are left out: {' and '.join(f'`{s}`' for s in empty)} "
                    f"{'has' if len(empty) == 1 else 'have'} no rows in this release." if empty else ""),
        config_rows=[{"name": name, "description": CONFIG_DESCRIPTIONS[name],
                      "counts": [rows[name].get(s, 0) for s in split_names]} for name in rows],
        entity_labels=[{"name": e.name, "en": e.definition.en, "id": e.definition.id} for e in schema.entities],
        stance_choices=[{"name": c.value, "en": c.definition.en, "id": c.definition.id} for c in schema.stance.choices],
        stance_targets=list(schema.stance_targets),
        entity_counts=[{"label": label, "counts": [entity_counts[s][label] for s in split_names]}
                       for label in schema.entity_labels],
        stance_counts=[{"target": t, "counts": [stance_counts[t][c] for c in (*schema.stance_choices, "no gold")]}
                       for t in schema.stance_targets],
        annotation_summary=summary,
        quorum_percent=f"{quorum:.0%}",
        agreement_tables=agreement_tables(report, schema.entity_labels),
        reconciliation=validation.reconciliation(),
        versions=[{"part": "articles", "version": release.version, "content": release.manifest["content_sha256"][:16]},
                  {"part": "annotations", "version": snapshot.version, "content": snapshot.manifest["content_sha256"][:16]},
                  {"part": "label schema", "version": schema.version, "content": schema.fingerprint[:16]}],
        changelog=_lineage(article_store, "articles") + _lineage(snapshot_store, "annotations"),
        cleaning_summary=f"articles {release.version}: {stats.get('articles', release.manifest.get('rows'))} article(s) "
                         f"from {stats.get('documents', '?')} file(s)",
        removal_rules=[{"name": name, "what": what, "lines": removed.get(name, 0)} for name, what in REMOVAL_RULES.items()],
    )
    data = card_data(schema, features, rows, folder, annotators)
    card = DatasetCard.from_template(data, template_path=str(CARD_TEMPLATE), **context)
    path = folder / "README.md"
    path.write_text(str(card), encoding="utf-8")
    return path
