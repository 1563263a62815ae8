"""Inter-annotator agreement for stance (Krippendorff's alpha, Cohen's kappa) and entity spans (pairwise F1).

Degenerate cases never come back as nan or as an exception from a library: the value is None and
`reason` says why.

- alpha: computed over pairable units only (units with at least two coders; the others add nothing to
  the coincidence matrix). No pairable unit -> None, `NO_PAIRABLE_UNITS`. One value across all pairable
  values -> None, `NO_VARIATION` (expected disagreement is 0, alpha is 0/0; `krippendorff.alpha` raises
  ValueError when the whole matrix has one value and returns nan with a RuntimeWarning when the other
  values sit only in unpairable units, so both are checked before calling it).
- kappa: no shared item -> None, `NO_SHARED_ITEMS`; both annotators used one and the same category
  (p_e = 1, kappa is 0/0; scikit-learn returns nan with a warning) -> None, `SINGLE_CATEGORY`.
- span F1: 2tp / (2tp + fp + fn); None when neither annotator marked a span (`NO_SPANS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

from .gold import by_article
from .judgements import Judgement

NO_PAIRABLE_UNITS = "fewer than 2 coders on every unit"
NO_VARIATION = "no variation"
NO_SHARED_ITEMS = "no item answered by both annotators"
SINGLE_CATEGORY = "single category"
NO_SPANS = "no spans marked by either annotator"

Unit = Mapping[str, str]


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha (nominal); `units`/`values` count only pairable units and their values."""

    value: float | None
    units: int
    values: int
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"alpha": self.value, "units": self.units, "values": self.values, "reason": self.reason}


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa of one annotator pair over the `n` article x target items both answered."""

    annotators: tuple[str, str]
    value: float | None
    n: int
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"annotators": list(self.annotators), "kappa": self.value, "n": self.n, "reason": self.reason}


@dataclass(frozen=True)
class SpanCounts:
    """Span matches between a first and a second annotator: fp = only the second, fn = only the first."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def f1(self) -> float | None:
        """Symmetric: swapping the annotators swaps fp and fn only."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None

    def __add__(self, other: SpanCounts) -> SpanCounts:
        return SpanCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def as_dict(self) -> dict[str, Any]:
        reason = NO_SPANS if self.f1 is None else None
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "f1": self.f1, "reason": reason}


@dataclass(frozen=True)
class SpanAgreement:
    """Exact and overlap span agreement, overall and per label, over `articles` shared articles."""

    annotators: tuple[str, ...]
    articles: int
    exact: SpanCounts
    overlap: SpanCounts
    exact_by_label: Mapping[str, SpanCounts]
    overlap_by_label: Mapping[str, SpanCounts]

    def as_dict(self) -> dict[str, Any]:
        return {
            "annotators": list(self.annotators),
            "articles": self.articles,
            "exact": self.exact.as_dict(),
            "overlap": self.overlap.as_dict(),
            "exact_by_label": {label: c.as_dict() for label, c in self.exact_by_label.items()},
            "overlap_by_label": {label: c.as_dict() for label, c in self.overlap_by_label.items()},
        }


@dataclass(frozen=True)
class AgreementReport:
    """All agreement numbers of one set of judgements; `span_micro` sums the counts of all pairs."""

    annotators: tuple[str, ...]
    articles: int
    include_ground_truth: bool
    stance_alpha: Mapping[str, Alpha]
    stance_alpha_overall: Alpha
    stance_kappa: tuple[Kappa, ...]
    span_pairs: tuple[SpanAgreement, ...]
    span_micro: SpanAgreement

    def as_dict(self) -> dict[str, Any]:
        return {
            "annotators": list(self.annotators),
            "articles": self.articles,
            "include_ground_truth": self.include_ground_truth,
            "stance": {
                "alpha": {target: alpha.as_dict() for target, alpha in self.stance_alpha.items()},
                "alpha_overall": self.stance_alpha_overall.as_dict(),
                "kappa": [kappa.as_dict() for kappa in self.stance_kappa],
            },
            "spans": {
                "pairs": [pair.as_dict() for pair in self.span_pairs],
                "micro": self.span_micro.as_dict(),
            },
        }


def agreement(
    judgements: Iterable[Judgement],
    labels: Sequence[str],
    targets: Sequence[str],
    *,
    include_ground_truth: bool = False,
) -> AgreementReport:
    """How far annotators agree; ground-truth judgements are the reference, not a coder, unless included."""
    if isinstance(labels, str) or isinstance(targets, str):
        raise TypeError("labels and targets must be sequences of names, not a single string")
    kept = [j for j in judgements if include_ground_truth or not j.ground_truth]
    _check_labels(kept, labels)
    articles = {article: {j.annotator: j for j in group} for article, group in by_article(kept).items()}
    annotators = tuple(sorted({j.annotator for j in kept}))
    pairs = tuple(combinations(annotators, 2))
    span_pairs = tuple(_span_agreement(pair, articles, labels) for pair in pairs)
    return AgreementReport(
        annotators=annotators,
        articles=len(articles),
        include_ground_truth=include_ground_truth,
        stance_alpha={target: _alpha(_stance_units(articles, (target,))) for target in targets},
        stance_alpha_overall=_alpha(_stance_units(articles, tuple(targets))),
        stance_kappa=tuple(_kappa(pair, articles, targets) for pair in pairs),
        span_pairs=span_pairs,
        span_micro=_micro(annotators, span_pairs, labels),
    )


def _check_labels(judgements: list[Judgement], labels: Sequence[str]) -> None:
    unknown = sorted({s.label for j in judgements for s in j.spans} - set(labels))
    if unknown:
        raise ValueError(f"spans use labels {unknown} that are not in {list(labels)}")


def _stance_units(articles: Mapping[str, Mapping[str, Judgement]], targets: tuple[str, ...]) -> list[Unit]:
    """One unit per article x target: annotator -> choice, unanswered annotators absent."""
    return [
        {name: j.stance[target] for name, j in group.items() if target in j.stance}
        for group in articles.values()
        for target in targets
    ]


def _alpha(units: Sequence[Unit]) -> Alpha:
    """Nominal alpha over the pairable units, with the degenerate cases answered before the library is asked."""
    pairable = [unit for unit in units if len(unit) >= 2]
    values = sum(len(unit) for unit in pairable)
    if not pairable:
        return Alpha(None, 0, 0, NO_PAIRABLE_UNITS)
    categories = sorted({value for unit in pairable for value in unit.values()})
    if len(categories) < 2:
        return Alpha(None, len(pairable), values, f"{NO_VARIATION}: every value is {categories[0]!r}")
    data = _reliability_data(pairable, categories)
    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    if not math.isfinite(value):
        return Alpha(None, len(pairable), values, f"krippendorff returned {value}")
    return Alpha(value, len(pairable), values)


def _reliability_data(units: Sequence[Unit], categories: Sequence[str]) -> np.ndarray:
    """Coders x units matrix of category codes, nan where a coder gave no value."""
    coders = sorted({coder for unit in units for coder in unit})
    row = {coder: index for index, coder in enumerate(coders)}
    code = {category: index for index, category in enumerate(categories)}
    data = np.full((len(coders), len(units)), np.nan)
    for column, unit in enumerate(units):
        for coder, value in unit.items():
            data[row[coder], column] = code[value]
    return data


def _kappa(pair: tuple[str, str], articles: Mapping[str, Mapping[str, Judgement]], targets: Sequence[str]) -> Kappa:
    first, second = pair
    items = [
        (group[first].stance[t], group[second].stance[t])
        for group in articles.values()
        if first in group and second in group
        for t in targets
        if t in group[first].stance and t in group[second].stance
    ]
    if not items:
        return Kappa(pair, None, 0, NO_SHARED_ITEMS)
    one, two = zip(*items)
    categories = sorted(set(one) | set(two))
    if len(categories) < 2:
        return Kappa(pair, None, len(items), f"{SINGLE_CATEGORY}: both always chose {categories[0]!r}, p_e = 1")
    return Kappa(pair, float(cohen_kappa_score(list(one), list(two))), len(items))


def _span_agreement(
    pair: tuple[str, str], articles: Mapping[str, Mapping[str, Judgement]], labels: Sequence[str]
) -> SpanAgreement:
    first, second = pair
    shared = [(group[first], group[second]) for group in articles.values() if first in group and second in group]
    exact = {label: sum((_exact(a, b, label) for a, b in shared), SpanCounts()) for label in labels}
    overlap = {label: sum((_overlap(a, b, label) for a, b in shared), SpanCounts()) for label in labels}
    return SpanAgreement(pair, len(shared), _total(exact), _total(overlap), exact, overlap)


def _micro(annotators: tuple[str, ...], pairs: Sequence[SpanAgreement], labels: Sequence[str]) -> SpanAgreement:
    exact = {label: sum((p.exact_by_label[label] for p in pairs), SpanCounts()) for label in labels}
    overlap = {label: sum((p.overlap_by_label[label] for p in pairs), SpanCounts()) for label in labels}
    articles = sum(p.articles for p in pairs)
    return SpanAgreement(annotators, articles, _total(exact), _total(overlap), exact, overlap)


def _total(by_label: Mapping[str, SpanCounts]) -> SpanCounts:
    return sum(by_label.values(), SpanCounts())


def _ranges(judgement: Judgement, label: str) -> set[tuple[int, int]]:
    return {(s.start, s.end) for s in judgement.spans if s.label == label}


def _voted(ranges: set[tuple[int, int]], other: Judgement, other_ranges: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """`ranges` minus those where `other` did not vote: its span items there were rejected in validation,
    so its not marking them is no disagreement (as in gold, `Judgement.votes_against`)."""
    return {r for r in ranges if other.votes_against(*r)
            or any(_overlap_size(r, o) > 0 for o in other_ranges)}


def _exact(first: Judgement, second: Judgement, label: str) -> SpanCounts:
    a, b = _ranges(first, label), _ranges(second, label)
    a, b = _voted(a, second, b), _voted(b, first, a)
    return SpanCounts(tp=len(a & b), fp=len(b - a), fn=len(a - b))


def _overlap(first: Judgement, second: Judgement, label: str) -> SpanCounts:
    a, b = _ranges(first, label), _ranges(second, label)
    a, b = _voted(a, second, b), _voted(b, first, a)
    matched = _greedy_overlap_matches(a, b)
    return SpanCounts(tp=matched, fp=len(b) - matched, fn=len(a) - matched)


def _greedy_overlap_matches(a: set[tuple[int, int]], b: set[tuple[int, int]]) -> int:
    """Pairs of overlapping ranges, largest overlap first, each range used at most once.

    The order depends only on the unordered pair of ranges, so the count is the same both ways round.
    """
    candidates = [(-_overlap_size(x, y), sorted((x, y)), x, y) for x in a for y in b if _overlap_size(x, y) > 0]
    used_a: set[tuple[int, int]] = set()
    used_b: set[tuple[int, int]] = set()
    for _, _, x, y in sorted(candidates):
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
    return len(used_a)


def _overlap_size(x: tuple[int, int], y: tuple[int, int]) -> int:
    return min(x[1], y[1]) - max(x[0], y[0])

