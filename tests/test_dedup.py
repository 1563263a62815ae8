"""The near-duplicate index against datasketch's own MinHashLSH on a corpus with planted duplicates."""

from __future__ import annotations

from datasketch import MinHashLSH

from dataset.dedup import NUM_PERM, THRESHOLD, NearDuplicateIndex, signature
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
