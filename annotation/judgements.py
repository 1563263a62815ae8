"""One annotator's validated answer for one article: what gold and agreement are computed from."""

from __future__ import annotations

from dataclasses import dataclass, field

from .spans import Span


@dataclass(frozen=True)
class Judgement:
    """Spans are validated offsets into the article's clean text; `stance` maps target -> choice (absent = unanswered)."""

    article_id: str
    annotator: str
    spans: tuple[Span, ...] = ()
    stance: dict[str, str] = field(default_factory=dict)
    ground_truth: bool = False
    annotation_id: int | None = None
