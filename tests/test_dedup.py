"""The near-duplicate index against datasketch's own MinHashLSH on a corpus with planted duplicates, and the
batch signatures against datasketch's MinHash text by text."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from dataset import dedup
from dataset.dedup import NUM_PERM, PUNCTUATION, SHINGLE_WORDS, THRESHOLD, NearDuplicateIndex, shingle_hashes, signature, signatures
from tests.helpers import SEEDS
from dataset.normalize import normalize_document
from dataset.reading import discover


def datasketch_clusters(items: list[tuple[str, str]]) -> dict[str, str]:
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent[k] != k:
            k = parent[k]
        return k

    for key, text in items:
        minhash = signature(text)
        parent[key] = key
        for other in lsh.query(minhash):
            a, b = find(key), find(other)
            parent[max(a, b)] = min(a, b)
        lsh.insert(key, minhash)
    return {k: find(k) for k in parent}


def test_same_clusters_as_datasketch_lsh(tmp_path):
    from scripts.synthetic import make_corpus

    info = make_corpus(tmp_path / "corpus", 600, seed=3)
    items = [(doc.source_file, normalize_document(doc).article.text)
             for doc in discover(tmp_path / "corpus") if not isinstance(doc, tuple)]
    index = NearDuplicateIndex()
    for key, text in reversed(items):
        index.add(key, text)
    ours = index.clusters()
    assert ours == datasketch_clusters(items)
    assert len(set(ours.values())) < len(ours), "the planted duplicates were found"
    assert info is not None


def test_cluster_is_named_after_its_smallest_id_whatever_the_order():
    text = "Presiden Joko Widodo meresmikan jembatan baru di Kalimantan Timur pada Senin pagi bersama para menteri."
    first, second = NearDuplicateIndex(), NearDuplicateIndex()
    for key in ("b", "a", "c"):
        first.add(key, text)
    for key in ("c", "a", "b"):
        second.add(key, text)
    second.add("z", "Sebuah teks yang sama sekali lain tentang cuaca di Bandung hari ini dan besok pagi.")
    assert first.clusters() == {"a": "a", "b": "a", "c": "a"}
    assert second.clusters() == {"a": "a", "b": "a", "c": "a", "z": "z"}


EDGE_TEXTS = ["", "   ", "... — !!", "satu", "dua kata", "empat kata di sini", "lima kata ada di sini",
              "Kata, kata; KATA (kata) \"kata\" — kata… kata", "Moskwa\tKyiv\nWashington\n\nBeijing   Jakarta Seoul"]


def seed_texts() -> list[str]:
    return [path.read_text(encoding="utf-8-sig") for path in sorted(SEEDS.glob("*.txt"))]


@pytest.mark.parametrize("max_shingles", [1, 7, 100, dedup.MAX_SHINGLES])
def test_batch_signatures_are_datasketch_minhashes(monkeypatch, max_shingles):
    """Each row equals datasketch's own `MinHash.update_batch` over the text's shingles, however the batch is cut."""
    monkeypatch.setattr(dedup, "MAX_SHINGLES", max_shingles)
    texts = [*EDGE_TEXTS, *seed_texts(), *EDGE_TEXTS[::-1]]
    rows = signatures(texts)
    assert rows.shape == (len(texts), NUM_PERM) and rows.dtype == np.uint32
    for text, row in zip(texts, rows):
        assert row.tolist() == signature(text).hashvalues.tolist(), text[:40]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("abcdeéß XYZ  \t\n.,;:!?()-—\"'")), max_size=60), max_size=8))
def test_batch_signatures_do_not_depend_on_the_batch(texts):
    together = signatures(texts)
    for text, row in zip(texts, together):
        assert row.tolist() == signatures([text])[0].tolist()


def plain_shingle_hashes(text: str) -> list[int]:
    """The documented definition, a word and a shingle at a time, in Python integers."""
    from xxhash import xxh32_intdigest

    words = [w.strip(PUNCTUATION) for w in text.lower().split()]
    hashes = [xxh32_intdigest(w) for w in words if w]
    if not hashes:
        return []
    size = min(SHINGLE_WORDS, len(hashes))
    out = []
    for start in range(len(hashes) - size + 1):
        value = 0
        for h in hashes[start : start + size]:
            value = (value * 0x9E3779B97F4A7C15 + h) % 2**64
        out.append((value ^ (value >> 32)) & 0xFFFFFFFF)
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdeAB 019  \t\n.,;:!?()-—«»\"'")), max_size=80))
def test_shingle_hashes_follow_the_plain_definition(text):
    assert shingle_hashes(text) == plain_shingle_hashes(text)


def test_shingle_hashes_of_the_seeds_follow_the_plain_definition():
    for text in seed_texts():
        assert shingle_hashes(text) == plain_shingle_hashes(text)


def test_punctuation_and_case_do_not_make_new_words():
    assert shingle_hashes("Rusia, Ukraina (AS) dan NATO.") == shingle_hashes("rusia ukraina as dan nato")
    assert shingle_hashes("Rusia Ukraina AS dan NATO") != shingle_hashes("Rusia Ukraina AS dan Eropa")


def test_index_signs_texts_in_batches_and_on_demand(monkeypatch):
    """Keys added after the last full batch are signed when labels are asked for."""
    monkeypatch.setattr(dedup, "PENDING", 3)
    text = "Presiden Joko Widodo meresmikan jembatan baru di Kalimantan Timur pada Senin pagi bersama para menteri."
    index = NearDuplicateIndex()
    for key in "edcba":
        index.add(key, text)
    index.add("z", "Sebuah teks yang sama sekali lain tentang cuaca di Bandung hari ini dan besok pagi.")
    assert len(index) == 6
    assert index.clusters() == {"a": "a", "b": "a", "c": "a", "d": "a", "e": "a", "z": "z"}


def plain_clusters(keys: list[str], bands: list[tuple[int, ...]]) -> list[str]:
    """Texts equal in any band are in one cluster (transitively), named after its smallest key: pair by pair."""
    component = list(range(len(keys)))
    for i in range(len(keys)):
        for j in range(i):
            if any(a == b for a, b in zip(bands[i], bands[j])) and component[i] != component[j]:
                old, new = component[i], component[j]
                component = [new if c == old else c for c in component]
    smallest = {c: min(k for k, d in zip(keys, component) if d == c) for c in set(component)}
    return [smallest[c] for c in component]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=4), st.lists(st.integers(0, 3), min_size=3, max_size=3)),
                max_size=40, unique_by=lambda item: item[0]))
def test_labels_join_every_chain_of_shared_bands(items):
    """With band values set directly (`signatures` replaced), the index's clusters are the plain transitive ones."""
    import unittest.mock

    index = NearDuplicateIndex()
    rows = index.bands * index.rows
    keys = [key for key, _ in items]
    # three real bands from the drawn values, the other bands unique per text: chains form through shared values
    bands = [(*values, *[1000 + n] * (index.bands - 3)) for n, (_, values) in enumerate(items)]
    signature_of = {key: np.repeat(np.array(band, dtype=np.uint32), index.rows) for key, band in zip(keys, bands)}

    def fake_signatures(texts):
        return np.array([np.concatenate([signature_of[t], np.zeros(NUM_PERM - rows, np.uint32)]) for t in texts],
                        dtype=np.uint32).reshape(len(texts), NUM_PERM)

    with unittest.mock.patch.object(dedup, "signatures", fake_signatures), unittest.mock.patch.object(dedup, "PENDING", 7):
        for key in keys:
            index.add(key, key)
        assert index.labels() == plain_clusters(keys, bands)


