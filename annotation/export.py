"""`warta export`: an article release + an annotation snapshot -> a Hugging Face dataset folder.

The folder loads offline with `datasets.load_dataset(folder, config)`: Parquet files carry the
`huggingface` schema metadata (ClassLabel names survive), and README.md's `configs` / `dataset_info`
are produced by the libraries from the same features, never typed by hand.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dataset.records import sha256_hex
from dataset.store import Release, Store

from .agreement import AgreementReport, agreement
from .features import config_features
from .gold import GoldResult, adjudicate
from .schema import LabelSchema
from .tokens import spans_to_iob, token_offsets
from .validate import Validation, validate

SPLITS = ("train", "validation", "test")
DEFAULT_REPO_ID = "warta/indonesian-news-ner-stance"


class ExportError(Exception):
    """The export cannot be built from these inputs; nothing was written."""


def split_for(cluster: str) -> str:
    """Deterministic ~80/10/10 split from the near-duplicate cluster id, so copies never cross splits."""
    bucket = int(sha256_hex(f"warta-split:{cluster}")[:8], 16) % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


@dataclass
class ExportResult:
    out: Path
    rows: dict[str, dict[str, int]]
    validation: Validation
    gold: GoldResult
    agreement: AgreementReport
    stance_targets: tuple[str, ...]
    boundary_problems: list[dict] = field(default_factory=list)
    drifted: list[dict] = field(default_factory=list)


def _texts_for(store: Store, needed: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Clean texts by text_sha256, from whichever releases hold them (tasks may come from older releases),
    and the newest release holding each."""
    texts: dict[str, str] = {}
    found_in: dict[str, str] = {}
    for version in reversed(store.versions()):
        missing = needed - texts.keys()
        if not missing:
            break
        for batch in store.release(version).iter_batches(columns=["text_sha256", "text"]):
            for sha, text in zip(batch.column("text_sha256").to_pylist(), batch.column("text").to_pylist()):
                if sha in missing:
                    texts[sha], found_in[sha] = text, version
    return texts, found_in


def _annotated_texts(annotation_rows: list[dict]) -> dict[str, set[str]]:
    """article id -> the text_sha256 of the task text(s) its annotations were made on."""
    shas: dict[str, set[str]] = defaultdict(set)
    for row in annotation_rows:
        if row["text_sha256"]:
            shas[row["article_id"]].add(row["text_sha256"])
    return shas


def _write(folder: Path, config: str, rows_by_split: dict[str, list[dict]], features) -> dict[str, int]:
    counts = {}
    for split in SPLITS:
        rows = rows_by_split.get(split) or []
        if not rows:
            continue
        path = folder / config / f"{split}-00000-of-00001.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([features.encode_example(row) for row in rows], schema=features.arrow_schema)
        pq.write_table(table, path, compression="zstd")
        counts[split] = len(rows)
    return counts


def _write_articles(folder: Path, release: Release, features, wanted: set[str]) -> tuple[dict, dict, dict]:
    """Stream the article release into one Parquet file per split; keep in memory only the articles in `wanted`.

    Returns (rows per split, {id: row} for wanted articles, {id: split} for wanted articles)."""
    schema = features.arrow_schema
    writers: dict[str, pq.ParquetWriter] = {}
    counts: dict[str, int] = {}
    by_id: dict[str, dict] = {}
    split_of: dict[str, str] = {}
    try:
        for batch in release.iter_batches():
            table = pa.Table.from_batches([batch]).cast(schema)
            splits = [split_for(cluster) for cluster in table.column("dup_cluster").to_pylist()]
            for split in SPLITS:
                mask = pa.array([s == split for s in splits])
                part = table.filter(mask)
                if part.num_rows:
                    if split not in writers:
                        path = folder / "articles" / f"{split}-00000-of-00001.parquet"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        writers[split] = pq.ParquetWriter(path, schema, compression="zstd")
                    writers[split].write_table(part)
                    counts[split] = counts.get(split, 0) + part.num_rows
            for index, article_id in enumerate(table.column("id").to_pylist()):
                if article_id in wanted:
                    by_id[article_id] = {k: table.column(k)[index].as_py() for k in ("id", "text", "title", "text_sha256")}
                    split_of[article_id] = splits[index]
    finally:
        for writer in writers.values():
            writer.close()
    return {s: counts[s] for s in SPLITS if s in counts}, by_id, split_of


