"""One annotator's validated answer for one article: what gold and agreement are computed from."""

from __future__ import annotations

from dataclasses import dataclass, field

from .spans import Span


@dataclass(frozen=True)
class Judgement:
    """Spans are validated offsets into the article's clean text; `stance` maps target -> choice (absent = unanswered).

    `rejected_at` holds where this annotator's rejected span items were, and `rejected_unplaced` counts
    those whose place is unknown: there, not marking a span is not a vote that the text has none."""

    article_id: str
    annotator: str
    spans: tuple[Span, ...] = ()
    stance: dict[str, str] = field(default_factory=dict)
    ground_truth: bool = False
    annotation_id: int | None = None
    rejected_at: tuple[tuple[int, int], ...] = ()
    rejected_unplaced: int = 0

    def votes_against(self, start: int, end: int) -> bool:
        """Whether leaving `start`-`end` unmarked says this annotator saw no entity there."""
        if self.rejected_unplaced:
            return False
        return not any(begin < end and start < finish for begin, finish in self.rejected_at)
