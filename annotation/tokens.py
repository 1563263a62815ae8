"""Indonesian tokens with character offsets, and character spans <-> IOB2 tags.

Public: `tokenize(text) -> list[Token]`, `token_offsets(text)`, `spans_to_iob(text, spans,
tokens=None) -> IobResult`, `iob_to_spans(tokens, tags)`, `iob_problems(tags)` / `check_iob(tags)`
(IOB2 validity through seqeval), `BoundaryProblem`, `InvalidIobError`, `build_tokenizer()`.

Tokens are spaCy's blank Indonesian tokenizer's (offline, rule based; built once, in
`build_tokenizer`, which also makes it ~10x faster) with three additions:

- special cases for abbreviations that spaCy's `id` exceptions lack and would otherwise split
  off their period (`Jl.`, `Kab.`, `PT.`, ...; see `ADDED_ABBREVIATIONS`). `No.`, `Dr.`, `Prof.`,
  `H.`, `St.` and `D.C.` already stay whole (`BUILTIN_ABBREVIATIONS`); the tests guard that;
- `Rp.` directly followed by a digit (`Rp.5.000`) is split as `Rp.` + `5.000` (spaCy gives
  `Rp` + `.5.000`);
- full reduplication (`sanksi-sanksi`, `kemungkinan-kemungkinan`) stays one token even when the
  word is not in spaCy's list of reduplicated words, as listed ones (`anak-anak`) already do.

Dates such as `30/12/2021` stay split into five tokens (`30 / 12 / 2021`), as spaCy does; a flag
emoji (two regional-indicator code points) is two tokens, as in spaCy. Whitespace is never a
token nor inside one, and `text[token.start:token.end] == token.text` always holds (offsets are
Python `str` indices, i.e. code points: an emoji counts one, where Label Studio's UI counts two).

IOB conversion (`spans_to_iob`) never moves a span: a span whose start or end falls inside a
token is reported as a `BoundaryProblem` and left out of the tags (its tokens stay `O`, unless
another span covers them). Overlapping spans cannot both be written as IOB2 tags; the first by
(start, -length) is kept, the others are reported (as are duplicates, spans covering only
whitespace and spans outside the text). Boundaries that fall in whitespace between tokens are
accepted: the span covers the tokens inside it, and `iob_to_spans` gives it back trimmed to them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
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
# Words joined by hyphens, as candidates for one token when glued to other text (`anak-anak/remaja`).
_HYPHENATED = re.compile(r"[^\W_]+(?:-[^\W_]+)+")

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


@dataclass(frozen=True, eq=False)
class IobResult:
    """IOB2 tags (one per token), the spans they represent (`kept`) and those they could not."""

    tags: list[str]
    problems: list[BoundaryProblem]
    kept: list[Span]
    text: str = field(repr=False)
    starts: Sequence[int] = field(repr=False)
    ends: Sequence[int] = field(repr=False)

    @cached_property
    def tokens(self) -> list[Token]:
        """The tokens the tags belong to (built on first use when `spans_to_iob` tokenized)."""
        return _make_tokens(self.text, self.starts, self.ends)


class InvalidIobError(ValueError):
    """Tags that are not a valid IOB2 sequence for the tokens."""


def build_tokenizer(lexical_attributes: bool = True):
    """spaCy's blank Indonesian tokenizer with warta's additions (see the module doc), made fast.

    With `lexical_attributes=False` its vocabulary computes only `is_space` for each new word (not
    `like_num`, `is_stop`, shape, norm, ...): all that offsets need, and a third of the cost of a
    first-seen word.

    spacy.blank("id") keeps its ~15,900 Indonesian exceptions as special cases. Almost all contain
    affix characters (hyphenated words such as `anak-anak`), so spaCy re-checks them with a
    PhraseMatcher over every document, and stops caching a document's words once one exception
    occurs in it: it tokenizes ~15x slower than spaCy's English tokenizer (and takes ~3 s to build).

    Here every exception that keeps a string as one token moves into `token_match` (a set lookup),
    the prefix and suffix searches leave such strings alone (so `(Jl.` and `anak-anak,` still give
    `(` `Jl.` and `anak-anak` `,`), and the infix search does not split the hyphens of such a word
    when other split points isolate it (`anak-anak/remaja`). Only exceptions that split a string
    into several tokens (`°C.`) stay special cases; those containing whitespace (`Dr. rer. nat.`)
    are dropped, so no token ever contains whitespace. The tokens equal spacy.blank("id")'s except
    for warta's additions (a test checks the seeds and tricky contexts), about as fast as English.
    Known remaining differences, both in text without spaces where it should have them: spaCy
    re-joins an exception glued to a previous word by punctuation (`pada.Hj.` -> `Hj.`) and
    emoticons glued to punctuation (`(:`, `;)`); here they stay split.
    """
    from spacy.attrs import IS_SPACE
    from spacy.symbols import ORTH
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, get_lang_class
    from spacy.vocab import Vocab, create_vocab

    # the pieces spacy.blank("id") builds its tokenizer from, without building that one
    defaults = get_lang_class("id").Defaults
    vocab = create_vocab("id", defaults) if lexical_attributes else Vocab(lex_attr_getters={IS_SPACE: str.isspace})
    # every alternative of the prefix pattern starts with `^`, so `match` finds what `search` would,
    # without trying (and failing) at every position of the chunk: 6-25x faster on a plain word
    prefix_search = compile_prefix_regex((_RUPIAH_PREFIX, *defaults.prefixes)).match
    suffix_search = compile_suffix_regex(defaults.suffixes).search
    infix_finditer = compile_infix_regex(defaults.infixes).finditer
    reduplication = _REDUPLICATION.fullmatch
    rules = dict(defaults.tokenizer_exceptions)
    rules.update({abbreviation: [{ORTH: abbreviation}] for abbreviation in ADDED_ABBREVIATIONS})
    rules = {string: pieces for string, pieces in rules.items() if not any(c.isspace() for c in string)}
    whole = frozenset(string for string, pieces in rules.items() if len(pieces) == 1 and pieces[0][ORTH] == string)

    def token_match(chunk: str) -> bool:
        return chunk in whole or reduplication(chunk) is not None

    def guarded_prefix_search(chunk: str):
        # `Rp.,` must not lose the currency prefix `Rp`: look past any suffixes first. Only a chunk
        # with a prefix needs that look (most have none, and the suffix search is the slow one).
        found = prefix_search(chunk)
        if found is None:
            return None
        rest = chunk
        while rest not in whole and (suffix := suffix_search(rest)) is not None and suffix.start() < len(rest):
            rest = rest[: suffix.start()]
        return None if rest in whole else found

    def guarded_suffix_search(chunk: str):
        # spaCy strips one prefix and then a suffix in the same step, so `((Jl.` reaches here as
        # `(Jl.`: look past any prefixes before deciding the period may go.
        found = suffix_search(chunk)
        if found is None:
            return None
        rest = chunk
        while rest not in whole and (prefix := prefix_search(rest)) is not None and prefix.end() > 0:
            rest = rest[prefix.end() :]
        return None if rest in whole else found

    def guarded_infix_finditer(chunk: str):
        # spaCy's PhraseMatcher re-joins `anak - anak` after an infix split of `anak-anak/remaja`;
        # here the hyphens inside a whole word that other split points isolate are not split points.
        matches = list(infix_finditer(chunk))
        if len(matches) < 2 or "-" not in chunk:
            return matches
        edges = {m.start() for m in matches} | {m.end() for m in matches} | {0, len(chunk)}
        inside: list[tuple[int, int]] = []
        for word in _HYPHENATED.finditer(chunk):
            inside.extend(_whole_runs(word.group(), word.start(), edges, token_match))
        if not inside:
            return matches
        return [m for m in matches if not any(a < m.start() and m.end() < b for a, b in inside)]

    return Tokenizer(
        vocab,
        rules={string: pieces for string, pieces in rules.items() if string not in whole},
        prefix_search=guarded_prefix_search,
        suffix_search=guarded_suffix_search,
        infix_finditer=guarded_infix_finditer,
        token_match=token_match,
        url_match=defaults.url_match,
    )


def _whole_runs(word: str, offset: int, edges: set[int], is_whole) -> list[tuple[int, int]]:
    """Longest runs of hyphen-joined parts of `word` that are one token, leftmost first."""
    parts = word.split("-")
    bounds = [offset]
    for part in parts:
        bounds.append(bounds[-1] + len(part) + 1)  # position after the part and its hyphen
    runs = []
    i = 0
    while i < len(parts) - 1:
        for j in range(len(parts), i + 1, -1):  # parts[i:j], at least two of them
            a, b = bounds[i], bounds[j] - 1
            if a in edges and b in edges and is_whole("-".join(parts[i:j])):
                runs.append((a, b))
                i = j
                break
        else:
            i += 1
    return runs


@lru_cache(maxsize=1)
def _tokenizer():
    return build_tokenizer(lexical_attributes=False)


def token_offsets(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Start and end offsets of the tokens of `text`, without building `Token` objects.

    The last few texts' offsets are cached (see `OFFSET_CACHE_SIZE`): converting every annotation
    of a task, or the same article again, tokenizes it once.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return _cached_offsets(text)


OFFSET_CACHE_SIZE = 128


@lru_cache(maxsize=OFFSET_CACHE_SIZE)
def _cached_offsets(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    from spacy.attrs import IDX, IS_SPACE, LENGTH

    array = _tokenizer()(text).to_array([IDX, LENGTH, IS_SPACE])
    array = array[array[:, 2] == 0]
    starts = array[:, 0]
    return tuple(starts.tolist()), tuple((starts + array[:, 1]).tolist())


def _make_tokens(text: str, starts: Sequence[int], ends: Sequence[int]) -> list[Token]:
    return [Token(text[start:end], start, end) for start, end in zip(starts, ends)]


def tokenize(text: str) -> list[Token]:
    """Tokens of `text` with Python character offsets; whitespace is never a token."""
    return _make_tokens(text, *token_offsets(text))


_TAGS_OF: dict[str, tuple[str, str]] = {}  # label -> (B-label, I-label), for labels found non-empty and free of whitespace


def _longest_first(span: Span) -> tuple[int, int]:
    return span.start, -span.end


def spans_to_iob(text: str, spans: Iterable[Span], tokens: Sequence[Token] | None = None) -> IobResult:
    """IOB2 tags for `spans` over the tokens of `text` (tokenized here unless `tokens` is given).

    O(tokens + spans log tokens), with no loop over characters. Spans are never shifted:
    misaligned, empty, out-of-range, overlapping and duplicate ones are reported in `problems`
    and left out of the tags (see the module doc). Without `tokens`, the offsets of recently
    seen texts come from a cache (`token_offsets`), so several annotations of one text are
    tokenized once.
    """
    if tokens is None:
        starts, ends = token_offsets(text)
    else:
        starts = [t.start for t in tokens]
        ends = [t.end for t in tokens]
    token_count = len(starts)
    tags = [OUTSIDE_TAG] * token_count
    problems: list[BoundaryProblem] = []
    kept: list[Span] = []
    kept_stop = 0  # token index after the last kept span: kept spans never overlap, in order
    kept_first = -1
    text_length = len(text)

    def token(index: int) -> Token:
        return tokens[index] if tokens is not None else Token(text[starts[index] : ends[index]], starts[index], ends[index])

    for span in sorted(spans, key=_longest_first):
        label = span.label
        label_tags = _TAGS_OF.get(label)
        if label_tags is None:
            if not label or any(c.isspace() for c in label):
                raise ValueError(f"span {span} has an empty label or one with whitespace")
            label_tags = _TAGS_OF[label] = (BEGIN + label, INSIDE + label)
        start, end = span.start, span.end
        if start < 0 or end > text_length or start >= end:
            problems.append(BoundaryProblem(span, "out_of_range"))
            continue
        first = bisect_right(starts, start) - 1  # the last token starting at or before `start`
        if first < 0 or start != starts[first]:
            if first >= 0 and start < ends[first]:
                problems.append(BoundaryProblem(span, "start", token(first)))
                first = -1
            else:
                first += 1  # `start` is in whitespace: the span begins with the next token
        stop = bisect_left(ends, end)  # the first token ending at or after `end`
        if stop < token_count and end != ends[stop]:
            if starts[stop] < end:
                problems.append(BoundaryProblem(span, "end", token(stop)))
                continue
        elif stop < token_count:
            stop += 1  # that token ends exactly at `end`: it is the span's last
        if first < 0:
            continue
        if first >= stop:
            problems.append(BoundaryProblem(span, "no_tokens"))
            continue
        if first < kept_stop:
            previous = kept[-1]
            same = (first, stop) == (kept_first, kept_stop) and span.label == previous.label
            problems.append(BoundaryProblem(span, "duplicate" if same else "overlap", kept=previous))
            continue
        tags[first] = label_tags[0]
        if stop - first > 1:
            tags[first + 1 : stop] = [label_tags[1]] * (stop - first - 1)
        kept.append(span)
        kept_first, kept_stop = first, stop

    result = IobResult(tags=tags, problems=problems, kept=kept, text=text, starts=starts, ends=ends)
    if tokens is not None:
        result.__dict__["tokens"] = list(tokens)  # fill the cached property with the caller's tokens
    return result


def iob_problems(tags: Sequence[str]) -> list[str]:
    """What makes `tags` invalid IOB2 (empty list if valid).

    Each tag must be `O` or `B-X` / `I-X` with a non-empty label X without whitespace, and every
    `I-X` must continue a `B-X` or `I-X`. The chunking is seqeval's strict IOB2 scheme: a tag that
    is not `O` but lies in no strict entity is an `I-` that continues nothing.
    """
    problems = [
        f"tag {index} {tag!r} is not O, B-X or I-X"
        for index, tag in enumerate(tags)
        if tag != OUTSIDE_TAG
        and not (isinstance(tag, str) and tag[:2] in (BEGIN, INSIDE) and len(tag) > 2 and not any(c.isspace() for c in tag))
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
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InvalidIobError("; ".join(problems[:10]) + more)


def iob_to_spans(tokens: Sequence[Token], tags: Sequence[str], *, strict: bool = True) -> list[Span]:
    """Character spans for IOB2 `tags` over `tokens`: the inverse of `spans_to_iob`.

    A span runs from its first token's start to its last token's end. With `strict` (default) the
    tags must be valid IOB2 (`InvalidIobError` otherwise); with `strict=False` seqeval's lenient
    chunking applies (an `I-X` that continues nothing starts a new chunk, as conlleval does).
    """
    if len(tokens) != len(tags):
        raise InvalidIobError(f"{len(tokens)} tokens but {len(tags)} tags")
    if strict:
        check_iob(tags)
    # get_entities gives (label, first, last) with `last` inclusive
    return [Span(tokens[first].start, tokens[last].end, label) for label, first, last in get_entities(list(tags))]