def _annotation_rows(snapshot: Release, validation: Validation, split_of: dict[str, str]) -> dict[str, list[dict]]:
    judged = {j.annotation_id: j for j in validation.judgements}
    rejected = Counter((r.annotation_id) for r in validation.rejections)
    rows: dict[str, list[dict]] = defaultdict(list)
    for row in snapshot.read_table("annotations").to_pylist():
        judgement = judged.get(row["annotation_id"])
        rows[split_of.get(row["article_id"], "train")].append({
            "annotation_id": row["annotation_id"],
            "article_id": row["article_id"],
            "annotator": row["annotator"],
            "ground_truth": row["ground_truth"],
            "was_cancelled": row["was_cancelled"],
            "lead_time": row["lead_time"],
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in (judgement.spans if judgement else ())],
            "stance": [{"target": t, "stance": c} for t, c in sorted((judgement.stance if judgement else {}).items())],
            "rejected_items": rejected.get(row["annotation_id"], 0),
            "result": row["result"],
        })
    return rows


def schema_for_snapshot(schema: LabelSchema, snapshot: Release) -> LabelSchema:
    """`schema` with the stance targets the snapshot's annotators were asked about, where the snapshot
    records them (a project pushed with `--targets`): with the schema's own, their answers would be
    rejected as unknown controls and the stance config would come out empty."""
    targets = snapshot.manifest.get("stance_targets")
    return schema.with_targets(targets) if targets and tuple(targets) != schema.stance_targets else schema


