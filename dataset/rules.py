"""Line rules: which lines of a copied news page are page furniture, and why.

Each rule names a shape of line seen across Indonesian outlets (not the text of one page), so it
keeps working on outlets it has never seen. Structural decisions (headline, dateline, where the body
ends) live in `page.py`; this module only recognises single lines.

Patterns are lowercase and run on the lowercased line; each unanchored alternative is compiled on
its own and contains a literal, its "needle": a line without the needle is not searched at all (most
lines are prose). One Aho-Corasick pass over a page's lines finds which needles each line holds, so
a line is searched only with the patterns whose needle it has; `needled` gives a pattern a better
needle than its first literal. The patterns anchored at the line's start are tried only on lines
that match their union. The few patterns that need capital letters are marked `cased` and run on
the line as written.
"""

from __future__ import annotations

import re
from bisect import bisect_left

import ahocorasick_rs

BULLET = r"^[\s*•·\-–—#>]*"


def _full(*alternatives: str) -> list[re.Pattern[str]]:
    return [re.compile(BULLET + r"(?:" + "|".join(alternatives) + r")\s*[.:!]?\s*$")]


def _start(*alternatives: str) -> list[re.Pattern[str]]:
    return [re.compile(BULLET + r"(?:" + "|".join(alternatives) + r")")]


def _anywhere(*alternatives: str) -> list[re.Pattern[str] | needled]:
    return [alternative if isinstance(alternative, needled) else re.compile(alternative) for alternative in alternatives]


class needled(str):
    """A pattern with a `needle` every match contains, where its own first literal is weak (`e-?paper`) or absent."""

    def __new__(cls, pattern: str, needle: str = ""):
        made = super().__new__(cls, pattern)
        made.needle = needle
        return made


class cased(needled):
    """A pattern that needs the line's own capitals (run on the line as written, not lowercased)."""


def literal_prefix(pattern: re.Pattern[str]) -> str:
    """Plain text every match of `pattern` starts with ('' if it cannot tell): `pengeluaran\\s+...` -> `pengeluaran`.

    Conservative: only letters, digits, `#`, `'`, space, `-` and escaped punctuation count, a
    quantifier takes back the character before it, and a top-level `|` means no prefix at all."""
    if pattern.flags & re.IGNORECASE or _has_top_level_alternation(pattern.pattern):
        return ""
    source, prefix, i = pattern.pattern, [], 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and not source[i + 1].isalnum():
            literal, width = source[i + 1], 2
        elif char.isalnum() or char in "#' -":
            literal, width = char, 1
        else:
            break
        if source[i + width : i + width + 1] in ("?", "*", "+", "{"):
            break  # `e-?paper`: the quantified character is optional
        prefix.append(literal)
        i += width
    return "".join(prefix)


def _has_top_level_alternation(source: str) -> bool:
    depth, i = 0, 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":  # a character class: skip to its closing bracket (a leading `]` or `^]` is literal)
            i += 1
            if source[i : i + 1] == "^":
                i += 1
            if source[i : i + 1] == "]":
                i += 1
            while i < len(source) and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        i += 1
    return False


RELATED_HEADINGS, = _full(
    r"(?:berita|artikel|topik|video|foto)\s+(?:lainnya|terkait|terbaru|terpopuler|pilihan|menarik|rekomendasi)",
    r"terkini\s+lainnya",
    r"rekomendasi(?:\s+(?:untuk\s+anda|kami|buat\s+kamu|berita|redaksi))?",
    r"baca\s+(?:juga|lainnya)",
    r"hot\s+(?:topic|topik|news)",
    r"terpopuler|populer|trending|pilihan\s+editor|editor'?s\s+pick|most\s+popular|read\s+next",
    r"video|foto|galeri(?:\s+foto)?|lainnya|selengkapnya",
    r"related(?:\s+(?:articles|news|stories))?|more\s+stories|you\s+may\s+also\s+like",
)

