"""The structure of one copied page: header (headline, timestamp, furniture), body, tail.

Line rules say what a line looks like; this module decides what it is from where it stands: the
headline is the first headline-shaped line above the body, the body starts at the dateline (or the
first paragraph-shaped line), and the tail starts at the first list/comment/embed marker after which
nothing paragraph-shaped remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .metadata import (DAY_FIRST_DATE, ROLE_WORDS, Dateline, Timestamp, outlet_in, parse_dateline, parse_signoff,
                       parse_timestamp_line)
from .records import RemovedLine
from .rules import INLINE_READ_MORE, TAIL_RULES, classify_lines

HEADER_SEARCH = 15
PROSE_WORDS = 15
SENTENCE_END = ("." , "!", "?", "…", '"', "”", "’", ")")
SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
INVISIBLE = re.compile(r"[\u200b\ufeff\u2060\u00ad]")


@dataclass(slots=True)
class Line:
    number: int
    text: str
    rule: str | None = None
    removed_prefix: str = ""
    removed_suffix: str = ""
    suffix_rule: str = ""


@dataclass
class Page:
    lines: list[Line]
    title: str | None = None
    dateline: Dateline | None = None
    timestamps: list[Timestamp] = field(default_factory=list)
    timestamp_lines: list[int] = field(default_factory=list)  # the index in `lines` of each of `timestamps`
    tail_start: int | None = None  # the index in `lines` where the furniture after the article starts
    signoff_outlet: str | None = None

    def own_timestamps(self) -> list[Timestamp]:
        """The page's timestamps above its tail: below it, they date the other articles a related list links to."""
        if self.tail_start is None:
            return self.timestamps
        return [stamp for stamp, at in zip(self.timestamps, self.timestamp_lines) if at < self.tail_start]

    @property
    def kept(self) -> list[Line]:
        return [line for line in self.lines if line.rule is None]

    def body_text(self) -> str:
        return "\n\n".join(line.text for line in self.kept)

    def removed(self) -> list[RemovedLine]:
        out: list[RemovedLine] = []
        for line in self.lines:
            if line.rule is not None:
                out.append(RemovedLine(line.number, line.rule, line.text))
                continue
            if line.removed_prefix:
                out.append(RemovedLine(line.number, "dateline", line.removed_prefix.strip()))
            if line.removed_suffix:
                out.append(RemovedLine(line.number, line.suffix_rule, line.removed_suffix.strip()))
        return out


