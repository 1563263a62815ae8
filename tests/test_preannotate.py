"""The offline pre-annotator against the project's hand-made reference annotations of the seeds."""

from __future__ import annotations

from annotation.preannotate import PreAnnotator, evaluate
from annotation.reference import load_reference
from annotation.schema import load_schema


def scores(annotator: PreAnnotator | None = None) -> dict[str, dict]:
    reference = load_reference()
    articles = {name: (a.text, list(a.spans)) for name, a in reference.items()}
    return evaluate(annotator or PreAnnotator(), articles, list(load_schema().entity_labels))


def test_pre_annotations_are_valid_spans():
    for article in load_reference().values():
        spans = PreAnnotator().spans(article.text)
        assert spans == sorted(spans)
        assert all(not a.overlaps(b) for a, b in zip(spans, spans[1:]))
        assert all(article.text[s.start:s.end].strip() == article.text[s.start:s.end] != "" for s in spans)


def test_quality_floor_on_the_seeds():
    # In-sample: the gazetteer was written by people who had read the seeds, so this guards against
    # regressions; it is not an estimate of quality on unseen outlets.
    result = scores()
    assert result["ALL"]["precision"] >= 0.9 and result["ALL"]["recall"] >= 0.9
    assert result["PER"]["recall"] >= 0.9 and result["GPE"]["precision"] >= 0.95


def test_names_after_titles_are_found_without_the_person_gazetteer(tmp_path):
    gazetteer = (PreAnnotator().gazetteer_path).read_text(encoding="utf-8")
    start = gazetteer.index("[PER]")
    end = gazetteer.index("]", gazetteer.index("forms = [", start) + 9)
    without_people = tmp_path / "gazetteer.toml"
    without_people.write_text(gazetteer[:start] + "[PER]\nforms = []\n" + gazetteer[end + 1:], encoding="utf-8")
    annotator = PreAnnotator(without_people)
    text = "Menteri Luar Negeri Rusia Sergei Lavrov bertemu juru bicara Kremlin Dmitry Peskov. Lavrov lalu pulang."
    found = [(text[s.start:s.end], s.label) for s in annotator.spans(text)]
    assert ("Sergei Lavrov", "PER") in found and ("Dmitry Peskov", "PER") in found and ("Lavrov", "PER") in found
    assert ("Rusia", "GPE") in found and ("Kremlin", "ORG") in found
