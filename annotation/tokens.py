"""Indonesian tokens with character offsets, and character spans <-> IOB2 tags.

Tokens come from spaCy's blank Indonesian tokenizer (offline, rule based) with three additions:

- special cases for abbreviations that spaCy's `id` exceptions lack and would otherwise split
  off their period (`Jl.`, `Kab.`, `PT.`, ...; see `ADDED_ABBREVIATIONS`). `No.`, `Dr.`, `Prof.`,
  `H.`, `St.` and `D.C.` already stay whole (`BUILTIN_ABBREVIATIONS`); the tests guard that;
- `Rp.` directly followed by a digit (`Rp.5.000`) is split as `Rp.` + `5.000` (spaCy gives
  `Rp` + `.5.000`);
- full reduplication (`sanksi-sanksi`, `kemungkinan-kemungkinan`) stays one token even when the
  word is not in spaCy's list of reduplicated words, as listed ones (`anak-anak`) already do.

Dates such as `30/12/2021` stay split into five tokens (`30 / 12 / 2021`), as spaCy does.
Whitespace is never a token, and `text[token.start:token.end] == token.text` always holds
(offsets are Python `str` indices, i.e. code points, so emoji and other non-BMP characters
count as one).

IOB conversion (`spans_to_iob`) never moves a span: a span whose start or end falls inside a
token is reported as a `BoundaryProblem` and left out of the tags (its tokens stay `O`, unless
another span covers them). Overlapping spans cannot both be written as IOB2 tags; the first by
(start, -length) is kept, the others are reported. Boundaries that fall in whitespace between
tokens are accepted: the span covers the tokens inside it, and `iob_to_spans` gives it back
trimmed to those tokens.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Tokens

from .schema import OUTSIDE_TAG
from .spans import Span

# Abbreviations whose final period blank("id") splits off (`Jl.` -> `Jl` `.`); each one has a test
# showing the split without the exception.
ADDED_ABBREVIATIONS: tuple[str, ...] = ("Jl.", "Kab.", "Kec.", "Kel.", "Prov.", "Rp.", "Tbk.", "PT.", "Jend.")
# Abbreviations blank("id") already keeps whole, so they get no exception: `No.`, `Dr.`, `Prof.`,
# `H.`, `St.` are spaCy exceptions, and `D.C.` (not an exception) survives its suffix rules. Listed
# so a test notices if a spaCy upgrade changes that.
BUILTIN_ABBREVIATIONS: tuple[str, ...] = ("No.", "Dr.", "Prof.", "H.", "St.", "D.C.")

# `Rp.5.000`: the currency with its period as a prefix, before spaCy's own `Rp` prefix.
_RUPIAH_PREFIX = r"Rp\.(?=[0-9])"
# Full reduplication, optionally with the clitic -nya: `sanksi-sanksi`, `Negara-negara`, `anak-anaknya`.
_REDUPLICATION = re.compile(r"([^\W\d_]{2,})-\1(?:nya)?", re.IGNORECASE)

BEGIN = "B-"
INSIDE = "I-"

ProblemKind = Literal["start", "end", "overlap", "duplicate", "no_tokens", "out_of_range"]


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class BoundaryProblem:
    """Why a span is not in the tags.

    kind: `start` / `end`: that boundary falls strictly inside `token`;
    `overlap`: the span shares tokens with `kept`, an earlier span that stays in the tags;
    `duplicate`: the same tokens and label as `kept`; `no_tokens`: the span covers no token
    (only whitespace); `out_of_range`: start/end not within the text or start >= end.
    """

    span: Span
    kind: ProblemKind
    token: Token | None = None
    kept: Span | None = None

    def __str__(self) -> str:
        where = f"{self.span.label} [{self.span.start}:{self.span.end}]"
        if self.kind in ("start", "end"):
            return f"{where}: {self.kind} falls inside token {self.token.text!r} [{self.token.start}:{self.token.end}]"
        if self.kind in ("overlap", "duplicate"):
            return f"{where}: {self.kind} of {self.kept.label} [{self.kept.start}:{self.kept.end}], which is kept"
        return f"{where}: {self.kind.replace('_', ' ')}"


@dataclass(frozen=True)
class IobResult:
    """IOB2 tags (one per token), the spans they represent, and the spans they could not."""

    tokens: list[Token]
    tags: list[str]
    problems: list[BoundaryProblem] = field(default_factory=list)
    kept: list[Span] = field(default_factory=list)


class InvalidIobError(ValueError):
    """Tags that are not a valid IOB2 sequence for the tokens."""


@lru_cache(maxsize=1)
def _tokenizer():
    import spacy
    from spacy.symbols import ORTH
    from spacy.util import compile_prefix_regex

    nlp = spacy.blank("id")
    tokenizer = nlp.tokenizer
    for abbreviation in ADDED_ABBREVIATIONS:
        tokenizer.add_special_case(abbreviation, [{ORTH: abbreviation}])
    tokenizer.prefix_search = compile_prefix_regex((_RUPIAH_PREFIX, *nlp.Defaults.prefixes)).search
    tokenizer.token_match = _REDUPLICATION.fullmatch
    return tokenizer


def tokenize(text: str) -> list[Token]:
    """Tokens of `text` with Python character offsets; whitespace is dropped."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return [Token(t.text, t.idx, t.idx + len(t.text)) for t in _tokenizer()(text) if not t.is_space]


