"""Normalizing a grown corpus again takes unchanged inputs' records from the latest release and writes the same bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataset import pipeline, reuse
from dataset.pipeline import normalize_folder
from dataset.dedup import NearDuplicateIndex
from dataset.reuse import NEAR_DUPLICATE_KEYS, normalizer_fingerprint
from dataset.store import Store
from scripts.cli import cli
from scripts.synthetic import make_corpus
from tests.helpers import SEEDS

RELEASE_KEYS = ("version", "parent_version", "bump")  # what a release's place in its store decides
PAGES = sorted(SEEDS.glob("*.txt"))


@pytest.fixture
def corpus(tmp_path) -> Path:
    """Synthetic articles, the seeds, a cp1252 page (a decoding warning), rejected inputs and a sidecar."""
    folder = tmp_path / "dumps"
    make_corpus(folder / "synthetic", 60, seed=3)
    shutil.copytree(SEEDS, folder / "seeds")
    (folder / "latin.txt").write_bytes("JAKARTA - Kafe “Café” di pusat kota dibuka kembali setelah renovasi, kata "
                                       "pemiliknya.\n".encode("cp1252"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01" * 50)
    sidecar = [{"source_file": "synthetic/0000/00000000.txt", "url": "https://example.id/a", "outlet": "Kompas"},
               {"source_file": "synthetic/0000/00000001.txt", "outlet": "Tempo",
                "published_at": "2021-12-08T10:00:00+07:00"}]
    (folder / "metadata.jsonl").write_text("".join(json.dumps(row) + "\n" for row in sidecar))
    return folder


def release_files(release) -> dict[str, bytes]:
    return {path.relative_to(release.path).as_posix(): path.read_bytes()
            for path in [*release.files, release.path / "inputs.jsonl", release.path / NEAR_DUPLICATE_KEYS]}


@pytest.fixture
def signed(monkeypatch) -> list[int]:
    """How many texts each signing of near-duplicate band keys took."""
    counts: list[int] = []
    sign = NearDuplicateIndex.band_keys

    def counted(index, texts):
        counts.append(len(texts))
        return sign(index, texts)

    monkeypatch.setattr(NearDuplicateIndex, "band_keys", counted)
    return counts


def assert_same_as_fresh(run, source: Path, fresh_store: Path) -> None:
    """`run`'s release has the bytes, and but for its place in the store the manifest, of a fresh store's run."""
    fresh = normalize_folder(source, fresh_store, reuse=False)
    assert run.release is not None and fresh.release is not None
    assert release_files(run.release) == release_files(fresh.release)
    manifest, expected = dict(run.release.manifest), dict(fresh.release.manifest)
    for key in RELEASE_KEYS:
        manifest.pop(key), expected.pop(key)
    assert manifest == expected
    assert (run.stats.as_dict(), run.rejected, run.warnings) == (fresh.stats.as_dict(), fresh.rejected, fresh.warnings)


def hold_back(corpus: Path, held: Path) -> list[Path]:
    """Move 20 synthetic articles out of the corpus (into `held`), to come back when it grows."""
    later = sorted((corpus / "synthetic" / "0000").glob("*.txt"))[40:]
    held.mkdir()
    for path in later:
        shutil.move(path, held / path.name)
    return later


def grow(corpus: Path, held: Path, later: list[Path]) -> int:
    """The held-back articles return, one article is edited, one gets a new sidecar entry, one is gone.

    Returns how many inputs now have to be normalized afresh."""
    for path in later:
        shutil.move(held / path.name, path)
    edited = corpus / "seeds" / PAGES[0].name
    edited.write_text(edited.read_text(encoding="utf-8").replace("Biden", "Presiden Biden", 1), encoding="utf-8")
    with (corpus / "metadata.jsonl").open("a") as handle:
        handle.write(json.dumps({"source_file": "synthetic/0000/00000002.txt", "outlet": "Antara"}) + "\n")
    (corpus / "synthetic" / "0000" / "00000003.txt").unlink()
    return len(later) + 2


def needs_datatrove() -> None:
    pytest.importorskip("datatrove", reason="the datatrove extra is part of the test extra: pip install -e '.[test]'")


def run_datatrove_tasks(corpus: Path, work: Path, store: Path) -> None:
    """The pipeline's tasks only (2, in this process), unchanged inputs left in `store`'s latest release; no publish."""
    from datatrove.executor import LocalPipelineExecutor

    from dataset.engines import build_pipeline

    LocalPipelineExecutor(build_pipeline(corpus, work, reuse_from=store), tasks=2, workers=1,
                          logging_dir=str(work / "logs")).run()


def normalize_with(engine: str, source: Path, out: Path, **options):
    if engine == "local":
        return normalize_folder(source, out, **options)
    needs_datatrove()
    from dataset.engines import normalize_folder_datatrove

    return normalize_folder_datatrove(source, out, tasks=3, workers=1, **options)  # workers=1: in this process


@pytest.mark.parametrize("rows_at_once", [reuse.ROWS_AT_ONCE, 7])
def test_grown_corpus_reuses_unchanged_inputs_and_writes_a_fresh_runs_bytes(corpus, tmp_path, monkeypatch,
                                                                           rows_at_once):
    monkeypatch.setattr(reuse, "ROWS_AT_ONCE", rows_at_once)  # 7: the parent's rows come in many batches
    later = hold_back(corpus, tmp_path / "held")
    first = normalize_folder(corpus, tmp_path / "store")
    assert first.reused == 0 and first.reuse_note == "no earlier release"
    assert any(w["source_file"] == "latin.txt" for w in first.warnings)

    afresh = grow(corpus, tmp_path / "held", later)
    second = normalize_folder(corpus, tmp_path / "store")
    accepted = first.stats.articles - 1  # the removed one
    assert second.reused == accepted - 2 and second.reuse_note == "from v1.0.0"
    assert second.release.version == "v1.1.0" and second.stats.articles == second.reused + afresh
    rows = {row["source_file"]: row for row in second.release.read(columns=["source_file", "outlet", "text"]).to_pylist()}
    assert rows["synthetic/0000/00000002.txt"]["outlet"] == "Antara"
    assert "Presiden Biden" in rows[f"seeds/{PAGES[0].name}"]["text"]
    assert_same_as_fresh(second, corpus, tmp_path / "fresh")

    third = normalize_folder(corpus, tmp_path / "store")
    assert third.release is None and third.message == "no change since v1.1.0: no new version written"
    assert third.reused == second.stats.articles


@pytest.mark.parametrize("first_engine, second_engine", [("datatrove", "datatrove"), ("local", "datatrove"),
                                                         ("datatrove", "local")])
def test_either_engine_reuses_either_engines_release(corpus, tmp_path, signed, first_engine, second_engine):
    """A datatrove task leaves an unchanged input's record in the parent (its ledger names the release), the
    publisher takes it from there with its kept band keys: only new texts are normalized and signed."""
    later = hold_back(corpus, tmp_path / "held")
    first = normalize_with(first_engine, corpus, tmp_path / "store")
    afresh = grow(corpus, tmp_path / "held", later)
    signed.clear()

    work = tmp_path / "work"
    options = {"work_dir": work, "keep_work": True} if second_engine == "datatrove" else {}
    second = normalize_with(second_engine, corpus, tmp_path / "store", **options)
    assert second.reused == first.stats.articles - 3 and second.reuse_note == "from v1.0.0"
    assert second.stats.articles == second.reused + afresh and sum(signed) == afresh
    assert_same_as_fresh(second, corpus, tmp_path / "fresh")
    if second_engine == "datatrove":
        import pyarrow.parquet as pq

        ledger = [json.loads(line) for path in sorted((work / "ledger").glob("*.jsonl")) for line in path.open()]
        assert [e["reused"] for e in ledger if "reused" in e] == ["v1.0.0"] * second.reused
        assert sum(pq.read_metadata(path).num_rows for path in (work / "shards").glob("*.parquet")) == afresh

    third = normalize_with(second_engine, corpus, tmp_path / "store")
    assert third.release is None and third.reused == second.stats.articles


def test_the_datatrove_publisher_refuses_a_parent_altered_after_the_tasks_ran(corpus, tmp_path):
    needs_datatrove()
    from dataset.engines import EngineError, publish_shards

    store, work = tmp_path / "store", tmp_path / "work"
    first = normalize_folder(corpus, store)
    (corpus / "late.txt").write_text(PAGES[1].read_text())
    run_datatrove_tasks(corpus, work, store)
    with first.release.files[0].open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(EngineError, match="the tasks left records in v1.0.0, which cannot be read now: "
                                          "v1.0.0 fails its checksums"):
        publish_shards(corpus, work, store)
    assert Store(store).versions() == ["v1.0.0"]


def test_the_datatrove_engine_reads_every_input_when_the_latest_release_fails_its_checksums(corpus, tmp_path):
    store = tmp_path / "store"
    first = normalize_with("datatrove", corpus, store)
    with first.release.files[0].open("ab") as handle:
        handle.write(b"\0")
    (corpus / "late.txt").write_text(PAGES[1].read_text())
    run = normalize_with("datatrove", corpus, store)
    assert run.reused == 0 and run.release.version == "v1.1.0"
    assert_same_as_fresh(run, corpus, tmp_path / "fresh")


def test_a_datatrove_task_trusts_the_parents_list_of_inputs_only_when_it_passes_its_checksum(corpus, tmp_path):
    """A task reads the parent's inputs.jsonl, and only that (the publisher checks the whole release)."""
    needs_datatrove()
    store = tmp_path / "store"
    first = normalize_folder(corpus, store)
    listed = first.release.path / "inputs.jsonl"
    lines = listed.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace('"sha256": "', '"sha256": "0', 1)
    listed.write_text("".join(lines))

    def reused_by_tasks(work: Path) -> int:
        run_datatrove_tasks(corpus, work, store)
        return sum("reused" in json.loads(line) for path in (work / "ledger").glob("*.jsonl") for line in path.open())

    assert reused_by_tasks(tmp_path / "altered") == 0
    listed.write_text("".join(lines).replace('"sha256": "0', '"sha256": "', 1))
    assert reused_by_tasks(tmp_path / "restored") == first.stats.articles


