"""Metadata a news page states about itself: outlet, dateline, publication time, credited sources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import ahocorasick_rs

# Domain -> the name the outlet uses for itself. Unknown domains fall back to `canonical_outlet`'s rule.
OUTLETS_BY_DOMAIN: dict[str, str] = {
    "kompas.com": "Kompas.com", "kompas.id": "Kompas.id", "liputan6.com": "Liputan6.com", "bisnis.com": "Bisnis.com",
    "rappler.com": "Rappler", "tempo.co": "Tempo.co", "cnnindonesia.com": "CNN Indonesia", "detik.com": "detikcom",
    "detiknews.com": "detikcom", "tribunnews.com": "Tribunnews.com", "antaranews.com": "ANTARA", "okezone.com": "Okezone",
    "sindonews.com": "SINDOnews", "republika.co.id": "Republika", "voi.id": "VOI", "kumparan.com": "kumparan",
    "suara.com": "Suara.com", "merdeka.com": "Merdeka.com", "idntimes.com": "IDN Times", "cnbcindonesia.com": "CNBC Indonesia",
    "jpnn.com": "JPNN.com", "beritasatu.com": "Beritasatu.com", "mediaindonesia.com": "Media Indonesia",
    "thejakartapost.com": "The Jakarta Post", "viva.co.id": "VIVA", "inews.id": "iNews.id", "katadata.co.id": "Katadata",
    "tirto.id": "Tirto.id", "kontan.co.id": "Kontan.co.id", "jawapos.com": "JawaPos.com",
}
OUTLETS_BY_NAME: dict[str, str] = {
    "cnn indonesia": "CNN Indonesia", "antara": "ANTARA", "rappler": "Rappler", "tempo": "Tempo.co", "kompas": "Kompas.com",
    "detikcom": "detikcom", "kumparan": "kumparan", "republika": "Republika", "voi": "VOI", "idn times": "IDN Times",
    "cnbc indonesia": "CNBC Indonesia", "media indonesia": "Media Indonesia", "the jakarta post": "The Jakarta Post",
    "viva": "VIVA", "okezone": "Okezone", "sindonews": "SINDOnews", "inews": "iNews.id", "katadata": "Katadata",
    "tirto": "Tirto.id", "jawapos": "JawaPos.com",
}
# News agencies and outlets that Indonesian articles credit as their source.
WIRE_SOURCES: dict[str, str] = {
    name.lower(): name
    for name in [
        "Reuters", "AFP", "AP", "Associated Press", "BBC", "BBC News", "TASS", "RIA Novosti", "Interfax", "Sputnik", "Xinhua",
        "Kyodo", "Yonhap", "Bloomberg", "CNN", "Al Jazeera", "ANTARA", "Anadolu", "Anadolu Agency", "dpa", "EFE", "ANSA",
        "The Guardian", "Guardian", "New York Times", "The New York Times", "Washington Post", "The Washington Post",
        "South China Morning Post", "CNBC", "Fox News", "NBC News", "ABC News", "Politico", "Axios", "Deutsche Welle", "DW",
        "RT", "Ukrinform", "Kyiv Independent", "Financial Times", "Wall Street Journal", "The Wall Street Journal", "NHK",
        "Channel News Asia", "CNA", "Straits Times", "The Straits Times", "Sky News", "The Independent", "Nikkei", "Bernama",
        "CNN Indonesia", "CNBC Indonesia",
    ]
}

DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:com|co|id|net|org|news|tv|my|sg|uk)(?:\.(?:id|uk|my|sg))?$", re.IGNORECASE)
DASH = r"(?:--|-|–|—)"
DASH_CHARS = "-–—"  # DASH's characters
ZONES: dict[str, timedelta] = {"WIB": timedelta(hours=7), "WITA": timedelta(hours=8), "WIT": timedelta(hours=9),
                               "GMT": timedelta(0), "UTC": timedelta(0)}


def is_domain(token: str) -> bool:
    return bool(DOMAIN.match(token.strip()))


def canonical_outlet(name: str) -> str:
    """`KOMPAS.com`, `kompas.com` and `Kompas` are one outlet; an unknown domain keeps its name, capitalised."""
    key = name.strip().strip(".").lower()
    key = key[4:] if key.startswith("www.") else key
    if key in OUTLETS_BY_DOMAIN:
        return OUTLETS_BY_DOMAIN[key]
    if key in OUTLETS_BY_NAME:
        return OUTLETS_BY_NAME[key]
    if is_domain(key):
        return key[:1].upper() + key[1:]
    return name.strip()


def outlet_in(text: str) -> str | None:
    """The outlet named by a short piece of text (a dateline part, a sign-off), if it names one."""
    candidate = text.strip()
    if is_domain(candidate) or candidate.lower() in OUTLETS_BY_NAME:
        return canonical_outlet(candidate)
    return None


# ---- publication time -------------------------------------------------------------------------

WEEKDAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "sabtu": 5, "minggu": 6, "ahad": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}
MONTH_WORD = (r"(?:jan(?:uari|uary)?|feb(?:ruari|ruary)?|mar(?:et|ch)?|apr(?:il)?|mei|may|jun(?:i|e)?|jul(?:i|y)?|"
              r"agu(?:stus)?|agt|aug(?:ust)?|sep(?:tember)?|sept|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|nop(?:ember)?|"
              r"des(?:ember)?|dec(?:ember)?)\.?")
# how pages print a day, day first (`12/03/2024`, `2024-03-12`, `12 Maret 2024`); a timestamp line also takes
# `March 12, 2024`, and the page module finds the page's own date by it
DAY_FIRST_DATE = r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+" + MONTH_WORD + r"\s+\d{4}"
TIMESTAMP_LINE = re.compile(
    r"^[\s•·|*-]*"
    r"(?:(?P<outlet>[\w.]+(?:\s[\w.]+){0,2})\s*" + DASH + r"\s*)?"
    r"(?:(?:terakhir\s+|last\s+)?"
    r"(?P<label>diterbitkan|dipublikasikan|diperbarui|diperbaharui|terbit|published|updated|posted|dibuat)"
    r"\s*:?\s*(?:pada\s+|on\s+)?)?"
    r"(?:(?P<weekday>[A-Za-z'’]+)\s*,?\s*)?"
    r"(?P<date>" + DAY_FIRST_DATE + "|" + MONTH_WORD + r"\s+\d{1,2},?\s+\d{4})"
    r"(?:\s*[,|-]?\s*(?:pukul|jam|at)?\s*(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.]\d{2})?)?"
    r"\s*(?P<zone>WIB|WITA|WIT|GMT|UTC)?\s*(?P<stop>\.)?\s*$",  # `Dipublikasikan 12 Maret 2024.` ends a sentence
    re.IGNORECASE,
)
UPDATE_LABELS = {"diperbarui", "diperbaharui", "updated"}
# every date form of TIMESTAMP_LINE has four digits in a row; spelt out, the search is a third cheaper than `\d{4}`
YEAR_DIGITS = re.compile(r"\d\d\d\d")
# ... and ends in a digit or in a zone's last letter (WIB, WITA, WIT, GMT, UTC; no other character matches these
# under IGNORECASE), before a full stop and trailing whitespace
ZONE_LAST_LETTERS = frozenset("bBaAtTcC")


def could_be_timestamp(line: str) -> bool:
    """False for a line TIMESTAMP_LINE cannot match, told from its length, a year and its last character.

    A headline that quotes a year (`Kisah Insiden Kacang 2014: ...`) fails at its last letter instead of
    after TIMESTAMP_LINE's backtracking through outlet, label and weekday (4.4 µs a line)."""
    if len(line) > 100:
        return False
    line = line.rstrip()
    last = line[:-1].rstrip()[-1:] if line.endswith(".") else line[-1:]
    return (last.isdigit() or last in ZONE_LAST_LETTERS) and YEAR_DIGITS.search(line) is not None


