"""The versioned article store: determinism, semver bumps, immutability, diff, verify, lock, readers."""

from __future__ import annotations

import json
import shutil
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset.pipeline import normalize_folder
from dataset.store import IntegrityError, Release, Store, StoreError, diff_releases, write_parquet
from tests.helpers import SEEDS


@pytest.fixture
def seeds_copy(tmp_path):
    folder = tmp_path / "dumps"
    shutil.copytree(SEEDS, folder)
    return folder


def test_same_inputs_give_byte_identical_parquet(seeds_copy, tmp_path):
    first = normalize_folder(seeds_copy, tmp_path / "a").release
    second = normalize_folder(seeds_copy, tmp_path / "b").release
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in second.files]
    assert first.manifest["content_sha256"] == second.manifest["content_sha256"]


def test_parquet_holds_no_run_specific_values(seeds_copy, tmp_path):
    release = normalize_folder(seeds_copy, tmp_path / "store").release
    raw = b"".join(p.read_bytes() for p in release.files)
    assert str(tmp_path).encode() not in raw
    for path in release.files:  # the Arrow schema is the only key-value metadata: no pandas index, no writer state
        parquet = pq.ParquetFile(path)
        assert list(parquet.metadata.metadata or {}) == [b"ARROW:schema"] and not parquet.schema_arrow.metadata


def test_rerun_on_unchanged_input_writes_nothing(seeds_copy, tmp_path):
    store = tmp_path / "store"
    normalize_folder(seeds_copy, store)
    again = normalize_folder(seeds_copy, store)
    assert again.release is None and "no change since v1.0.0" in again.message
    assert Store(store).versions() == ["v1.0.0"]


def test_changed_content_bumps_minor_and_diff_names_fields(seeds_copy, tmp_path):
    store = tmp_path / "store"
    first = normalize_folder(seeds_copy, store).release
    target = seeds_copy / "004_826b45a90dec8776.txt"
    target.write_text(target.read_text().replace("kesepakatan nuklir Iran", "kesepakatan nuklir Iran."))
    (seeds_copy / "001_2bd0bd0c2dad21dd.txt").unlink()
    (seeds_copy / "new").mkdir()
    (seeds_copy / "new" / "005.txt").write_text(
        "SURABAYA, KOMPAS.com - Pemerintah kota meresmikan taman baru di pusat kota pada Sabtu pagi, "
        "disaksikan ratusan warga yang datang bersama keluarga mereka.\n"
    )
    second = normalize_folder(seeds_copy, store).release
    assert second.version == "v1.1.0" and second.manifest["parent_version"] == "v1.0.0"
    assert second.manifest["bump"] == "minor"
    result = diff_releases(first, second)
    by_file = {row["id"]: row["source_file"] for row in first.read().to_pylist() + second.read().to_pylist()}
    assert [by_file[i] for i in result.added] == ["new/005.txt"]
    assert [by_file[i] for i in result.removed] == ["001_2bd0bd0c2dad21dd.txt"]
    changed = {by_file[i]: fields for i, fields in result.changed.items()}
    assert changed == {"004_826b45a90dec8776.txt": ["n_chars", "raw_sha256", "text", "text_sha256"]}


def test_near_duplicate_copy_shares_a_cluster(seeds_copy, tmp_path):
    (seeds_copy / "syndicated.txt").write_text((seeds_copy / "003_daf129f8f384625a.txt").read_text() + "\nTambahan.\n")
    rows = {r["source_file"]: r for r in normalize_folder(seeds_copy, tmp_path / "s").release.read().to_pylist()}
    assert rows["syndicated.txt"]["dup_cluster"] == rows["003_daf129f8f384625a.txt"]["dup_cluster"]
    others = {rows[name]["dup_cluster"] for name in rows if not name.startswith(("003", "syndicated"))}
    assert rows["syndicated.txt"]["dup_cluster"] not in others and len(others) == 4


def test_schema_change_bumps_major(tmp_path):
    store = Store(tmp_path / "s")
    for schema in (pa.schema([("id", pa.string())]), pa.schema([("id", pa.string()), ("extra", pa.int32())])):
        with store.lock():
            staging = store.staging()
            files = write_parquet([schema.empty_table()], schema, staging, "rows")
            store.publish(staging, schema, files, {"kind": "test"})
    assert store.versions() == ["v1.0.0", "v2.0.0"]
    assert store.release("v2.0.0").manifest["bump"] == "major"


def test_the_same_files_made_otherwise_bump_patch(tmp_path):
    """`provenance_keys`: manifest entries that say how the content was made; a change to them alone is a patch."""
    store = Store(tmp_path / "s")
    schema = pa.schema([("id", pa.string())])
    messages = []
    for made_by in ("one", "two", "two", "three"):
        with store.lock():
            staging = store.staging()
            files = write_parquet([pa.table({"id": ["a"]}, schema=schema)], schema, staging, "rows")
            messages.append(store.publish(staging, schema, files, {"kind": "test", "made_by": made_by},
                                          provenance_keys=("made_by",))[1])
    assert messages == ["wrote v1.0.0 (1 rows)", "wrote v1.0.1 (1 rows)", "no change since v1.0.1: no new version written",
                        "wrote v1.0.2 (1 rows)"]
    assert [store.release(v).manifest["bump"] for v in store.versions()] == ["initial", "patch", "patch"]
    assert store.release("v1.0.2").manifest["made_by"] == "three"