def test_the_datatrove_publisher_refuses_records_left_in_two_releases(corpus, tmp_path):
    """Tasks that started on either side of a new release would name two parents: the run is stale."""
    needs_datatrove()
    from dataset.engines import EngineError, publish_shards

    store, work = tmp_path / "store", tmp_path / "work"
    normalize_folder(corpus, store)
    run_datatrove_tasks(corpus, work, store)
    ledger = work / "ledger" / "00001.jsonl"
    ledger.write_text(ledger.read_text().replace('"reused": "v1.0.0"', '"reused": "v1.1.0"'))
    with pytest.raises(EngineError, match="the tasks reused records of 2 releases \\(v1.0.0, v1.1.0\\)"):
        publish_shards(corpus, work, store)
    assert Store(store).versions() == ["v1.0.0"]


def test_a_release_keeps_its_texts_band_keys_and_a_later_one_signs_only_new_texts(corpus, tmp_path, signed):
    store = tmp_path / "store"
    first = normalize_folder(corpus, store)
    texts = first.release.read(columns=["text"]).column("text").to_pylist()
    kept = first.release.manifest["near_duplicate_keys"]
    keys = np.load(first.release.path / kept["path"])
    assert kept["shape"] == list(keys.shape) == [len(texts), NearDuplicateIndex().bands]
    assert np.array_equal(keys, NearDuplicateIndex().band_keys(texts))
    assert sum(signed) == 2 * len(texts)  # the run's, and the check's above
    signed.clear()

    for number in range(3):
        (corpus / f"late-{number}.txt").write_text(PAGES[number].read_text())
    second = normalize_folder(corpus, store)
    assert second.reused == len(texts) and sum(signed) == 3
    assert_same_as_fresh(second, corpus, tmp_path / "fresh")