# (rule, patterns): the first rule with a matching pattern wins; order goes from most to least specific.
LINE_RULES: list[tuple[str, list[tuple[re.Pattern[str], bool]]]] = [
    ("spam", _anywhere(
        r"pengeluaran\s+(?:sgp|hk|sdy|sydney|singapore|hongkong|macau|toto)\b", r"keluaran\s+(?:sgp|hk|sdy|sydney|macau|toto)\b",
        r"data\s+(?:sgp|hk|sdy)\b", r"result\s+(?:sgp|hk|sdy)\b", r"live\s+draw\s+(?:sgp|hk|sdy|sydney|singapore|hongkong|macau)",
        r"togel\b", r"slot\s+(?:gacor|online|88)\b", r"situs\s+(?:judi|slot)\b", r"judi\s+online\b",
        r"bandar\s+(?:togel|judi)\b", r"maxwin\b", r"scatter\s+hitam\b")),
    ("ai_summary", _anywhere(
        r"ringkasan\s+(?:yang\s+)?(?:dibuat|dihasilkan)\s+(?:oleh\s+)?(?:ai|kecerdasan\s+buatan)",
        needled(r"ai[- ]generated\s+summary", "generated"), r"kecerdasan\s+buatan[- ]generated\s+summary", r"summary\s+(?:was\s+)?generated\s+by\s+ai\b",
    ) + [re.compile(r"^\s*ringkasan\s+ai\s*:?\s*$")]),
    ("read_more", _start(
        r"(?:baca|lihat|simak|cek)\s+(?:juga|pula|selengkapnya)\s*:",
        r"artikel\s+ini\s+(?:telah|sudah)\s+(?:tayang|terbit|dipublikasikan)\s+di\b",
        r"simak\s+(?:juga\s+)?(?:video|berita|informasi)\b",
        r"read\s+(?:also|more)\s*:", r"pilihan\s+editor\s*:")),
    ("comment_prompt", _start(
        r"tulis\s+komentar", r"berkomentarlah\b", r"laporkan\s+komentar", r"terima\s+kasih\.?\s+kami\s+sudah\s+menerima\s+laporan",
        r"segera\s+lengkapi\s+data\s+diri", r"(?:lihat|tampilkan|muat)\s+(?:semua\s+)?komentar", r"\d+\s+komentar\s*$",
        r"komentar\s+(?:anda|kamu)\b", r"login\s+untuk\s+(?:berkomentar|komentar)")
        + _full(r"komentar|komentari|beri\s+komentar|lengkapi\s+profil|syarat\s*(?:&|dan)\s*ketentuan|comments?")
        + _anywhere(r"fitur\s+komentar", r"#jernihberkomentar", r"panduan\s+komunitas")),
    ("share", _full(
        r"(?:bagikan|share)(?:\s+(?:artikel|berita)(?:\s+ini)?|\s+this(?:\s+article)?)?",
        r"facebook|twitter|whatsapp|telegram|linkedin|line|copy\s+link|salin\s+(?:tautan|link)")),
    ("reading_time", _full(
        r"(?:bacaan|waktu\s+baca|lama\s+baca)\s*:?\s*\d+\s*menit", r"\d+\s*(?:menit|min(?:ute)?s?)\s+(?:baca|bacaan|read)")),
    ("byline", _start(r"oleh\s*:(?:\s*\S+){0,10}\s*$", r"(?:editor|penulis|reporter|pewarta|wartawan|sumber|penyunting|redaktur|kontributor|editor\s+foto|fotografer)\s*:")
        + [cased(BULLET + r"[Ss]umber\s+[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3}\s*$", needle="umber")]
        + _start(r"laporan\s+(?:wartawan|reporter|koresponden)\b")
        + [re.compile(r"^\s*\(\s*(?:reporter|penulis|editor)\s*:.*\)\s*$")]),
    ("ad", _full(
        r"advertisement|advertorial|iklan|ads|close\s+ads|scroll\s+to\s+continue(?:\s+with\s+content)?",
        r"konten\s+premium|premium\s+content|sponsored(?:\s+content)?|konten\s+bersponsor")
        + _anywhere(needled(r"tanpa\s+iklan", "iklan"), r"silakan\s+login", r"google\s+news\b", needled(r"wa\s+channel\b", "channel"), r"whatsapp\s+channel",
                    r"saluran\s+whatsapp", needled(r"e-?paper\b", "paper"),
                    needled(r"untuk\s+mengetahui\s+kebenaran\s+informasi", "kebenaran"),
                    r"whatsapp\s+ke\s+nomor", needled(r"wa\s+ke\s+nomor", "nomor"))
        + [re.compile(BULLET + r"(?:langganan\b|scan\s+qr\b|dapatkan\s+(?:update|informasi|berita|notifikasi)\b"
                      r"|ikuti\s+(?:kami|berita|kanal|channel)\b|download\s+aplikasi\b|unduh\s+aplikasi\b)")]),
    ("consent", _start(  # the notice's own opening words: an article that quotes one starts with its quote mark
        r"(?:kami|situs\s+ini|situs\s+web\s+ini|website\s+ini|laman\s+ini)\s+(?:menggunakan|memakai)\s+cookies?\b",
        r"we\s+use\s+cookies\b", r"this\s+(?:site|website)\s+uses\s+cookies\b")
        + _full(r"(?:terima|setuju|izinkan)\s+(?:semua\s+)?cookies?|accept\s+(?:all\s+)?cookies|cookie\s+settings|pengaturan\s+cookies?")),
    ("embed", _start(r"infografis\b", r"\[gambas:", r"video\s*:", r"(?:tonton|saksikan)\s+(?:juga\s+)?video\b")),
    ("navigation", _full(
        r"halaman(?:\s*:)?(?:\s*\d+)*", r"(?:(?:baca\s+)?halaman\s+)?(?:selanjutnya|sebelumnya|berikutnya)",
        r"next|prev(?:ious)?|load\s+more", r"\d+(?:st|nd|rd|th)?", r"(?:\d+\s+){1,9}\d+")),
    ("caption", [
        re.compile(r"\([^()]*\b(?:photo|foto|dok|istimewa|getty\s+images|shutterstock)\b[^()]*\)\s*\.?\s*$"),
        # a slash credit names someone with a capital (`(Liputan6.com/Abdillah)`); `(pmg/rds)` is a sign-off.
        cased(r"\((?=[^()]*[A-Z])[^()\s/]*[A-Za-z][^()\s/]*/[^()]*[A-Za-z][^()]*\)\s*\.?\s*$", needle="/"),
        cased(r"\S/\s?[A-Z][A-Za-z]*\s?-\s?[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*\s*\.?\s*$", needle="/"),
    ] + _start(r"(?:foto|ilustrasi|photo|gambar)\s*:", r"keterangan\s+(?:gambar|foto)\s*[,:]")),
]
LINE_RULES = [(rule, [(re.compile(p), isinstance(p, cased), p.needle) if isinstance(p, needled) else (p, False, literal_prefix(p))
                      for p in patterns])
              for rule, patterns in LINE_RULES]


