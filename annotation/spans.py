"""Character spans over an article's clean text: the unit every annotation step speaks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str
    score: float = 1.0

    def text_in(self, text: str) -> str:
        return text[self.start : self.end]

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


def resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Keep no overlapping pair: longer spans first, then higher scores, then earlier ones."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), -s.score, s.start)):
        if not any(span.overlaps(k) for k in kept):
            kept.append(span)
    return sorted(kept)


def prf(gold: set[tuple], predicted: set[tuple]) -> dict[str, float | int]:
    tp = len(gold & predicted)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold": len(gold), "predicted": len(predicted), "tp": tp}