def test_band_keys_of_another_signer_are_signed_again(corpus, tmp_path, signed):
    """The records are reused, but keys made by other code or library versions are not."""
    store = tmp_path / "store"
    first = normalize_folder(corpus, store)
    manifest = first.release.path / "manifest.json"
    data = json.loads(manifest.read_text())
    data["near_duplicate_keys"]["signer"] = "sha256:" + "0" * 64
    manifest.write_text(json.dumps(data))
    (corpus / "late.txt").write_text(PAGES[1].read_text())
    signed.clear()

    run = normalize_folder(corpus, store)
    assert run.reused == first.stats.articles and sum(signed) == first.stats.articles + 1
    assert_same_as_fresh(run, corpus, tmp_path / "fresh")


def test_altered_band_keys_fail_the_release_checksums(corpus, tmp_path):
    store = tmp_path / "store"
    first = normalize_folder(corpus, store)
    with (first.release.path / NEAR_DUPLICATE_KEYS).open("ab") as handle:
        handle.write(b"\0" * 8)
    assert Store(store).release().verify() == [
        f"v1.0.0/{NEAR_DUPLICATE_KEYS}: checksum differs from the manifest (file altered)"]
    run = normalize_folder(corpus, store)
    assert run.reused == 0 and run.reuse_note.startswith("v1.0.0 fails its checksums")