def anchored_union(patterns: list[re.Pattern[str]]) -> re.Pattern[str]:
    """One pattern that matches at a line's start exactly when one of `patterns` (each `^`-anchored) does.

    A prose line fails it at its first characters, in one call instead of one per pattern; the
    shared bullet prefix is tried once."""
    bulleted = [p.pattern[len(BULLET):] for p in patterns if p.pattern.startswith(BULLET)]
    others = [p.pattern[1:] for p in patterns if not p.pattern.startswith(BULLET)]
    return re.compile("^(?:" + "|".join([BULLET[1:] + "(?:" + "|".join(bulleted) + ")", *others]) + ")")


# lowercase patterns that can only match at the line's start; a line that fails their union skips them all
ANCHORED = frozenset(p for _, patterns in LINE_RULES for p, cased_, _ in patterns
                     if not cased_ and p.pattern.startswith("^") and not _has_top_level_alternation(p.pattern))
ANCHORED_UNION = anchored_union([RELATED_HEADINGS, *sorted(ANCHORED, key=lambda p: p.pattern)])
# every needle, lowercased: one Aho-Corasick pass over a page's lowercased lines finds them all
NEEDLES = sorted({needle.lower() for _, patterns in LINE_RULES for _, _, needle in patterns if needle})


def _needle_number(pattern: re.Pattern[str], needle: str) -> int:
    if not needle:
        raise ValueError(f"line pattern {pattern.pattern!r} is neither anchored at the line's start nor starts with "
                         "a literal: give it a needle with `needled`")
    return NEEDLES.index(needle.lower())