@dataclass(frozen=True)
class Timestamp:
    """A publication time stated by the page; `at` is None when it states no time of day or no zone."""

    day: date
    at: datetime | None
    outlet: str | None
    is_update: bool
    warning: str | None = None
    ends_a_sentence: bool = False  # `Diterbitkan: 5 Januari 2024.`: the page's own above the body, a box's in it


@lru_cache(maxsize=1)
def _date_parser():
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["id", "en"], settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"})


MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "mei": 5, "may": 5, "jun": 6, "jul": 7, "agu": 8, "agt": 8, "aug": 8,
          "sep": 9, "okt": 10, "oct": 10, "nov": 11, "nop": 11, "des": 12, "dec": 12}
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})")
MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})")


@lru_cache(maxsize=8192)
def _parse_day(text: str) -> date | None:
    """The calendar day a date text names. Month words the recognizer admits map directly (dateparser
    costs milliseconds a call); anything else goes to dateparser."""
    numeric = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    worded = DAY_MONTH_YEAR.fullmatch(text)
    us_style = MONTH_DAY_YEAR.fullmatch(text)
    try:
        if numeric:
            day, month, year = (int(g) for g in numeric.groups())
            return date(year, month, day)
        if worded and worded[2][:3].lower() in MONTHS:
            return date(int(worded[3]), MONTHS[worded[2][:3].lower()], int(worded[1]))
        if us_style and us_style[1][:3].lower() in MONTHS:
            return date(int(us_style[3]), MONTHS[us_style[1][:3].lower()], int(us_style[2]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        return None
    parsed = _date_parser().get_date_data(text).date_obj
    return parsed.date() if parsed else None


def parse_timestamp_line(line: str) -> Timestamp | None:
    """Recognise a line that is only a page timestamp (`Kompas.com - 31/12/2021, 10:00 WIB`, `• November 24, 2024`)."""
    if not could_be_timestamp(line):
        return None
    match = TIMESTAMP_LINE.match(line)
    if not match:
        return _published_then_updated(line)
    weekday = (match["weekday"] or "").lower().replace("’", "'")  # `Jum’at` as typeset
    if weekday and weekday not in WEEKDAYS:
        return None
    if match["stop"] and not (match["label"] or match["outlet"]):
        return None  # `Minggu, 4 Februari 2024.`, `Selasa, 12 Desember 2023, pukul 19.00 WIB.`: an agenda's dates
    outlet = match["outlet"]
    if outlet and not outlet_in(outlet):
        return None
    day = _parse_day(match["date"])
    if day is None:
        return None
    warning = None
    if weekday and WEEKDAYS[weekday] != day.weekday():
        warning = f"weekday {match['weekday']!r} does not fall on {day.isoformat()}: publication time not trusted"
    at = None
    if match["hour"] is not None and match["zone"] and match["zone"].upper() in ZONES and warning is None:
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour < 24 and minute < 60:
            zone = timezone(ZONES[match["zone"].upper()], match["zone"].upper())
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return Timestamp(
        day=day,
        at=at,
        outlet=outlet_in(outlet) if outlet else None,
        is_update=(match["label"] or "").lower() in UPDATE_LABELS,
        warning=warning,
        ends_a_sentence=match["stop"] is not None,
    )


UPDATED_AFTER = re.compile(r"\s*[|·•,\-–—]?\s+(?=(?:diperbarui|diperbaharui|updated)\b)", re.IGNORECASE)


def _published_then_updated(line: str) -> Timestamp | None:
    """`Kompas.com - 12/03/2024, 10:00 WIB Diperbarui 12/03/2024, 11:05 WIB`: both times on one line, the
    publication first. Left unread, its `Kompas.com - ` passed for a dateline and the time stayed in the text."""
    lowered = line.lower()
    if "diperba" not in lowered and "updated" not in lowered:
        return None
    cut = UPDATED_AFTER.search(line)
    if cut is None or cut.start() == 0:
        return None
    published, updated = parse_timestamp_line(line[: cut.start()]), parse_timestamp_line(line[cut.end():])
    return published if published is not None and updated is not None and updated.is_update else None


# ---- dateline and sign-off --------------------------------------------------------------------

DATELINE_HEAD = 70
DATELINE = re.compile(r"^(?P<head>[^\n]{2,%d}?)\s*" % DATELINE_HEAD + DASH + r"\s+(?=\S)")
PLACE_TOKEN = re.compile(r"^(?:[A-Z][\w.'’]*|D\.C\.?|\d+)$")


# Places an outlet-less dateline names in mixed case (detik's `Jakarta - `): a capitalised head that is
# not one of them (`Presiden Joko Widodo - yang ...`) is a name, not a dateline. Capitals of the
# provinces, large cities, and the world's capitals and news cities as Indonesian outlets spell them.
DATELINE_PLACES = frozenset(place.casefold() for place in (
    "Jakarta", "Bandung", "Surabaya", "Semarang", "Yogyakarta", "Medan", "Makassar", "Palembang", "Denpasar", "Bogor",
    "Depok", "Tangerang", "Tangerang Selatan", "Bekasi", "Malang", "Solo", "Surakarta", "Padang", "Pekanbaru", "Batam",
    "Banda Aceh", "Pontianak", "Balikpapan", "Samarinda", "Banjarmasin", "Palangka Raya", "Manado", "Kupang", "Mataram",
    "Ambon", "Jayapura", "Kendari", "Palu", "Gorontalo", "Mamuju", "Jambi", "Bengkulu", "Bandar Lampung", "Pangkalpinang",
    "Tanjungpinang", "Serang", "Sofifi", "Ternate", "Manokwari", "Sorong", "Merauke", "Tarakan", "Tanjung Selor",
    "Cirebon", "Tasikmalaya", "Sukabumi", "Kediri", "Jember", "Banyuwangi", "Sleman", "Bantul", "Magelang", "Tegal",
    "Pekalongan", "Purwokerto", "Cilacap", "Madiun", "Sidoarjo", "Gresik", "Mojokerto", "Probolinggo", "Pasuruan", "Garut",
    "Karawang", "Purwakarta", "Cianjur", "Cikarang", "Lampung", "Bali", "Badung", "Gianyar", "Nusa Dua", "Labuan Bajo",
    "Lombok", "Nusantara", "Washington", "Washington DC", "Washington D.C.", "D.C.", "DC", "New York", "New York City", "Los Angeles",
    "Jakarta Pusat", "Jakarta Selatan", "Jakarta Barat", "Jakarta Timur", "Jakarta Utara", "Moskow", "Moscow", "Kiev", "Kyiv",
    "Kharkiv", "Beijing", "Shanghai", "Hong Kong", "Taipei", "Tokyo", "Seoul", "Pyongyang", "Singapura", "Kuala Lumpur",
    "Bangkok", "Manila", "Hanoi", "Phnom Penh", "Yangon", "Naypyidaw", "Dili", "Canberra", "Sydney", "Wellington",
    "London", "Paris", "Berlin", "Brussel", "Brussels", "Jenewa", "Geneva", "Wina", "Roma", "Madrid", "Lisbon", "Den Haag",
    "Amsterdam", "Warsawa", "Minsk", "Helsinki", "Stockholm", "Oslo", "Kopenhagen", "Ankara", "Istanbul", "Teheran",
    "Riyadh", "Jeddah", "Mekkah", "Madinah", "Doha", "Dubai", "Abu Dhabi", "Kairo", "Yerusalem", "Tel Aviv", "Gaza",
    "Beirut", "Damaskus", "Baghdad", "Kabul", "Islamabad", "New Delhi", "Dhaka", "Colombo", "Ottawa", "Havana",
    "Mexico City", "Brasilia", "Buenos Aires", "Santiago", "Johannesburg", "Nairobi", "Davos", "Vatikan", "Glasgow",
))
# the outlet in brackets after the place (and before any wire it credits): `Jakarta (ANTARA/Reuters)`
BRACKETED_OUTLET = re.compile(r"^(?P<place>[^()]*?)\s*\((?P<outlet>[^()/]+)(?:/[^()]*)?\)$")


@dataclass(frozen=True)
class Dateline:
    prefix: str
    place: str | None
    outlet: str | None
    weak: bool = False  # a mixed-case known place and no outlet (`Jakarta - `): a dateline only at the body's start
    acronym_like: bool = False  # capitals shaped or spelt out like an acronym (`PDIP - `, `KONI - Komite ...`), no outlet,
    # no listed place: a dateline above every paragraph only


def could_be_dateline(paragraph: str) -> bool:
    """False only where DATELINE cannot match: it needs a dash after at most 70 characters and then whitespace.

    Its lazy head tries each of its 70 lengths on a paragraph without one (~3 µs); three substring
    scans say so first."""
    found = [at for at in map(paragraph.find, DASH_CHARS) if at >= 0]
    if not found:
        return False
    first = min(found)
    return first <= DATELINE_HEAD or paragraph[DATELINE_HEAD:first].isspace()


def parse_dateline(paragraph: str) -> Dateline | None:
    """`MOSCOW, KOMPAS.com - `, `Bisnis.com, JAKARTA - `, `Jakarta, CNN Indonesia -- `, `JAKARTA - `, `Jakarta - ` (a
    known place: `DATELINE_PLACES`) at a paragraph's start."""
    match = DATELINE.match(paragraph) if could_be_dateline(paragraph) else None
    if not match:
        return None
    head = match["head"]
    bracketed = BRACKETED_OUTLET.match(head)
    if bracketed and outlet_in(bracketed["outlet"]):  # `Jakarta (ANTARA) -`, `Moskow (ANTARA/Sputnik) -`
        head = f"{bracketed['place']}, {bracketed['outlet']}" if bracketed["place"] else bracketed["outlet"]
    parts = [p.strip() for p in head.split(",")]
    if not parts or len(parts) > 3 or any(not p for p in parts):
        return None
    outlet = None
    places: list[str] = []
    for part in parts:
        found = outlet_in(part)
        if found and outlet is None:
            outlet = found
            continue
        tokens = part.split()
        if not 1 <= len(tokens) <= 4 or not all(PLACE_TOKEN.match(t) for t in tokens):
            return None
        places.append(part)
    place = ", ".join(places) or None
    if outlet is not None:
        return Dateline(prefix=match.group(0), place=place, outlet=outlet)
    if place and place.upper() == place and any(c.isalpha() for c in place):
        rest = paragraph[match.end():]
        if _is_acronym(place) or not _capitalised(rest):
            return None  # `TNI - Polri menggelar ...`, `KPK - yang dulu ...`: a sentence
        return Dateline(prefix=match.group(0), place=place, outlet=None,
                        acronym_like=_looks_like_an_acronym(place) or _spelt_out(place, rest))
    if place and all(p.casefold() in DATELINE_PLACES for p in places) and _opens_a_sentence(paragraph[match.end():]):
        return Dateline(prefix=match.group(0), place=place, outlet=None, weak=True)
    return None


SPACED_DASH = re.compile(r"\s" + DASH + r"\s")


def _one_unlisted_word(place: str) -> bool:
    return " " not in place and place.isalpha() and place.casefold() not in DATELINE_PLACES


def _is_acronym(place: str) -> bool:
    """An all-capitals head of one word of up to three letters that names no listed place (`TNI`, `KPK`, `MU`)."""
    return " " not in place and len(place.strip(".")) <= 3 and place.casefold() not in DATELINE_PLACES


VOWELS = frozenset("AEIOUY")


def _looks_like_an_acronym(place: str) -> bool:
    """One word of up to five capitals, not a listed place, that no Indonesian place name is spelt like: no vowel, or
    two consonants at its start or end (`PDIP`, `BUMN`, `DPRD`, `BPJS`, `UMKM`; but `PATI`, `SIAK`, `RAFAH`)."""
    if len(place) > 5 or not _one_unlisted_word(place):
        return False
    consonant = [c not in VOWELS for c in place]
    return all(consonant) or all(consonant[:2]) or all(consonant[-2:])


def _spelt_out(place: str, rest: str) -> bool:
    """The capitalised words after the dash spell the head's letters: likely an acronym and its expansion (`KONI -
    Komite Olahraga Nasional Indonesia ...`, `LIPI - Lembaga Ilmu ...`), pronounceable or not. Likely only (`SIAK -
    Seorang Ibu Asal Kampar ...` is a dateline): such a head counts as a dateline only above every paragraph."""
    if not _one_unlisted_word(place):
        return False
    initials = "".join(word[0] for word in rest.split()[: len(place) + 2] if word[0].isupper())
    return initials.startswith(place)


def _capitalised(rest: str) -> bool:
    first = rest.lstrip()[:1]
    return bool(first) and (first.isupper() or first.isdigit() or first in "\"“'‘(")


def _opens_a_sentence(rest: str) -> bool:
    """What follows a mixed-case place and a dash, if it is a dateline: a capitalised sentence start that is not
    another place (`Jakarta - Bandung kini ...` is a route) and no second dash soon after (`Jakarta - kota
    terpadat - ...` is an aside)."""
    first = rest.split(maxsplit=1)[0] if rest.strip() else ""
    return (bool(first) and (first[0].isupper() or first[0].isdigit() or first[0] in "\"“'‘")
            and first.strip(",.:;").casefold() not in DATELINE_PLACES and not SPACED_DASH.search(rest[:80]))


SIGNOFF = re.compile(r"\s+" + DASH + r"\s*(?P<outlet>[\w.]+(?:\s[\w.]+){0,2})\s*$")
INITIALS_SIGNOFF = re.compile(r"\s*\((?P<initials>[a-z]{2,5}(?:/[a-z]{2,5}){0,3})\)\s*$")


def _last_dash_run(paragraph: str) -> int:
    """Where the whitespace before the paragraph's last run of dashes starts, or -1 without a dash.

    What follows SIGNOFF's dash holds no dash, so every match of it starts there or later: the search
    starts there instead of trying every whitespace of the paragraph (Indonesian hyphenates often)."""
    at = paragraph.rfind("-")
    if not paragraph.isascii():  # the other dashes (9 in 10 paragraphs are ASCII: one scan, not three)
        at = max(at, *map(paragraph.rfind, DASH_CHARS[1:]))
    if at < 0:
        return -1
    while at > 0 and paragraph[at - 1] in DASH_CHARS:
        at -= 1
    while at > 0 and paragraph[at - 1].isspace():
        at -= 1
    return at


def parse_signoff(paragraph: str) -> tuple[str, str | None] | None:
    """A trailing `– Rappler.com` or `(ant/dwi)`: returns the suffix to drop and the outlet it names."""
    # both patterns scan from every whitespace; most paragraphs have neither a dash nor a final `)`
    start = _last_dash_run(paragraph)
    match = SIGNOFF.search(paragraph, start) if start >= 0 else None
    if match and outlet_in(match["outlet"]):
        return match.group(0), outlet_in(match["outlet"])
    if not paragraph.rstrip().endswith(")"):
        return None
    match = INITIALS_SIGNOFF.search(paragraph)
    if match and paragraph[: match.start()].rstrip().endswith((".", "!", "?", "”", '"')):
        return match.group(0), None
    return None


# ---- credited sources -------------------------------------------------------------------------

NAME_TOKEN = r"[A-Z][\w&'-]*(?:\.[\w-]+)*"
CREDIT_VERBS = ("dilaporkan", "melaporkan", "dikutip", "mengutip", "melansir", "dilansir", "menurut", "sumber", "laporan",
                r"seperti\s+dikutip", r"sebagaimana\s+dikutip")
CREDIT = re.compile(
    r"\b(?:" + "|".join(CREDIT_VERBS) + r")"
    r"(?:\s+(?:dari|oleh|laman|situs|kantor\s+berita)){0,2}\s*:?\s+"
    r"(?P<name>(?-i:" + NAME_TOKEN + r"(?:\s+" + NAME_TOKEN + r"){0,3})|[\w-]+(?:\.[\w-]+)+)",
    re.IGNORECASE,
)


def _credited_name(name: str) -> str | None:
    tokens = name.rstrip(".").split()
    for end in range(len(tokens), 0, -1):
        candidate = " ".join(tokens[:end]).rstrip(".,")
        if candidate.lower() in WIRE_SOURCES:
            return WIRE_SOURCES[candidate.lower()]
        if end == 1 and is_domain(candidate):
            return candidate
    return None


# Where a CREDIT match can start: the first word of a verb, in lowercased text.
CREDIT_STARTS = tuple(sorted({verb.split("\\")[0] for verb in CREDIT_VERBS}))
# The only characters that re.IGNORECASE matches to an ASCII letter although str.lower() does not make
# them one (İ ı ſ K): with one of them in the text, the lowercased text cannot show where matches start.
CASE_FOLD_SPECIALS = "\u0130\u0131\u017f\u212a"


CREDIT_SCANNER = ahocorasick_rs.AhoCorasick(list(CREDIT_STARTS))


def credit_starts(lowered: str) -> list[int]:
    """Every position where one of CREDIT_STARTS starts, overlapping or not, sorted (one Aho-Corasick
    pass: 6.8 µs an article against 16 for a substring scan per word)."""
    return sorted(start for _, start, _ in CREDIT_SCANNER.find_matches_as_indexes(lowered, overlapping=True))


def credit_matches(text: str) -> Iterator[re.Match[str]]:
    """What `CREDIT.finditer(text)` gives, with the pattern tried only where a verb starts.

    The case-insensitive search tries every position of the text (~90 µs an article); the verbs'
    first words are found in the lowercased text in one Aho-Corasick pass (`credit_starts`). Tried in
    order, each at or after the end of the last match, those positions give finditer's matches."""
    lowered = text.lower()
    if len(lowered) != len(text) or any(special in text for special in CASE_FOLD_SPECIALS):
        yield from CREDIT.finditer(text)
        return
    end = 0
    for start in credit_starts(lowered):
        if start >= end and (match := CREDIT.match(text, start)):
            yield match
            end = match.end()


NEIGHBOURHOOD = re.compile(r"\s*(?:\d|/\s*RW\b|RW\b|setempat\b)", re.IGNORECASE)


def credited_sources(text: str) -> list[str]:
    """Agencies and outlets the text credits (`Dilaporkan Reuters`, `dikutip dari BBC`, `Sumber : X.com`)."""
    found: set[str] = set()
    for match in credit_matches(text):
        name = _credited_name(match["name"])
        if name == "RT" and NEIGHBOURHOOD.match(text, match.end()):
            continue  # `menurut RT setempat`, `RT 05/RW 02`: the neighbourhood unit, not Russia Today
        if name:
            found.add(name)
    return sorted(found)


EDITOR_LINE = re.compile(r"^\s*(?:editor|penyunting|redaktur)\s*:\s*(?P<names>.+?)\s*$", re.IGNORECASE)
AUTHOR_LINE = re.compile(
    r"^\s*\(?\s*(?:penulis|oleh|reporter|pewarta|wartawan|kontributor)\s*:\s*(?P<names>[^|)]+?)\s*(?:\||\)|$)", re.IGNORECASE
)


# what follows a name in a byline and is no name: a degree (`M.T.`, `Lc.`, `Ph.D`, `MA`, `CBE`) or a role
DEGREE = re.compile(r"^(?:(?:[A-Z][A-Za-z]{0,3}\.)+[A-Za-z]{0,3}\.?|[A-Z]{2,4})$")
ROLE_WORDS = frozenset({"pengamat", "dosen", "peneliti", "kolumnis", "guru", "mahasiswa", "mahasiswi", "ketua", "direktur",
                        "anggota", "pegiat", "praktisi", "alumnus", "alumni", "staf", "kepala", "pemerhati", "analis",
                        "ekonom", "pengajar", "pendiri", "founder", "ceo", "wakil", "sekretaris", "rektor",
                        "koordinator", "jurnalis", "wartawan", "penulis", "besar"})


def split_names(names: str) -> list[str]:
    """The people a byline names: split at `,`, `;`, `/`, `dan` and `&`, without an affiliation in brackets, a footnote
    mark, or a degree or role after a name (`Dr. Ahmad Faiz, M.Si., Dosen FEB UI` is `Dr. Ahmad Faiz`)."""
    names = re.sub(r"\([^()]*\)?|\*+", " ", names)
    people = []
    for part in re.split(r",|;|/|\bdan\b|&", names):
        part = part.strip()
        if not part or (people and (DEGREE.match(part) or part.split()[0].casefold() in ROLE_WORDS)):
            continue  # a degree or a role after a name; alone, `ANT` or `AFP` is the credit
        people.append(part)
    return people