def test_a_release_of_another_normalizer_is_not_reused(corpus, tmp_path):
    store = tmp_path / "store"
    normalize_folder(corpus, store)
    manifest = store / "v1.0.0" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["normalizer"] = "sha256:" + "0" * 64
    manifest.write_text(json.dumps(data))
    (corpus / "late.txt").write_text(PAGES[1].read_text())

    run = normalize_folder(corpus, store)
    assert run.reused == 0 and run.reuse_note == "v1.0.0 was made by another normalizer (other code or library versions)"
    assert_same_as_fresh(run, corpus, tmp_path / "fresh")


def _say_what_the_page_says(corpus: Path, release) -> None:
    """A sidecar entry for a seed page that gives it the outlet it has anyway: its record stays the same."""
    name = f"seeds/{PAGES[3].name}"
    outlet = {r["source_file"]: r["outlet"] for r in release.read(columns=["source_file", "outlet"]).to_pylist()}[name]
    assert outlet
    with (corpus / "metadata.jsonl").open("a") as handle:
        handle.write(json.dumps({"source_file": name, "outlet": outlet}) + "\n")


def _upgrade(monkeypatch, name: str) -> None:
    """This run's code is other than the code that wrote the release: its `name` fingerprint differs."""
    for module in (pipeline, reuse):
        monkeypatch.setattr(module, name, lambda: "sha256:upgraded")


MADE_OTHERWISE = {  # how: (change, inputs normalized afresh, texts signed afresh), "all" meaning every article
    "normalizer": (lambda corpus, release, monkeypatch: _upgrade(monkeypatch, "normalizer_fingerprint"), "all", "all"),
    "signer": (lambda corpus, release, monkeypatch: _upgrade(monkeypatch, "signer_fingerprint"), 0, "all"),
    "sidecar": (lambda corpus, release, monkeypatch: _say_what_the_page_says(corpus, release), 1, 1),
}


@pytest.mark.parametrize("how", list(MADE_OTHERWISE))
def test_the_same_records_made_otherwise_are_a_patch_release_that_the_next_run_reuses(corpus, tmp_path, signed,
                                                                                      monkeypatch, how):
    """Were they "no change", the latest release would go on saying they were made the old way, and no later
    run could reuse them: a normalizer upgrade that changes no record would cost a full run every time."""
    change, afresh, signed_afresh = MADE_OTHERWISE[how]
    store = tmp_path / "store"
    first = normalize_folder(corpus, store)
    articles = first.stats.articles
    change(corpus, first.release, monkeypatch)
    signed.clear()

    second = normalize_folder(corpus, store)
    assert second.reused == articles - (articles if afresh == "all" else afresh)
    assert sum(signed) == (articles if signed_afresh == "all" else signed_afresh)
    assert second.release.version == "v1.0.1" and second.release.manifest["bump"] == "patch"
    assert [f.read_bytes() for f in second.release.files] == [f.read_bytes() for f in first.release.files]
    signed.clear()

    third = normalize_folder(corpus, store)
    assert third.message == "no change since v1.0.1: no new version written"
    assert third.reused == articles and sum(signed) == 0


def test_a_release_that_fails_its_checksums_is_not_reused(corpus, tmp_path):
    store = tmp_path / "store"
    first = normalize_folder(corpus, store)
    with first.release.files[0].open("ab") as handle:
        handle.write(b"\0")
    (corpus / "late.txt").write_text(PAGES[1].read_text())

    run = normalize_folder(corpus, store)
    assert run.reused == 0 and run.reuse_note.startswith("v1.0.0 fails its checksums (v1.0.0/data/articles-00000")
    assert_same_as_fresh(run, corpus, tmp_path / "fresh")