# ahocorasick_rs (Rust's aho-corasick) reports every match, overlapping ones too, in one call: 8.7 µs a
# page against 30.5 for pyahocorasick's iterator, the same matches
NEEDLE_SCANNER = ahocorasick_rs.AhoCorasick(NEEDLES)
# Every pattern once, in search order: rule by rule, a rule's anchored patterns (tried only after the
# union matched) before its others (tried only when the line holds their needle). A line's candidates
# are the first anchored pattern that matches and its needles' entries, merged back into that order:
# walking every rule's list for each line cost ~24 needle checks a line.
_ORDERED = [(rule, pattern, cased_, needle) for rule, patterns in LINE_RULES
            for pattern, cased_, needle in sorted(patterns, key=lambda entry: entry[0] not in ANCHORED)]
_ANCHORED_ENTRIES = [(order, rule, pattern, cased_) for order, (rule, pattern, cased_, _) in enumerate(_ORDERED)
                     if pattern in ANCHORED]
# the anchored patterns in that order, each a named alternative (none has a group of its own): one match
# of a line that passed the union names the first of them that matches, instead of up to 14 searches
ANCHORED_FIRST = re.compile("|".join(f"(?P<a{number}>{pattern.pattern[1:]})"
                                     for number, (_, _, pattern, _) in enumerate(_ANCHORED_ENTRIES)))
_ENTRIES_OF_NEEDLE: dict[int, list[tuple[int, str, re.Pattern[str], bool]]] = {}
for _order, (_rule, _pattern, _cased, _needle) in enumerate(_ORDERED):
    if _pattern not in ANCHORED:
        _ENTRIES_OF_NEEDLE.setdefault(_needle_number(_pattern, _needle), []).append((_order, _rule, _pattern, _cased))

# Lines that end the article when nothing article-like follows them.
TAIL_RULES = frozenset({"related_list", "comment_prompt", "embed", "navigation", "signoff"})

INLINE_READ_MORE = re.compile(r"\s*\b(?:baca|lihat|simak)\s+juga\s*:\s*[^.!?\"”]*$", re.IGNORECASE)


MAX_FURNITURE_WORDS = 35


def classify_line(line: str) -> str | None:
    """The rule that removes this line on its own, or None when the line could be article text."""
    return classify_lines([line])[0]


def classify_lines(lines: list[str]) -> list[str | None]:
    """`classify_line` of each line of one page, with two shortcuts that give the same answers.

    The anchored patterns run only on lines that match their union, and the others only on lines
    that hold their needle (found for the whole page in one pass): a prose line mostly costs one
    `match`. Only lines short enough to be furniture are looked at."""
    result: list[str | None] = [None] * len(lines)
    short = [(number, line) for number, line in enumerate(lines) if line.count(" ") < MAX_FURNITURE_WORDS]
    lowered = [line.lower() for _, line in short]
    ends, end = [], -1  # where each lowered line ends in the joined page
    for low in lowered:
        end += len(low) + 1
        ends.append(end)
    needles_of: dict[int, set[int]] = {}
    for needle, start, _ in NEEDLE_SCANNER.find_matches_as_indexes("\n".join(lowered), overlapping=True):
        needles_of.setdefault(bisect_left(ends, start), set()).add(needle)
    for position, ((number, line), low) in enumerate(zip(short, lowered)):
        at_start = ANCHORED_UNION.match(low) is not None
        if at_start and RELATED_HEADINGS.match(low):
            result[number] = "related_list"
        elif at_start or position in needles_of:
            result[number] = _first_rule(line, low, at_start, needles_of.get(position, ()))
    return result


def _first_rule(line: str, lowered: str, at_start: bool, needles: set[int] | tuple) -> str | None:
    """The first rule, in LINE_RULES' order, with a candidate pattern that matches (capitals kept where it needs them)."""
    first = ANCHORED_FIRST.match(lowered) if at_start else None
    candidates = [_ANCHORED_ENTRIES[int(first.lastgroup[1:])]] if first else []
    for needle in needles:
        candidates += _ENTRIES_OF_NEEDLE[needle]
    if len(candidates) > 1:
        candidates.sort()
    for _, rule, pattern, needs_capitals in candidates:
        if pattern.search(line if needs_capitals else lowered):
            return rule
    return None