def test_labels_do_not_depend_on_block_or_batch_sizes(monkeypatch):
    """Band keys are stored in blocks of BLOCK texts, signed PENDING at a time; small sizes cross every boundary."""
    texts = seed_texts() * 4

    def labels() -> list[str]:
        index = NearDuplicateIndex()
        for number, text in enumerate(texts):
            index.add(f"k{number:02d}", text)
        return index.labels()

    expected = labels()
    assert len(set(expected)) == len(seed_texts())
    monkeypatch.setattr(dedup, "BLOCK", 4)
    monkeypatch.setattr(dedup, "PENDING", 3)
    assert labels() == expected


def test_band_keys_computed_elsewhere_give_the_labels_add_gives(monkeypatch):
    """A datatrove worker signs its texts and the publisher only adds their band keys, mixed with plain `add`s."""
    monkeypatch.setattr(dedup, "BLOCK", 4)
    monkeypatch.setattr(dedup, "PENDING", 3)
    texts = seed_texts() * 3
    keys = [f"k{number:02d}" for number in range(len(texts))]
    plain = NearDuplicateIndex()
    for key, text in zip(keys, texts):
        plain.add(key, text)
    mixed = NearDuplicateIndex()
    mixed.add(keys[0], texts[0])  # pending when the first precomputed keys arrive
    mixed.add_band_keys(keys[1:9], mixed.band_keys(texts[1:9]))
    for key, text in zip(keys[9:11], texts[9:11]):
        mixed.add(key, text)
    mixed.add_band_keys(keys[11:], NearDuplicateIndex().band_keys(texts[11:]))
    assert mixed.keys(0, len(keys)) == keys
    assert mixed.labels() == plain.labels()
    assert len(set(plain.labels())) == len(seed_texts())
    with pytest.raises(ValueError, match="band keys of shape"):
        mixed.add_band_keys(["x", "y"], mixed.band_keys(["satu dua tiga empat lima enam"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=15, max_size=15))
def test_kept_band_keys_wait_in_turn_with_texts_and_are_saved_in_order(kept):
    """Texts whose band keys a release kept (`add_signed`) mix with texts to sign, across every pending
    batch and block; the saved file is every text's keys in order, and reads back as signed."""
    import io
    import tempfile
    from pathlib import Path

    texts = seed_texts() * 3
    keys = [f"k{number:02d}" for number in range(len(texts))]
    signed = NearDuplicateIndex().band_keys(texts)
    plain, mixed = NearDuplicateIndex(), NearDuplicateIndex()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dedup, "BLOCK", 4)
        patch.setattr(dedup, "PENDING", 3)
        for number, (key, text) in enumerate(zip(keys, texts)):
            plain.add(key, text)
            mixed.add_signed(key, signed[number]) if kept[number] else mixed.add(key, text)
        assert mixed.labels() == plain.labels()
        with tempfile.TemporaryDirectory() as folder:
            mixed.save_band_keys(Path(folder) / "keys.npy")
            saved = np.load(Path(folder) / "keys.npy")
            written = (Path(folder) / "keys.npy").read_bytes()
            NearDuplicateIndex().save_band_keys(Path(folder) / "none.npy")
            empty = np.load(Path(folder) / "none.npy")
    assert saved.dtype == np.dtype("<u8") and np.array_equal(saved, signed)
    expected = io.BytesIO()
    np.save(expected, signed.astype("<u8"))
    assert written == expected.getvalue()  # numpy's own file of these keys, byte for byte: nothing past them
    assert empty.shape == (0, plain.bands)
    with pytest.raises(ValueError, match="band keys expected"):
        mixed.add_signed("x", signed[:2])


def test_words_are_what_str_split_gives_whatever_memory_holds():
    """pyarrow's utf8_split_whitespace sometimes keeps a string's last whitespace on its last word; the
    words, and so the signatures, must not depend on that. Many small arrays make it happen."""
    import random

    alphabet = list("abcdeéß XYZ  \t\n.,;:!?()-—\"'")
    rng = random.Random(1)
    for _ in range(3000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(rng.randint(1, 8))]
        hashes, counts = dedup._word_hashes(texts)
        expected = [[w.strip(PUNCTUATION) for w in t.lower().split() if w.strip(PUNCTUATION)] for t in texts]
        assert counts.tolist() == [len(words) for words in expected]
        from xxhash import xxh32_intdigest

        assert hashes.tolist() == [xxh32_intdigest(w) for words in expected for w in words]


def test_whitespace_is_every_character_str_split_splits_at():
    assert dedup.WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if len(("a" + c + "a").split()) == 2)