def spans_to_iob(text: str, spans: Iterable[Span], tokens: Sequence[Token] | None = None) -> IobResult:
    """IOB2 tags for `spans` over the tokens of `text` (tokenized here unless `tokens` is given).

    O(tokens + spans log tokens). Spans are never shifted: misaligned, empty, out-of-range and
    overlapping ones are reported in `problems` and left out of the tags (see the module doc).
    """
    tokens = list(tokens) if tokens is not None else tokenize(text)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    tags = [OUTSIDE_TAG] * len(tokens)
    problems: list[BoundaryProblem] = []
    kept: list[Span] = []
    kept_range: tuple[int, int] = (0, 0)  # token range [first, stop) of the last kept span
    text_length = len(text)

    for span in sorted(spans, key=lambda s: (s.start, s.start - s.end)):
        if not span.label or any(c.isspace() for c in span.label):
            raise ValueError(f"span {span} has an empty label or one with whitespace")
        start, end = span.start, span.end
        if start < 0 or end > text_length or start >= end:
            problems.append(BoundaryProblem(span, "out_of_range"))
            continue
        # token containing `start`, if any: the last one starting at or before it
        i = bisect_right(starts, start) - 1
        misaligned = False
        if i >= 0 and starts[i] < start < ends[i]:
            problems.append(BoundaryProblem(span, "start", tokens[i]))
            misaligned = True
        # token containing `end`, if any: the first one ending at or after it
        j = bisect_left(ends, end)
        if j < len(tokens) and starts[j] < end < ends[j]:
            problems.append(BoundaryProblem(span, "end", tokens[j]))
            misaligned = True
        if misaligned:
            continue
        first = bisect_left(starts, start)
        stop = bisect_right(ends, end)
        if first >= stop:
            problems.append(BoundaryProblem(span, "no_tokens"))
            continue
        if kept and first < kept_range[1]:
            previous = kept[-1]
            kind = "duplicate" if (first, stop) == kept_range and span.label == previous.label else "overlap"
            problems.append(BoundaryProblem(span, kind, kept=previous))
            continue
        tags[first] = BEGIN + span.label
        if stop - first > 1:
            tags[first + 1 : stop] = [INSIDE + span.label] * (stop - first - 1)
        kept.append(span)
        kept_range = (first, stop)
    return IobResult(tokens=tokens, tags=tags, problems=problems, kept=kept)


def iob_problems(tags: Sequence[str]) -> list[str]:
    """What makes `tags` invalid IOB2 (empty list if valid).

    Each tag must be `O` or `B-X` / `I-X` with a non-empty label X, and every `I-X` must continue
    a `B-X` or `I-X`. The chunking is seqeval's strict IOB2 scheme: a tag that is not `O` but lies
    in no strict entity is an orphan `I-`.
    """
    problems = [
        f"tag {index} {tag!r} is not O, B-X or I-X"
        for index, tag in enumerate(tags)
        if tag != OUTSIDE_TAG and not (tag[:2] in (BEGIN, INSIDE) and len(tag) > 2 and not any(c.isspace() for c in tag))
    ]
    if problems:
        return problems
    covered = bytearray(len(tags))
    for entity in Tokens(list(tags), scheme=IOB2).entities:
        covered[entity.start : entity.end] = b"\x01" * (entity.end - entity.start)
    return [
        f"tag {index} {tag!r} does not continue a chunk of the same label (previous: "
        f"{tags[index - 1] if index else 'start of sequence'!r})"
        for index, tag in enumerate(tags)
        if tag != OUTSIDE_TAG and not covered[index]
    ]


def check_iob(tags: Sequence[str]) -> None:
    """Raise `InvalidIobError` unless `tags` is a valid IOB2 sequence."""
    problems = iob_problems(tags)
    if problems:
        raise InvalidIobError("; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))


def iob_to_spans(tokens: Sequence[Token], tags: Sequence[str], *, strict: bool = True) -> list[Span]:
    """Character spans for IOB2 `tags` over `tokens`: the inverse of `spans_to_iob`.

    A span runs from its first token's start to its last token's end. With `strict` (default) the
    tags must be valid IOB2 (`InvalidIobError` otherwise); with `strict=False` seqeval's lenient
    chunking applies (an orphan `I-X` starts a new chunk, as conlleval does).
    """
    if len(tokens) != len(tags):
        raise InvalidIobError(f"{len(tokens)} tokens but {len(tags)} tags")
    if strict:
        check_iob(tags)
    # get_entities gives (label, first, last) with `last` inclusive
    return [Span(tokens[first].start, tokens[last].end, label) for label, first, last in get_entities(list(tags))]