# SPACES' characters other than a space: with two spaces in a row, what SPACES would change
ODD_SPACES = re.compile(r"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
FOLDABLE = re.compile(r"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000\u200b\ufeff\u2060\u00ad]")  # ODD_SPACES' and INVISIBLE's


def _fold(text: str) -> str:
    """Invisible characters removed and runs of spaces folded to one; newlines are left alone.

    Most pages need neither, and SPACES.sub would rewrite every single space of one, so a substring
    test and a one-class search decide first (one regex of both alternatives tried them at every
    position: 56-81 µs a page against 15)."""
    if "  " not in text and not FOLDABLE.search(text):
        return text
    text = INVISIBLE.sub("", text)
    if "  " in text or ODD_SPACES.search(text):
        text = SPACES.sub(" ", text)
    return text


def clean_line(text: str) -> str:
    return _fold(text).strip()


def split_lines(text: str) -> list[Line]:
    """Numbered non-blank lines (1-based numbers of the decoded text), each as `clean_line` gives it.

    Folded as one text before splitting (neither pattern touches a newline): two regex passes a
    page instead of two a line."""
    return [Line(number, cleaned) for number, raw in enumerate(_fold(text).split("\n"), start=1)
            if (cleaned := raw.strip())]


def words(text: str) -> int:
    return len(text.split())


def is_headline_shaped(text: str) -> bool:
    return 2 <= words(text) <= 30 and len(text) <= 250 and not text.endswith((".", ":", ",", ";"))


def is_title_case(tokens: list[str]) -> bool:
    """Headlines of linked articles capitalise most words; running prose does not."""
    initials = [token[0] for token in tokens if token[0].isalpha()]
    return len(initials) >= 3 and len([c for c in initials if c.isupper()]) / len(initials) >= 0.6


def is_paragraph_shaped(text: str) -> bool:
    """Long, or a sentence, and not capitalised like a linked headline."""
    tokens = text.split()  # split once for both tests: this runs on most lines of a page
    n = len(tokens)
    return (n >= 30 or (n >= 12 and text.endswith(SENTENCE_END))) and not is_title_case(tokens)


def could_open_the_body(text: str) -> bool:
    """`is_paragraph_shaped`, or a sentence of PROSE_WORDS or more ending in a full stop however many names it holds
    (`Presiden Joko Widodo meresmikan Bendungan ...`): where no dateline marks the body, its first paragraph.
    Only there: at the tail, a capitalised footer (`Copyright 2008 - 2024 PT. Kompas Cyber Media ...`) is no paragraph."""
    if is_paragraph_shaped(text):
        return True
    return text.endswith(".") and len(text.split()) >= PROSE_WORDS


def analyse(text: str) -> Page:
    page = Page(split_lines(text))
    mark_line_rules(page)
    mark_duplicates(page)
    body_start = find_body_start(page)
    title_at = title_index(page, body_start)
    if page.dateline is None:
        body_start = with_opening_lines(page, body_start, title_at)
    unmark_sentences_below(page, body_start)
    mark_header(page, body_start, title_at)
    mark_tail(page, body_start)
    strip_inline_read_more(page)
    return page


def mark_line_rules(page: Page) -> None:
    for index, (line, rule) in enumerate(zip(page.lines, classify_lines([line.text for line in page.lines]))):
        stamp = parse_timestamp_line(line.text)
        if stamp is not None:
            line.rule = "timestamp"
            page.timestamps.append(stamp)
            page.timestamp_lines.append(index)
            continue
        line.rule = rule


def unmark_sentences_below(page: Page, body_start: int) -> None:
    """A timestamp that ends in a full stop is the page's above the body; below, a sentence of its own (a book's or a
    regulation's `Diterbitkan: 5 Januari 2024.`), article text."""
    for k in reversed(range(len(page.timestamps))):
        if page.timestamps[k].ends_a_sentence and page.timestamp_lines[k] >= body_start:
            page.lines[page.timestamp_lines[k]].rule = None
            del page.timestamps[k], page.timestamp_lines[k]


def mark_duplicates(page: Page) -> None:
    previous: Line | None = None
    for line in page.lines:
        if previous is not None and line.text == previous.text and previous.rule != "title":
            line.rule = line.rule or previous.rule or "duplicate"
            if previous.rule is None and line.rule != "duplicate":
                previous.rule = line.rule
        previous = line


def find_body_start(page: Page) -> int:
    """Index of the first body line: the dateline paragraph, else the first paragraph-shaped line, among the
    first HEADER_SEARCH kept lines. When none of those is either (a site menu longer than that), a dateline
    among the kept lines up to the HEADER_SEARCH-th of three words or more; a paragraph there only when the page
    opens with MENU_LINES lines of one or two words (a site menu), since other short lines above a late paragraph
    may be the article's own (a poem, a recipe's ingredients)."""
    kept = [i for i, line in enumerate(page.lines) if line.rule is None]
    start = _body_start_among(page, kept[:HEADER_SEARCH])
    if start is None and len(kept) > HEADER_SEARCH:
        opens_with_menu = all(page.lines[i].text.count(" ") <= 1 for i in kept[:MENU_LINES])
        start = _body_start_among(page, _past_short_lines(page, kept), paragraphs=opens_with_menu)
    if start is None:
        return kept[0] if kept else len(page.lines)
    return start


def _past_short_lines(page: Page, kept: list[int]) -> list[int]:
    candidates, budget = [], HEADER_SEARCH
    for i in kept:
        if page.lines[i].text.count(" ") >= 2:
            if not budget:
                break
            budget -= 1
        candidates.append(i)
    return candidates


def _take_dateline(page: Page, i: int, dateline: Dateline) -> None:
    page.dateline = dateline
    line = page.lines[i]
    line.removed_prefix = dateline.prefix
    line.text = line.text[len(dateline.prefix):]


def _body_start_among(page: Page, candidates: list[int], paragraphs: bool = True) -> int | None:
    """The dateline's index, else (with `paragraphs`) the first paragraph-shaped line's. A weak dateline
    (`Jakarta - `, mixed case, no outlet) counts only where it opens the first paragraph: further down, a
    sentence that starts with a place and a dash is not one, nor is a short list item (`Jakarta - Rp 5 juta`).
    Nor does one in capitals shaped like an acronym (`PDIP - Partai ...`) further down."""
    for position, i in enumerate(candidates):
        dateline = parse_dateline(page.lines[i].text)
        if dateline is None:
            continue
        if dateline.weak and not could_open_the_body(page.lines[i].text):
            continue  # `Jakarta - Cerah berawan` in a weather list
        if ((dateline.weak or dateline.acronym_like)
                and any(is_paragraph_shaped(page.lines[j].text) for j in candidates[:position])):
            continue  # a sentence further down
        _take_dateline(page, i, dateline)
        return i
    if paragraphs:
        for i in candidates:
            if could_open_the_body(page.lines[i].text):
                return i
    return None


OPENING_END = (".", "!", "?", '"', "”", "’")
NUMBERED_ITEM = re.compile(r"^\d{1,2}[.)]\s+\S")
OPENING_WORDS = 4
# a line about the page itself (`Artikel ini telah diperbarui.`, `Klik untuk membaca selengkapnya.`) is a notice
ABOUT_THE_PAGE = re.compile(r"\b(?:artikel|berita|konten|tulisan|audio|halaman)\s+ini\b|\b(?:klik|berlangganan|langganan|"
                            r"selengkapnya|login)\b|^masuk\s+untuk\b", re.IGNORECASE)
# a date and a time of day, in the shapes pages print them: a line that is little more than that is the page's own
# (`12 Mar 2024, 10.00 WIB.`), not a lead (`Harga beras naik pada 12 Maret 2024.`) nor a diary's day (`Rabu, 13 Maret 2024.`)
DATE = re.compile(DAY_FIRST_DATE, re.IGNORECASE)
TIME_OF_DAY = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
PAGE_DATE_WORDS = 1
PAGE_DATE_FILLERS = frozenset({"pada", "tanggal", "tgl", "on", "pukul", "jam", "at", "wib", "wita", "wit", "gmt", "utc"})


def is_a_page_date(line: str) -> bool:
    """A date, a time of day and at most PAGE_DATE_WORDS word besides (`Selasa, 12 Mar 2024, 10.00 WIB.`, `Diunggah
    12/03/2024 10:00`); digits, punctuation, zones and fillers (`pada`, `pukul`) are no words."""
    found = DATE.search(line)
    if found is None or TIME_OF_DAY.search(line, found.end()) is None:
        return False
    around = (line[: found.start()] + " " + line[found.end() :]).split()
    words = [token.strip(".,:;|()").casefold() for token in around if any(c.isalpha() for c in token)]
    return sum(1 for word in words if word not in PAGE_DATE_FILLERS) <= PAGE_DATE_WORDS


def _opens_the_article(line: str, below: str) -> bool:
    """A short line that may be the article's own first words: a sentence of OPENING_WORDS or more that ends like
    one (not in `...`, `)` or `:` as captions, widgets and box headings do) and is more than the page's date, a
    numbered item, or a list's intro (`Berikut faktanya:`) above one; never capitalised like a headline."""
    tokens = line.split()
    if is_title_case(tokens):
        return False  # a linked headline, a teaser or a second headline
    if NUMBERED_ITEM.match(line):
        return True
    if line.endswith(":"):
        return NUMBERED_ITEM.match(below) is not None
    return (len(tokens) >= OPENING_WORDS and line.endswith(OPENING_END) and not line.endswith(("...", "…"))
            and ABOUT_THE_PAGE.search(line) is None and not is_a_page_date(line))


def with_opening_lines(page: Page, body_start: int, title_at: int | None) -> int:
    """Without a dateline to mark it, the article may open with short lines above its first paragraph: a one-line
    lead, a quote, a list's intro and numbered items. Such lines right above the body join it when nothing but the
    headline or recognised furniture (a timestamp, a byline) stands above them: below an unexplained line (an
    unrecognised date too) they are more likely a box (key points, a summary, a caption) than the article. The
    lines stop below the headline (`title_at`), so it stays the headline of the longer body."""
    if any(line.rule == "ai_summary" for line in page.lines[:body_start]):
        return body_start  # the summary's sentences stand above the body on purpose
    floor = -1 if title_at is None else title_at
    start = body_start
    while start - 1 > floor:
        line = page.lines[start - 1]
        if line.rule is not None or not _opens_the_article(line.text, page.lines[start].text):
            break
        start -= 1
    above = page.lines[start - 1] if start > 0 else None
    if start < body_start and above is not None and start - 1 != title_at and above.rule is None:
        return body_start
    if start < body_start and (dateline := parse_dateline(page.lines[start].text)) is not None:
        _take_dateline(page, start, dateline)  # `Jakarta - Harga beras naik lagi.`: a one-line lead under its dateline
    return start


MENU_LINES = 8
BREADCRUMB = re.compile(r"\s(?:>>?|›|»)\s")  # `Home > Internasional`, `Beranda › News`, `Home >> Bola`


# `/`, `|` and a spaced dash also cut headlines (`Biden - Putin Bertemu`): a path only of short parts, three or more
# of them or starting at the site's root (`Home | News | Nasional`, `Beranda / Berita`)
PATH_SEPARATOR = re.compile(r"\s[/|\-–]\s")
CRUMB_ROOTS = frozenset({"home", "beranda", "index", "indeks", "news", "berita"})


def is_breadcrumb(text: str) -> bool:
    """A line cut by `>`, `›` or `»` whose first part is short, or a path of short parts cut by `/`, `|` or ` - `;
    only ever asked of lines above the body."""
    if BREADCRUMB.search(text) is not None:
        return len(BREADCRUMB.split(text, 1)[0].split()) <= 3
    parts = PATH_SEPARATOR.split(text)
    return (len(parts) >= 2 and all(1 <= len(part.split()) <= 3 for part in parts)
            and (len(parts) >= 3 or parts[0].strip().casefold() in CRUMB_ROOTS))


CHANNEL_WORDS = frozenset({"foto", "tv", "news", "video", "sport", "sports", "bisnis", "ekonomi", "nasional",
                           "internasional", "regional", "plus", "premium", "live"})


def is_masthead(text: str) -> bool:
    """An outlet's name, alone or with a channel word (`CNN Indonesia`, `ANTARA FOTO`, `Kompas TV`): never the headline."""
    if outlet_in(text):
        return True
    head, _, last = text.rpartition(" ")
    return bool(head) and last.casefold() in CHANNEL_WORDS and outlet_in(head) is not None


# Words of section names and kickers (`Liga Inggris`, `Cek Fakta`, `Berita Utama`, `Ekonomi Makro`, `Jawa Barat`): a
# short line made only of them names a part of the site, not the story
RUBRIC_WORDS = frozenset("""
    berita utama terkini terbaru terpopuler populer pilihan editor nasional internasional dunia global regional daerah
    nusantara metro megapolitan jabodetabek ekonomi bisnis keuangan finansial makro mikro market pasar saham properti
    energi industri umkm politik hukum kriminal peristiwa pemilu pilkada pilpres olahraga sport sports bola sepak liga
    inggris italia spanyol jerman prancis belanda champions eropa asia timnas motogp f1 badminton basket tekno teknologi
    sains gadget otomotif gaya hidup lifestyle hiburan seleb selebriti musik film kesehatan health edukasi pendidikan
    kampus travel wisata kuliner food opini kolom editorial tajuk rencana cek fakta hoaks sosial budaya humaniora agama
    islami ramadan ramadhan haji infografis foto video news world business headline analisis fokus laporan khusus
    siaran pers rilis jatim jateng jabar sumut sulsel ntt ntb diy
    jawa barat timur tengah utara selatan sumatera kalimantan sulawesi papua bali aceh riau banten lampung jambi
    bengkulu maluku gorontalo yogyakarta dki jakarta nusa tenggara bangka belitung kepulauan luar negeri indonesia
""".split())


def is_rubric(text: str) -> bool:
    """A line of two or three words that are all RUBRIC_WORDS (or a number: `Liga 1`): a section name or kicker."""
    tokens = [token.strip(".:|") for token in text.casefold().split()]
    return (2 <= len(tokens) <= 3 and any(token in RUBRIC_WORDS for token in tokens)
            and all(token in RUBRIC_WORDS or token.isdigit() for token in tokens))


HEADLINE_WORDS = 4
NAME_WORDS = 5  # `I Gusti Ngurah Putra Wirawan`: longer, capitalised words are a headline (`Mengapa Harga Beras Tak ...`)
# words a headline in title case leaves in lower case
FUNCTION_WORDS = frozenset("""di ke dari dan yang untuk dengan pada atau oleh dalam bagi sebagai karena akan agar
    hingga soal usai jelang vs of the and for in on at to a""".split())
# how a credit, not a headline, starts: `Oleh Muhammad Rizky`, `Prof. Dr. Hikmahanto Juwana`, `Foto: ...`
CREDIT_START = re.compile(r"^(?:oleh|ditulis|penulis|reporter|editor|foto|prof|dr|ir|drs|hj?|kh)\b", re.IGNORECASE)


def reads_as_headline(text: str) -> bool:
    """What a rubric stands above: HEADLINE_WORDS words or more, every one capitalised but FUNCTION_WORDS, and more
    than a name (longer than NAME_WORDS, or a function word, a figure or a headline's punctuation in it); not a
    credit, a byline that names its outlet, a photo credit or `Name, Role`. Under a headline of rubric words
    (`Politik Luar Negeri`) the next line is most often its columnist (`Prof. Dr. Hikmahanto Juwana`)."""
    tokens = text.split()
    if sum(1 for token in tokens if any(c.isalnum() for c in token)) < HEADLINE_WORDS or CREDIT_START.match(text):
        return False
    if "/" in text or any(token[0].isalpha() and token[0].islower() and token.casefold() not in FUNCTION_WORDS
                          for token in tokens):
        return False
    last = PATH_SEPARATOR.split(text)[-1]  # `Ahmad Fauzi - detikNews`, `Anggi Permana | CNN Indonesia`
    if last != text and is_masthead(last):
        return False
    role = text.partition(", ")[2].split()[:1]
    if role and role[0].casefold() in ROLE_WORDS:
        return False
    return len(tokens) > NAME_WORDS or any(token.casefold() in FUNCTION_WORDS or any(c.isdigit() for c in token)
                                           or token[-1] in "?!:,\"”" for token in tokens)


def title_index(page: Page, body_start: int) -> int | None:
    """The headline: the first headline-shaped kept line above the body (and above any AI summary); but
    below MENU_LINES or more lines of one or two words (a site menu: `Luar Negeri`, `Gaya Hidup`), the first
    one of three words or more, if there is one; and below a rubric (`Liga Inggris`, `Cek Fakta`), the next
    headline-shaped line if it `reads_as_headline`, else the rubric itself (`Budaya Politik` over its columnist's
    name is a column's headline)."""
    two_words: int | None = None
    rubric: int | None = None
    below_rubric = False  # a headline-shaped line stands between the rubric and here
    short = 0
    for i, line in enumerate(page.lines[:body_start]):
        if line.rule == "ai_summary":
            break
        if line.rule is not None:
            continue
        if line.text.count(" ") <= 1:
            short += 1
        if not is_headline_shaped(line.text) or is_breadcrumb(line.text) or is_masthead(line.text):
            continue
        if is_rubric(line.text):
            if rubric is None and two_words is None:
                rubric = i
        elif line.text.count(" ") >= 2:
            if short >= MENU_LINES:
                return i
            if two_words is not None:
                return two_words
            if rubric is not None and (below_rubric or not reads_as_headline(line.text)):
                return rubric
            return i
        elif rubric is not None:
            below_rubric = True
        elif two_words is None:
            two_words = i
    return two_words if two_words is not None else rubric


def mark_header(page: Page, body_start: int, title_at: int | None) -> None:
    """Above the body: the headline (`title_at`, from `title_index`) is the title; nothing else up there is article text."""
    after_ai_disclaimer = False
    for i, line in enumerate(page.lines[:body_start]):
        is_title_repeat = page.title is not None and line.text.casefold() == page.title.casefold()
        if line.rule == "ai_summary":
            after_ai_disclaimer = True
        elif is_title_repeat and line.rule in (None, "duplicate"):
            line.rule = "title"
        elif line.rule is None:
            if after_ai_disclaimer:
                line.rule = "ai_summary"
            elif i == title_at:
                page.title, line.rule = line.text, "title"
            elif is_breadcrumb(line.text):
                line.rule = "navigation"
            elif page.title is not None and not any(l.rule == "subtitle" for l in page.lines[:body_start]):
                line.rule = "subtitle"
            else:
                line.rule = "header"
    if page.title is not None:
        for line in page.lines[body_start:]:
            if line.rule is None and line.text.casefold() == page.title.casefold():
                line.rule = "title"


def mark_tail(page: Page, body_start: int) -> None:
    """Everything after the article's end is furniture; the end is the last marker with no paragraph after it."""
    body = page.lines[body_start:]
    tail_from: int | None = None
    tail_rule = "tail"
    for i, line in enumerate(body):
        if line.rule is None:
            signoff = parse_signoff(line.text)
            if signoff is not None and i > 0:
                suffix, outlet = signoff
                line.removed_suffix, line.suffix_rule = suffix, "signoff"
                line.text = line.text[: len(line.text) - len(suffix)]
                page.signoff_outlet = outlet
                tail_from, tail_rule = i + 1, "tail"
                break
    if tail_from is None:
        last_paragraph = -1  # index of the last kept paragraph-shaped line: a marker after it ends the article
        for i in range(len(body) - 1, -1, -1):
            if body[i].rule is None and is_paragraph_shaped(body[i].text):
                last_paragraph = i
                break
        for i, line in enumerate(body):
            if line.rule in TAIL_RULES and i >= last_paragraph:
                tail_from, tail_rule = i, line.rule or "tail"
                break
    if tail_from is None:
        return
    page.tail_start = body_start + tail_from
    for line in body[tail_from:]:
        if line.rule in (None, "duplicate"):
            line.rule = tail_rule if tail_rule in ("related_list", "embed") else "tail"
        elif line.rule in ("related_list", "embed"):
            tail_rule = line.rule


def strip_inline_read_more(page: Page) -> None:
    for line in page.kept:
        if ":" not in line.text or "juga" not in line.text.lower():  # the pattern's fixed parts: its search is slow
            continue
        match = INLINE_READ_MORE.search(line.text)
        if match and match.start() > 0 and not line.removed_suffix:
            line.removed_suffix, line.suffix_rule = line.text[match.start():], "read_more"
            line.text = line.text[: match.start()]