def test_version_override_and_no_overwrite(seeds_copy, tmp_path):
    store = tmp_path / "store"
    assert normalize_folder(seeds_copy, store, version="v3.2.1").release.version == "v3.2.1"
    (seeds_copy / "004_826b45a90dec8776.txt").write_text("JAKARTA - Berita yang benar-benar berbeda dan cukup panjang untuk dianggap sebagai paragraf.")
    with pytest.raises(StoreError, match="not newer"):
        normalize_folder(seeds_copy, store, version="v3.2.1")
    assert Store(store).versions() == ["v3.2.1"]
    assert not [p for p in store.iterdir() if p.name.startswith(".staging")]


def test_verify_catches_an_altered_file_and_reads_refuse_it(seeds_copy, tmp_path):
    release = normalize_folder(seeds_copy, tmp_path / "store").release
    assert release.verify() == []
    path = release.files[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    problems = Store(tmp_path / "store").release().verify()
    assert problems == [f"v1.0.0/{release.manifest['files'][0]['path']}: checksum differs from the manifest (file altered)"]
    with pytest.raises(IntegrityError, match="file altered"):
        Store(tmp_path / "store").release().read()


def test_verify_checks_the_inputs_file_too(seeds_copy, tmp_path):
    release = normalize_folder(seeds_copy, tmp_path / "store").release
    inputs = release.path / "inputs.jsonl"
    inputs.write_text(inputs.read_text().replace('"bytes": ', '"bytes": 1', 1))
    assert Store(tmp_path / "store").release().verify() == ["v1.0.0/inputs.jsonl: checksum differs from the manifest (file altered)"]
    inputs.unlink()
    assert Store(tmp_path / "store").release().verify() == ["v1.0.0/inputs.jsonl: missing"]


def test_inputs_of_a_release_that_lists_them_in_its_manifest(tmp_path):
    """Releases written before inputs.jsonl kept the list in manifest.json; they still read."""
    listed = [{"source_file": "a.txt", "sha256": "ab", "bytes": 3}]
    assert list(Release("v1.0.0", tmp_path, {"files": [], "inputs": listed}).inputs()) == listed
    assert list(Release("v1.0.0", tmp_path, {"files": []}).inputs()) == []


def test_manifest_records_inputs_schema_and_checksums(seeds_copy, tmp_path):
    release = normalize_folder(seeds_copy, tmp_path / "store").release
    manifest = json.loads((release.path / "manifest.json").read_text())
    assert manifest["rows"] == 5 and manifest["inputs"]["rows"] == 5 and manifest["inputs"]["path"] == "inputs.jsonl"
    inputs = list(release.inputs())
    assert [i["source_file"] for i in inputs] == sorted(p.name for p in seeds_copy.glob("*.txt"))
    assert all(len(i["sha256"]) == 64 and i["bytes"] > 0 for i in inputs)
    assert manifest["schema_fingerprint"].startswith("sha256:")
    assert {f["path"] for f in manifest["files"]} == {"data/articles-00000.parquet"}
    assert manifest["stats"]["removed_by_rule"]["related_list"] > 10
    assert manifest["toolkit_version"] and manifest["rejected"] == []


def test_second_writer_fails_cleanly_while_locked(tmp_path):
    store = Store(tmp_path / "s")
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.lock():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait(5)
    try:
        import subprocess, sys

        code = "from dataset.store import Store, StoreLocked\ntry:\n    Store(%r).lock().__enter__()\nexcept StoreLocked as e:\n    print('LOCKED', e)\n" % str(store.root)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
        assert out.startswith("LOCKED") and "another process" in out
    finally:
        release.set()
        thread.join()
    with store.lock():
        pass


def test_release_reads_with_pandas_pyarrow_and_datasets(seeds_copy, tmp_path):
    import datasets
    import pandas as pd

    release = normalize_folder(seeds_copy, tmp_path / "store").release
    frame = pd.read_parquet(release.path / "data")
    assert len(frame) == 5 and str(frame["published_at"].dtype) == "datetime64[ms, UTC]"
    table = pq.read_table(release.path / "data")
    assert table.schema.field("removed").type.value_type.names == ["line", "rule", "text"]
    loaded = datasets.load_dataset("parquet", data_files=str(release.path / "data" / "*.parquet"), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert loaded.num_rows == 5 and loaded.features["wire_sources"].feature.dtype == "string"
    kompas = [r for r in loaded if r["source_file"].startswith("000")][0]
    assert kompas["published_at"].isoformat().startswith("2021-12-31T03:00")


@pytest.mark.parametrize("close_enough", [1, 64, 4096])
def test_seeking_near_a_name_in_a_sorted_list_of_inputs_skips_only_earlier_names(tmp_path, close_enough):
    """A datatrove task opens the parent's inputs.jsonl near its first input instead of parsing every line before it."""
    from dataset.store import _seek_near

    names = sorted({f"{folder}/{n:0{width}d}-é.txt" for folder in ("a", "berita", "z") for width in (2, 5)
                    for n in range(0, 400, 7)})
    path = tmp_path / "inputs.jsonl"
    path.write_text("".join(json.dumps({"source_file": name, "sha256": "x" * len(name)}) + "\n" for name in names),
                    encoding="utf-8")
    for near in ["", names[0], names[1], "berita/", names[len(names) // 2], names[-1], names[-1] + "0", "~"]:
        with path.open("rb") as handle:
            _seek_near(handle, near, close_enough)
            rest = [json.loads(line)["source_file"] for line in handle]
        assert rest == names[len(names) - len(rest):]  # a suffix of the list, from a line start
        assert [n for n in names if n >= near] == [n for n in rest if n >= near]  # nothing wanted skipped
        skipped_past = [n for n in rest if n < near]
        assert sum(len(n) * 2 + 40 for n in skipped_past) <= close_enough + 200  # close: about close_enough bytes