def test_a_release_of_another_schema_is_not_reused(corpus, tmp_path, monkeypatch):
    """Stored rows are written back as they are, so a parent's files must hold the schema written now."""
    store = tmp_path / "store"
    normalize_folder(corpus, store)
    monkeypatch.setattr(reuse, "ARTICLE_SCHEMA", reuse.ARTICLE_SCHEMA.remove(0))
    (corpus / "late.txt").write_text(PAGES[1].read_text())

    run = normalize_folder(corpus, store)
    assert run.reused == 0 and run.reuse_note == "v1.0.0 holds files of another schema"


def test_normalizer_fingerprint_follows_the_libraries_and_the_source(monkeypatch):
    before = normalizer_fingerprint()
    assert before == normalizer_fingerprint() and before.startswith("sha256:")
    normalizer_fingerprint.cache_clear()
    monkeypatch.setattr(reuse, "version", lambda name: "0.0.0" if name == "dateparser" else "9")
    libraries = normalizer_fingerprint()
    normalizer_fingerprint.cache_clear()
    monkeypatch.setattr(reuse, "NORMALIZER_MODULES", tuple(m for m in reuse.NORMALIZER_MODULES if m != "page"))
    source = normalizer_fingerprint()
    normalizer_fingerprint.cache_clear()
    monkeypatch.undo()
    assert len({before, libraries, source}) == 3
    assert normalizer_fingerprint() == before


def test_cli_reports_reuse_and_no_reuse_turns_it_off(corpus, tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "store")
    assert runner.invoke(cli, ["normalize", str(corpus), "--out", store]).exit_code == 0
    (corpus / "late.txt").write_text(PAGES[1].read_text())

    result = runner.invoke(cli, ["normalize", str(corpus), "--out", store, "--no-reuse", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["reused"] == 0 and summary["message"] == "wrote v1.1.0 (67 rows)"  # 60 synthetic, 5 seeds, latin, late

    (corpus / "later.txt").write_text(PAGES[2].read_text())
    result = runner.invoke(cli, ["normalize", str(corpus), "--out", store])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "wrote v1.2.0 (68 rows); 68 articles, 67 reused from v1.1.0, 2 rejected"

    needs_datatrove()
    datatrove = ["--engine", "datatrove", "--tasks", "2", "--workers", "1"]
    result = runner.invoke(cli, ["normalize", str(corpus), "--out", store, "--no-reuse", "--json", *datatrove])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reused"] == 0
    result = runner.invoke(cli, ["normalize", str(corpus), "--out", store, *datatrove])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("no change since v1.2.0: no new version written; 68 articles, 68 reused from v1.2.0, "
                                     "2 rejected")


# names whose order is easy to get wrong: `a-b.txt` < `a.txt` < `a/b.txt` as strings, and `discover` lists them so
NAMES = ("a-b.txt", "a.txt", "a/b.txt", "a/c/d.txt", "a0.txt", "b.txt", "b/a.txt", "c.txt")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.dictionaries(st.sampled_from(NAMES), st.integers(0, len(PAGES) - 1), min_size=1),
       after=st.dictionaries(st.sampled_from(NAMES), st.integers(0, len(PAGES) - 1), min_size=1),
       outlets=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(["Kompas", "Tempo"])))
def test_any_change_between_two_runs_gives_a_fresh_runs_bytes(tmp_path_factory, before, after, outlets):
    """Inputs added, removed, replaced by other pages and given other sidecar entries, anywhere in the listing."""
    root = tmp_path_factory.mktemp("any")

    def write(files: dict[str, int], sidecar: dict[str, str]) -> None:
        shutil.rmtree(root / "dumps", ignore_errors=True)
        for name, page in files.items():
            (root / "dumps" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PAGES[page], root / "dumps" / name)
        (root / "dumps" / "metadata.jsonl").write_text(
            "".join(json.dumps({"source_file": n, "outlet": o}) + "\n" for n, o in sidecar.items()))

    write(before, {})
    normalize_folder(root / "dumps", root / "store")
    write(after, outlets)
    again = normalize_folder(root / "dumps", root / "store")
    unchanged = {name for name, page in after.items() if before.get(name) == page and name not in outlets}
    assert again.reused == len(unchanged)
    if again.release is None:  # the records did not change (a sidecar outlet can be the page's own)
        fresh = normalize_folder(root / "dumps", root / "fresh", reuse=False)
        assert [p.read_bytes() for p in Store(root / "store").release().files] == [p.read_bytes() for p in fresh.release.files]
        return
    assert_same_as_fresh(again, root / "dumps", root / "fresh")