def export(articles: Path, annotations: Path, out: Path, schema: LabelSchema, articles_version: str | None = None,
           annotations_version: str | None = None, quorum: float = 0.5, repo_id: str = DEFAULT_REPO_ID) -> ExportResult:
    """Build the whole folder in a temp dir beside `out`, then swap it in: an interrupted export leaves no half folder."""
    _check_out(Path(out), [Path(articles), Path(annotations)])
    article_store, snapshot_store = Store(articles), Store(annotations)
    release = article_store.release(articles_version)
    if release.manifest.get("kind") != "articles":
        raise ExportError(f"{articles} {release.version} is not an article release (made by `warta normalize`)")
    snapshot = snapshot_store.release(annotations_version)
    if snapshot.manifest.get("kind") != "annotations":
        raise ExportError(f"{annotations} {snapshot.version} is not an annotation snapshot (made by `warta pull`)")
    schema = schema_for_snapshot(schema, snapshot)
    annotation_rows = snapshot.read_table("annotations").to_pylist()
    texts, found_in = _texts_for(article_store, {r["text_sha256"] for r in annotation_rows if r["text_sha256"]})
    annotated = _annotated_texts(annotation_rows)
    validation = validate(annotation_rows, texts, schema)
    judgements = validation.latest_per_annotator()
    gold = adjudicate(judgements, schema.stance_targets, quorum=quorum)
    report = agreement(judgements, schema.entity_labels, schema.stance_targets)

    features = config_features(schema)
    out = Path(out)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        wanted = {r["article_id"] for r in annotation_rows}
        article_counts, by_id, split_of = _write_articles(staging, release, features["articles"], wanted)
        unknown = sorted({j.article_id for j in validation.judgements} - by_id.keys())
        if unknown:
            raise ExportError(f"{len(unknown)} annotated article(s) are not in {release.version} of {articles} "
                              f"(first: {unknown[0]}); export with the release the tasks were pushed from")
        tables: dict[str, dict[str, list[dict]]] = {name: defaultdict(list) for name in features if name != "articles"}
        boundary_problems: list[dict] = []
        drifted: list[dict] = []
        for article_id, article_gold in gold.gold.items():
            article = by_id[article_id]
            split = split_of[article_id]
            text, text_release = article["text"], release.version
            shas = annotated.get(article_id, set())
            if shas and article["text_sha256"] not in shas:  # the release's text changed after it was annotated
                record = {"article_id": article_id, "release": release.version, "annotated_text_sha256": sorted(shas)}
                sha = next(iter(shas)) if len(shas) == 1 else None
                if sha not in texts:
                    why = "the annotated text is in no release of the store" if sha else "annotated on more than one text"
                    drifted.append({**record, "kept": False, "why": why})
                    continue
                text, text_release = texts[sha], found_in[sha]  # the labels stay with the text they label
                drifted.append({**record, "kept": True, "text_release": text_release})
            starts, ends = token_offsets(text)
            iob = spans_to_iob(text, article_gold.spans)  # from the same cached offsets, no Token objects
            boundary_problems.extend({"article_id": article_id, "problem": str(p)} for p in iob.problems)
            tables["ner"][split].append({
                "id": article_id, "text": text, "tokens": [text[s:e] for s, e in zip(starts, ends)],
                "token_offsets": [[s, e] for s, e in zip(starts, ends)], "ner_tags": list(iob.tags),
                "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in article_gold.spans],
                "gold_source": article_gold.source, "annotators": article_gold.annotators,
                "boundary_problems": len(iob.problems), "article_release": text_release,
            })
            for target in schema.stance_targets:
                if target in article_gold.stance:
                    tables["stance"][split].append({
                        "article_id": article_id, "target": target, "stance": article_gold.stance[target],
                        "title": article["title"], "text": text, "gold_source": article_gold.source,
                        "annotators": article_gold.annotators,
                    })
        tables["annotations"] = _annotation_rows(snapshot, validation, split_of)
        rows = {"articles": article_counts}
        rows.update({name: _write(staging, name, tables[name], features[name]) for name in tables})
        quality = staging / "quality"
        quality.mkdir()
        (quality / "agreement.json").write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
        (quality / "gold.json").write_text(json.dumps(gold.as_dict(), indent=2, ensure_ascii=False) + "\n")
        (quality / "reconciliation.json").write_text(json.dumps(validation.reconciliation(), indent=2) + "\n")
        (quality / "rejections.jsonl").write_text("".join(json.dumps(r.__dict__, ensure_ascii=False) + "\n"
                                                          for r in validation.rejections))
        (quality / "drifted.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drifted))
        (quality / "boundary_problems.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n"
                                                                 for p in boundary_problems))
        from .card import write_card

        write_card(staging, schema, features, rows, validation, gold, report, release, snapshot, article_store,
                   snapshot_store, repo_id, quorum)
        from .croissant import DATASET_DESCRIPTION, write_croissant
        write_croissant(staging, features, rows, schema, name="warta-indonesian-news", description=DATASET_DESCRIPTION,
                        version=release.version, license="other", url=f"https://huggingface.co/datasets/{repo_id}")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(out, rows, validation, gold, report, schema.stance_targets, boundary_problems, drifted)


EXPORT_MARKERS = ("README.md", "croissant.json", "quality")  # what every export folder holds


def _check_out(out: Path, stores: list[Path]) -> None:
    """Refuse an `out` the swap would delete that is not an earlier export (or empty), or that holds an input store."""
    resolved = out.resolve()
    for store in stores:
        store = store.resolve()
        if resolved == store or resolved in store.parents or store in resolved.parents:
            raise ExportError(f"--out {out} holds or is inside the input store {store}: choose a folder of its own")
    if resolved.exists() and not resolved.is_dir():
        raise ExportError(f"--out {out} is a file, not a folder")
    if resolved.is_dir() and any(resolved.iterdir()) and not all((resolved / name).exists() for name in EXPORT_MARKERS):
        raise ExportError(f"--out {out} is neither empty nor an earlier export (no {', '.join(EXPORT_MARKERS)}): "
                          "an export replaces its folder, so choose an empty or new one")


def _swap_in(staging: Path, out: Path) -> None:
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        os.rename(staging, out)
        shutil.rmtree(old)
    else:
        os.rename(staging, out)
