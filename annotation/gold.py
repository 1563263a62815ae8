"""Adjudication of several judgements into gold labels, refusing to guess when annotators disagree.

Every disagreement that prevents a gold label becomes a `Conflict`, so the dataset records what was
left out and why instead of silently picking a side.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .judgements import Judgement
from .spans import Span

GROUND_TRUTH = "ground_truth"
MAJORITY = "majority"
SINGLE = "single"

STANCE_NO_MAJORITY = "stance_no_majority"
SPAN_BELOW_QUORUM = "span_below_quorum"
SPAN_OVERLAP = "span_overlap"
GROUND_TRUTH_DISAGREEMENT = "ground_truth_disagreement"

SpanKey = tuple[int, int, str]


@dataclass(frozen=True)
class ArticleGold:
    """Gold labels of one article; `annotators` counts the judgements they were decided from."""

    article_id: str
    spans: tuple[Span, ...]
    stance: Mapping[str, str]
    source: str
    annotators: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "spans": [_span_dict(span) for span in self.spans],
            "stance": dict(self.stance),
            "source": self.source,
            "annotators": self.annotators,
        }


@dataclass(frozen=True)
class Conflict:
    """Why something has no gold label.

    `votes` holds (annotator, choice) pairs of a stance conflict; `annotators` holds who marked a span
    or which ground-truth judgements disagree.
    """

    kind: str
    article_id: str
    reason: str
    target: str | None = None
    span: Span | None = None
    votes: tuple[tuple[str, str], ...] = ()
    annotators: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "article_id": self.article_id,
            "target": self.target,
            "span": _span_dict(self.span) if self.span is not None else None,
            "votes": [list(vote) for vote in self.votes],
            "annotators": list(self.annotators),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class GoldResult:
    """Gold per article (sorted by article id) and every conflict, in article order."""

    gold: Mapping[str, ArticleGold]
    conflicts: tuple[Conflict, ...]
    quorum: float
    targets: tuple[str, ...]

    @property
    def single_annotator_articles(self) -> tuple[str, ...]:
        """Articles whose gold is one person's answer, not an agreement."""
        return tuple(article for article, gold in self.gold.items() if gold.source == SINGLE)

    @property
    def articles_without_gold(self) -> tuple[str, ...]:
        """Articles left out entirely because their ground-truth judgements disagree."""
        return tuple(c.article_id for c in self.conflicts if c.kind == GROUND_TRUTH_DISAGREEMENT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "quorum": self.quorum,
            "targets": list(self.targets),
            "gold": [gold.as_dict() for gold in self.gold.values()],
            "conflicts": [conflict.as_dict() for conflict in self.conflicts],
            "single_annotator_articles": list(self.single_annotator_articles),
            "articles_without_gold": list(self.articles_without_gold),
        }


def by_article(judgements: Iterable[Judgement]) -> dict[str, list[Judgement]]:
    """Judgements grouped by article (sorted ids, annotators sorted); one judgement per annotator and article."""
    grouped: dict[str, dict[str, Judgement]] = defaultdict(dict)
    for judgement in judgements:
        if judgement.annotator in grouped[judgement.article_id]:
            raise ValueError(
                f"annotator {judgement.annotator!r} has more than one judgement for article {judgement.article_id!r}"
            )
        grouped[judgement.article_id][judgement.annotator] = judgement
    return {article: [group[name] for name in sorted(group)] for article, group in sorted(grouped.items())}


def adjudicate(judgements: Iterable[Judgement], targets: Sequence[str], quorum: float = 0.5) -> GoldResult:
    """Gold labels where ground truth exists or more than `quorum` of the annotators agree; conflicts elsewhere."""
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of target names, not a single string")
    if not 0 <= quorum < 1:
        raise ValueError(f"quorum must be in [0, 1), got {quorum}")
    gold: dict[str, ArticleGold] = {}
    conflicts: list[Conflict] = []
    for article, group in by_article(judgements).items():
        decided, found = _adjudicate_article(article, group, tuple(targets), quorum)
        conflicts.extend(found)
        if decided is not None:
            gold[article] = decided
    return GoldResult(gold=gold, conflicts=tuple(conflicts), quorum=quorum, targets=tuple(targets))


def _adjudicate_article(
    article: str, group: list[Judgement], targets: tuple[str, ...], quorum: float
) -> tuple[ArticleGold | None, list[Conflict]]:
    references = [j for j in group if j.ground_truth]
    if references:
        return _from_ground_truth(article, references, targets)
    if len(group) == 1:
        return _from_single(article, group[0], targets)
    return _from_majority(article, group, targets, quorum)


def _from_ground_truth(
    article: str, references: list[Judgement], targets: tuple[str, ...]
) -> tuple[ArticleGold | None, list[Conflict]]:
    differences = _reference_differences(references, targets)
    if differences:
        names = tuple(j.annotator for j in references)
        reason = f"ground-truth judgements disagree on {', '.join(differences)}; no gold for this article"
        return None, [Conflict(GROUND_TRUTH_DISAGREEMENT, article, reason, annotators=names)]
    reference = references[0]
    spans, overlaps = _without_overlaps(article, {_key(s): (reference.annotator,) for s in reference.spans})
    gold = ArticleGold(article, spans, _answered(reference, targets), GROUND_TRUTH, len(references))
    return gold, overlaps


def _reference_differences(references: list[Judgement], targets: tuple[str, ...]) -> list[str]:
    differences = [f"stance {t!r}" for t in targets if len({j.stance.get(t) for j in references}) > 1]
    if len({frozenset(map(_key, j.spans)) for j in references}) > 1:
        differences.append("spans")
    return differences


def _from_single(article: str, judgement: Judgement, targets: tuple[str, ...]) -> tuple[ArticleGold, list[Conflict]]:
    spans, overlaps = _without_overlaps(article, {_key(s): (judgement.annotator,) for s in judgement.spans})
    return ArticleGold(article, spans, _answered(judgement, targets), SINGLE, 1), overlaps


def _from_majority(
    article: str, group: list[Judgement], targets: tuple[str, ...], quorum: float
) -> tuple[ArticleGold, list[Conflict]]:
    stance: dict[str, str] = {}
    conflicts: list[Conflict] = []
    for target in targets:
        votes = tuple((j.annotator, j.stance[target]) for j in group if target in j.stance)
        winner = _majority_choice(votes, quorum)
        if winner is not None:
            stance[target] = winner
        elif votes:
            conflicts.append(Conflict(STANCE_NO_MAJORITY, article, _vote_reason(votes, quorum), target, votes=votes))
    accepted, below = _spans_by_quorum(article, group, quorum)
    spans, overlaps = _without_overlaps(article, accepted)
    return ArticleGold(article, spans, stance, MAJORITY, len(group)), conflicts + below + overlaps


def _majority_choice(votes: tuple[tuple[str, str], ...], quorum: float) -> str | None:
    """The one choice given by more than `quorum` of the voters, if there is exactly one."""
    counts = Counter(choice for _, choice in votes)
    winners = [choice for choice, count in counts.items() if count > quorum * len(votes)]
    return winners[0] if len(winners) == 1 else None


def _vote_reason(votes: tuple[tuple[str, str], ...], quorum: float) -> str:
    counts = sorted(Counter(choice for _, choice in votes).items(), key=lambda item: (-item[1], item[0]))
    tally = ", ".join(f"{choice}: {count}" for choice, count in counts)
    return f"no single choice given by more than {quorum:.0%} of {len(votes)} annotators ({tally})"


def _spans_by_quorum(
    article: str, group: list[Judgement], quorum: float
) -> tuple[dict[SpanKey, tuple[str, ...]], list[Conflict]]:
    """A span is gold when more than `quorum` of the annotators who voted on its place marked it; an
    annotator whose span items there were rejected did not vote (their answer there is unknown)."""
    markers: dict[SpanKey, list[str]] = defaultdict(list)
    for judgement in group:
        for key in sorted(set(map(_key, judgement.spans))):
            markers[key].append(judgement.annotator)
    accepted: dict[SpanKey, tuple[str, ...]] = {}
    below: list[Conflict] = []
    for key, names in sorted(markers.items()):
        voters = sum(1 for j in group if j.annotator in names or j.votes_against(key[0], key[1]))
        if len(names) > quorum * voters:
            accepted[key] = tuple(names)
        else:
            abstained = len(group) - voters
            reason = (f"marked by {len(names)} of {voters} annotators; gold needs more than {quorum:.0%}"
                      + (f" ({abstained} not counted: their span items there were rejected)" if abstained else ""))
            below.append(Conflict(SPAN_BELOW_QUORUM, article, reason, span=_span(key), annotators=tuple(names)))
    return accepted, below


def _without_overlaps(
    article: str, candidates: Mapping[SpanKey, tuple[str, ...]]
) -> tuple[tuple[Span, ...], list[Conflict]]:
    """Gold spans minus every span that overlaps another one; each dropped span becomes a conflict."""
    spans = sorted(_span(key) for key in candidates)
    kept: list[Span] = []
    conflicts: list[Conflict] = []
    for span in spans:
        clashes = [other for other in spans if other is not span and span.overlaps(other)]
        if not clashes:
            kept.append(span)
            continue
        described = ", ".join(f"{o.label}[{o.start}:{o.end}]" for o in clashes)
        reason = f"would be gold but overlaps gold span {described}; both dropped"
        conflicts.append(Conflict(SPAN_OVERLAP, article, reason, span=span, annotators=candidates[_key(span)]))
    return tuple(kept), conflicts


def _answered(judgement: Judgement, targets: tuple[str, ...]) -> dict[str, str]:
    return {target: judgement.stance[target] for target in targets if target in judgement.stance}


def _key(span: Span) -> SpanKey:
    return (span.start, span.end, span.label)


def _span(key: SpanKey) -> Span:
    return Span(key[0], key[1], key[2])


def _span_dict(span: Span) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "label": span.label}
