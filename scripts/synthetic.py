"""A synthetic corpus of raw news page dumps, built from the real seeds, for benchmarks.

`make_corpus(folder, n)` writes n dump files that look like the copied pages in `seeds/`: real body
paragraphs from the seeds (recombined across seeds, with names, places, numbers and a few verbs
varied per article) wrapped in the page furniture of several outlets (headlines, timestamp lines,
datelines, `Baca juga:` links, captions, bylines, ads, comment boxes, related lists, sign-offs).

A fraction of the articles are planted near-duplicates: a copy of an earlier article's body with one
or two words changed, under a new header and footer (often another outlet's, as syndication does).
`CorpusInfo.groups` is the ground truth, so a caller can score a deduplicator against it
(`score_clusters`).

The corpus is a pure function of (n, seed, duplicate_rate, per_folder). It does not use the
project's library, so a change to the normalizer never changes the benchmark input.

    python scripts/synthetic.py OUT_DIR --articles 20000
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
PER_FOLDER = 1000
GENERATOR_VERSION = 1

# ---- what is taken from the seeds ----------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SENTENCE_END = (".", "!", "?", "…", '"', "”", "’")
# Lines of the seeds that are page furniture even though they read like prose.
_FURNITURE_MARKERS = (
    "baca juga", "untuk mengetahui kebenaran", "ini adalah ringkasan", "tujuan kami adalah", "berkomentarlah",
    "terima kasih. kami", "tulis komentar", "dapatkan informasi", "segera lengkapi", "cek berita", "langganan",
    "e-paper", "sgp", "(ap photo)", "/ap-", "(liputan6.com/", "infografis", "syarat & ketentuan", "bagikan",
)
# `MOSCOW, KOMPAS.com - `, `Liputan6.com, Washington D.C - `, `WASHINGTON DC, AS – `, `JAKARTA - `
_SEED_DATELINE = re.compile(r"^(?:[A-Z][\w.]*(?: [A-Z][\w.]*)*, )*[A-Z][\w.]*(?: [A-Z][\w.]*)* (?:--|-|–|—) ")
_NOT_HEADLINE = re.compile(r"\d/\d|•| : |, \d{4}$")
_SEED_SIGNOFF = re.compile(r"\s(?:-|–|—)\s?[A-Z][\w]*\.(?:com|co|id)$")


def _clean(line: str) -> str:
    return _SPACES.sub(" ", line.replace("\u200b", "").replace("\ufeff", "")).strip()


def _title_case_share(text: str) -> float:
    alpha = [w for w in text.split() if w[:1].isalpha()]
    return sum(w[0].isupper() for w in alpha) / len(alpha) if alpha else 0.0


def _is_furniture(line: str) -> bool:
    low = line.casefold()
    return any(marker in low for marker in _FURNITURE_MARKERS)


def seed_material(seeds: Path = SEEDS) -> tuple[list[str], list[str]]:
    """(body paragraphs, headlines) read from the real dumps: prose lines and title-case lines."""
    paragraphs: list[str] = []
    headlines: list[str] = []
    for path in sorted(seeds.glob("*.txt")):
        lines = [_clean(line) for line in path.read_text(encoding="utf-8-sig").splitlines()]
        for line in lines:
            if not line or _is_furniture(line):
                continue
            n = len(line.split())
            if _title_case_share(line) >= 0.5 and 4 <= n <= 20 and not line.endswith((".", ")", ":")):
                if _NOT_HEADLINE.search(line):
                    continue
                if line not in headlines:
                    headlines.append(line)
                continue
            if n >= 6 and (line.endswith(_SENTENCE_END) or (n >= 15 and _title_case_share(line) < 0.5)):
                line = _SEED_SIGNOFF.sub("", _SEED_DATELINE.sub("", line, count=1))
                if line not in paragraphs:
                    paragraphs.append(line)
    if len(paragraphs) < 10 or len(headlines) < 5:
        raise RuntimeError(f"too little material in {seeds}: {len(paragraphs)} paragraphs, {len(headlines)} headlines")
    return paragraphs, headlines


# ---- what varies from article to article --------------------------------------------------------

# Name slots in the seed text -> pools of replacements; one mapping per article, so it stays coherent.
SLOTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "surname": (
        ("Biden", "Putin", "Psaki", "Ushakov", "Peskov", "Blinken", "Zelensky", "Lavrov", "Price"),
        ("Santoso", "Wibowo", "Hartono", "Nugroho", "Siregar", "Nasution", "Simanjuntak", "Wijaya", "Kusuma", "Saragih",
         "Lubis", "Pratama", "Hidayat", "Setiawan", "Gunawan", "Halim", "Tanjung", "Sinaga", "Purba", "Rahman",
         "Suharto", "Sukarno", "Marsudi", "Indrawati", "Subianto", "Baswedan", "Pranowo", "Thohir", "Sadikin", "Hartarto",
         "Scholz", "Macron", "Sunak", "Kishida", "Albanese", "Erdogan", "Modi", "Lula", "Trudeau", "Anwar",
         "Ramaphosa", "Marcos", "Prayuth", "Yoon", "Widjaja", "Salim", "Tanoto", "Djojohadikusumo", "Harahap", "Manurung"),
    ),
    "given": (
        ("Joe", "Vladimir", "Jen", "Yuri", "Dmitry", "Dimitry", "Antony", "Volodymyr", "Sergei", "Ned"),
        ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Sri", "Andi", "Rina", "Hendra", "Yusuf", "Ahmad", "Fajar", "Indah",
         "Bambang", "Retno", "Erick", "Anies", "Ganjar", "Olaf", "Emmanuel", "Rishi", "Fumio", "Anthony", "Recep",
         "Narendra", "Justin", "Cyril", "Ferdinand", "Suk", "Lukas", "Maria", "Putri", "Wahyu", "Dimas", "Yohanes"),
    ),
    "country": (
        ("Amerika Serikat", "Rusia", "Ukraina", "AS", "Eropa", "Swiss", "Kuba", "Iran", "Krimea", "Uni Soviet"),
        ("Indonesia", "Jepang", "Tiongkok", "Korea Selatan", "India", "Australia", "Malaysia", "Singapura", "Thailand",
         "Vietnam", "Filipina", "Brasil", "Argentina", "Meksiko", "Kanada", "Jerman", "Prancis", "Inggris", "Italia",
         "Spanyol", "Belanda", "Turki", "Mesir", "Arab Saudi", "Irak", "Pakistan", "Bangladesh", "Nigeria",
         "Afrika Selatan", "Kenya", "Selandia Baru", "Polandia", "Swedia", "Norwegia", "Chile", "Peru", "Kolombia",
         "Myanmar", "Kamboja", "Laos", "Timor Leste", "Papua Nugini", "Qatar", "Uni Emirat Arab", "Yordania"),
    ),
    "city": (
        ("Washington", "Moskow", "Kiev", "Kyiv", "Jenewa", "Rostov", "Kadamovskiy", "Donbas", "Melitopol"),
        ("Jakarta", "Surabaya", "Bandung", "Medan", "Makassar", "Semarang", "Yogyakarta", "Denpasar", "Palembang",
         "Balikpapan", "Manado", "Pontianak", "Padang", "Pekanbaru", "Kupang", "Jayapura", "Ambon", "Mataram",
         "Tokyo", "Beijing", "Seoul", "New Delhi", "Canberra", "Kuala Lumpur", "Bangkok", "Hanoi", "Manila",
         "Berlin", "Paris", "London", "Roma", "Madrid", "Ankara", "Kairo", "Riyadh", "Ottawa", "Brasilia", "Nairobi"),
    ),
}
# A few common words with alternatives the outlets use interchangeably.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "mengatakan": ("menyatakan", "menyebut", "menjelaskan", "mengungkapkan", "menegaskan"),
    "kata": ("ujar", "ucap", "tutur", "jelas"),
    "pembicaraan": ("perundingan", "dialog", "diskusi", "negosiasi"),
    "percakapan": ("pembicaraan", "komunikasi", "dialog"),
    "pasukan": ("tentara", "militer", "personel"),
    "ketegangan": ("konflik", "krisis", "eskalasi"),
    "sanksi": ("hukuman", "embargo", "tekanan"),
    "pemimpin": ("kepala negara", "tokoh", "pejabat tinggi"),
    "telepon": ("sambungan telepon", "panggilan video", "konferensi video"),
    "bulan": ("pekan", "tahun", "triwulan"),
    "Kamis": ("Senin", "Selasa", "Rabu", "Jumat", "Sabtu", "Minggu"),
    "Jumat": ("Senin", "Selasa", "Rabu", "Kamis", "Sabtu", "Minggu"),
    "Januari": ("Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November"),
    "Desember": ("Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November"),
}
# Words a near-duplicate may have changed (a typo fix, an edited word).
EDIT_WORDS = ("juga", "pun", "sudah", "telah", "masih", "kembali", "hanya", "sekitar", "lebih", "baru", "bahkan",
              "tersebut", "itu", "ini", "kemudian", "lalu", "namun", "tetapi", "secara", "resmi")

_SLOT_WORDS = sorted({w for old, _ in SLOTS.values() for w in old} | set(SYNONYMS), key=len, reverse=True)
_TOKEN = re.compile(r"\b(" + "|".join(re.escape(w) for w in _SLOT_WORDS) + r")\b|(?<![\d/.,])(\d{2,4})(?![\d/])")
_SLOT_OF = {w: kind for kind, (old, _) in SLOTS.items() for w in old}

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November",
         "Desember")
BLN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
          "December")
ZONES = ("WIB", "WIB", "WIB", "WIB", "WITA", "WIT")
WIRES = ("Reuters", "AFP", "AP", "BBC", "Xinhua", "Kyodo", "Yonhap", "Bloomberg", "Al Jazeera", "ANTARA", "TASS",
         "Anadolu", "CNA")
INITIALS = ("ant", "dwi", "rds", "bac", "fea", "isn", "wis", "pmg", "dal", "end")


def _template(paragraph: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split once into literals and the slot words between them, so rendering an article is a join."""
    literals: list[str] = []
    slots: list[str] = []
    last = 0
    for match in _TOKEN.finditer(paragraph):
        literals.append(paragraph[last:match.start()])
        slots.append(match.group(0))
        last = match.end()
    literals.append(paragraph[last:])
    return tuple(literals), tuple(slots)


class _Material:
    def __init__(self, seeds: Path = SEEDS):
        paragraphs, headlines = seed_material(seeds)
        self.paragraphs = [_template(p) for p in paragraphs]
        self.headlines = [_template(h) for h in headlines]
        self.long = [i for i, p in enumerate(paragraphs) if len(p.split()) >= 20]


class _Mapping(dict):
    """One article's replacement for every slot word; a number gets a new one of the same size when first seen."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng
        for old, new in SLOTS.values():  # distinct picks: a start and a stride through the pool
            start, step = rng.randrange(len(new)), rng.choice(_STRIDES[len(new)])
            for k, word in enumerate(old):
                self[word] = new[(start + k * step) % len(new)] if rng.random() < 0.85 else word
        for word, alternatives in SYNONYMS.items():
            self[word] = alternatives[int(rng.random() * len(alternatives))] if rng.random() < 0.5 else word

    def __missing__(self, word: str) -> str:
        if word[0] == "0":
            value = word
        elif len(word) == 2:
            value = str(self.rng.randint(10, 28))
        elif len(word) == 4 and word.startswith(("19", "20")):  # a year
            value = str(self.rng.randint(1990, 2025))
        else:
            value = str(self.rng.randint(10 ** (len(word) - 1), 10 ** len(word) - 1))
        self[word] = value
        return value


def _coprime(a: int, b: int) -> bool:
    while b:
        a, b = b, a % b
    return a == 1


_STRIDES = {len(new): [s for s in range(1, len(new)) if _coprime(s, len(new))] for _, new in SLOTS.values()}


def _render(template: tuple[tuple[str, ...], tuple[str, ...]], mapping: _Mapping) -> str:
    literals, slots = template
    out = [literals[0]]
    for slot, literal in zip(slots, literals[1:]):
        out.append(mapping[slot])
        out.append(literal)
    return "".join(out)


# ---- one article: the core (body) and the page around it ------------------------------------------

@dataclass
class _Core:
    title: str
    paragraphs: list[str]
    place: str
    day: date
    related: list[str]


def _core(material: _Material, rng: random.Random) -> _Core:
    mapping = _Mapping(rng)
    n = rng.randint(6, 16)
    first = rng.choice(material.long)
    rest = rng.sample([i for i in range(len(material.paragraphs)) if i != first], n - 1)
    paragraphs = [_render(material.paragraphs[i], mapping) for i in [first, *rest]]
    title = _render(rng.choice(material.headlines), mapping)
    other = _Mapping(rng)  # the related list is about other stories
    related = [_render(h, other) for h in rng.sample(material.headlines, min(len(material.headlines), 12))]
    place = rng.choice(SLOTS["city"][1][:18] + ("Jakarta",) * 6 + tuple(mapping.get(c, c) for c in ("Washington", "Moskow")))
    day = date(2019, 1, 1) + timedelta(days=rng.randrange(7 * 365))
    return _Core(title, paragraphs, place, day, related)


def _edit(core: _Core, rng: random.Random) -> _Core:
    """A near-duplicate: the same story with one or two words changed."""
    paragraphs = list(core.paragraphs)
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(paragraphs))
        words = paragraphs[i].split(" ")
        j = rng.randrange(len(words))
        words[j] = rng.choice(EDIT_WORDS)
        paragraphs[i] = " ".join(words)
    title = core.title
    if rng.random() < 0.3:
        words = title.split(" ")
        words[rng.randrange(len(words))] = rng.choice(("Terkini", "Update", "Lagi", "Resmi", "Baru"))
        title = " ".join(words)
    return _Core(title, paragraphs, core.place, core.day + timedelta(days=rng.choice((0, 0, 0, 1))), core.related)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SLOTS['given'][1])} {rng.choice(SLOTS['surname'][1])}"


def _clock(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randrange(0, 60, 5):02d}"


def _caption(core: _Core, rng: random.Random, outlet: str) -> list[str]:
    base = f"{_name(rng)} memberikan keterangan kepada wartawan di {core.place}, {core.day.day} {BULAN[core.day.month - 1]} {core.day.year}"
    shape = rng.randrange(4)
    if shape == 0:
        line = f"{base}. ({rng.choice(('AP Photo', 'AFP Photo', 'Reuters Photo', 'Dok. Istimewa'))})"
    elif shape == 1:
        line = f"{base}. ({outlet}/{rng.choice(SLOTS['given'][1])})"
    elif shape == 2:
        line = f"{base}/AP-{_name(rng)}."
    else:
        return [f"Ilustrasi: {base.split(' memberikan')[0]} di {core.place}"]
    return [line, line] if rng.random() < 0.6 else [line]


def _read_more(core: _Core, rng: random.Random) -> str:
    return f"{rng.choice(('Baca juga:', 'Baca juga:', 'Baca Juga:', 'Simak juga:', 'Lihat juga:'))} {rng.choice(core.related)}"


def _with_read_more(body: list[str], core: _Core, rng: random.Random, rate: float = 0.25) -> list[str]:
    out = [body[0]]
    for paragraph in body[1:]:
        if rng.random() < rate:
            out.append(_read_more(core, rng))
        out.append(paragraph)
    return out


def _related_block(core: _Core, rng: random.Random, heading: str, section: str | None) -> list[str]:
    lines = [heading]
    for headline in rng.sample(core.related, rng.randint(3, len(core.related))):
        lines.append(f"{headline}\n\n{headline}" if section else headline)
        if section:
            lines.append(section)
    return lines


def _comment_box(rng: random.Random) -> list[str]:
    return rng.choice((
        ["Tulis komentarmu dengan tagar #JernihBerkomentar dan menangkan e-voucher untuk 90 pemenang!",
         "Syarat & Ketentuan\nBerkomentarlah secara bijaksana dan bertanggung jawab. Komentar sepenuhnya menjadi "
         "tanggung jawab komentator seperti diatur dalam UU ITE\nLaporkan Komentar\nTerima kasih. Kami sudah menerima "
         "laporan Anda. Kami akan menghapus komentar yang bertentangan dengan Panduan Komunitas dan UU ITE."],
        ["komentar", "Lengkapi Profil\nLengkapi Profil",
         "Segera lengkapi data dirimu untuk ikutan program #JernihBerkomentar."],
        ["Tujuan kami adalah menciptakan tempat yang aman dan menarik bagi pengguna untuk terhubung melalui minat dan "
         "kegemaran. Untuk meningkatkan pengalaman komunitas, kami menangguhkan sementara fitur komentar artikel"],
        [f"{rng.randint(0, 99)} Komentar", "Login untuk berkomentar"],
    ))


def _page(core: _Core, outlet: str, rng: random.Random) -> str:
    """The whole copied page of one outlet around the core, as text."""
    d = core.day
    zone = rng.choice(ZONES)
    place = core.place
    body = list(core.paragraphs)
    head: list[str] = []
    tail: list[str] = []
    if outlet == "kompas":
        head = [core.title, f"Kompas.com - {d.day:02d}/{d.month:02d}/{d.year}, {_clock(rng)} {zone}"]
        if rng.random() < 0.2:
            head.append(f"Diperbarui {d.day:02d}/{d.month:02d}/{d.year}, {_clock(rng)} {zone}")
        body[0] = f"{place.upper()}, KOMPAS.com - {body[0]}"
        body = _with_read_more(body, core, rng)
        tail = ["Halaman:", rng.choice(("Video Pilihan", "Video Rekomendasi")), f"Sumber {rng.choice(WIRES)}",
                "Rekomendasi untuk anda", f"{rng.randint(1, 30)}th", *_comment_box(rng),
                *_related_block(core, rng, "Terkini Lainnya", rng.choice(("Global", "Nasional", "Regional", "Money")))]
        tail.append(rng.choice(("komentar\nClose Ads", "Close Ads", "Advertisement")))
    elif outlet == "liputan6":
        head = [core.title, f"·Bacaan {rng.randint(1, 6)} menit"]
        body[0] = f"Liputan6.com, {place} - {body[0]}"
        at = rng.randrange(2, len(body))
        body[at:at] = ["* Untuk mengetahui kebenaran informasi yang beredar, silakan WhatsApp ke nomor 0811 9787 670 "
                       "hanya dengan ketik kata kunci yang diinginkan."]
        if rng.random() < 0.5:
            at = rng.randrange(at + 1, len(body))
            body[at:at] = [rng.choice(core.related), *_caption(core, rng, "Liputan6.com")]
        tail = [f"Infografis {rng.choice(core.related)}", *_caption(core, rng, "Liputan6.com"), _comment_box(rng)[0]]
    elif outlet == "rappler":
        head = [f"• {MONTHS[d.month - 1]} {d.day}, {d.year}", core.title, core.title]
        if rng.random() < 0.7:
            head += ["Ini adalah ringkasan yang dibuat oleh AI, yang mungkin memiliki kesalahan. Untuk konteksnya, "
                     "selalu rujuk artikel selengkapnya.", body[rng.randrange(1, len(body))]]
        body[0] = f"{place.upper()}, {rng.choice(('AS', 'FILIPINA', 'INDONESIA', 'JEPANG'))} – {body[0]}"
        body[-1] = f"{body[-1]} – Rappler.com"
        if rng.random() < 0.3:
            tail = ["Pengeluaran SGP hari Ini"]
    elif outlet == "bisnis":
        head = ["Nyaman tanpa iklan. Langganan BisnisPro", core.title]
        if rng.random() < 0.5:
            head.append(f"{HARI[d.weekday()]}, {d.day:02d}/{d.month:02d}/{d.year} {_clock(rng)} {zone}")
        head.append(body[1].rstrip("."))  # the standfirst repeats a body paragraph
        head += _caption(core, rng, "Bisnis.com")
        body[0] = f"Bisnis.com, {place.upper()} - {body[0]}"
        body = _with_read_more(body, core, rng, 0.15)
        body.append("Cek Berita dan Artikel yang lain di Google News dan WA Channel")
        tail = [f"Editor : {_name(rng)}\nSumber : {rng.choice(WIRES)}\nKonten Premium",
                "Dapatkan informasi komprehensif di Bisnis.com yang diolah secara mendalam untuk menavigasi bisnis "
                "Anda. Silakan login untuk menikmati artikel Konten Premium.",
                "Artikel Terkait", "Berita Lainnya", "Berita Terbaru", "Nyaman tanpa iklan. Langganan BisnisPro",
                "# Hot Topic", "Nyaman tanpa iklan. Langganan BisnisPro", "Rekomendasi Kami", "Foto",
                "Scan QR Code Bisnis Indonesia e-paper"]
    elif outlet == "tempo":
        head = [core.title, f"{HARI[d.weekday()]}, {d.day} {BULAN[d.month - 1]} {d.year} {_clock(rng)} {zone}"]
        if rng.random() < 0.5:
            head.append(f"Reporter: {_name(rng)}\nEditor: {_name(rng)}")
        body[0] = f"TEMPO.CO, {place} - {body[0]}"
        body = _with_read_more(body, core, rng, 0.2)
        tail = ["Pilihan Editor: " + rng.choice(core.related), *_related_block(core, rng, "Artikel Terkait", None),
                "Advertisement", "Scroll to continue with content"]
    elif outlet == "cnn":
        head = [core.title, "CNN Indonesia",
                f"{HARI[d.weekday()]}, {d.day:02d} {BLN[d.month - 1]} {d.year} {_clock(rng)} {zone}", "Bagikan:"]
        head += _caption(core, rng, "CNN Indonesia")
        body[0] = f"{place}, CNN Indonesia -- {body[0]}"
        if rng.random() < 0.5:
            at = rng.randrange(2, len(body))
            body[at:at] = ["[Gambas:Video CNN]"]
        body[-1] = f"{body[-1].rstrip()} ({'/'.join(rng.sample(INITIALS, 2))})"
        tail = ["BACA HALAMAN BERIKUTNYA", *_related_block(core, rng, "Berita Terkait", None)]
    else:  # voi-like: no outlet named anywhere, share bar on top
        head = ["Bagikan:"]
        body[0] = f"{place.upper()} - {body[0]}"
        if rng.random() < 0.5:
            tail = [rng.choice(("Facebook\nTwitter\nWhatsApp\nCopy Link", "Share", "Bagikan artikel ini"))]
    return "\n\n".join([*head, *body, *tail]) + "\n"


OUTLETS = ("kompas", "liputan6", "rappler", "bisnis", "tempo", "cnn", "voi")
OUTLET_WEIGHTS = (5, 3, 1, 2, 3, 3, 1)


# ---- the corpus ----------------------------------------------------------------------------------

@dataclass
class CorpusInfo:
    """What was written: files in generation order, and the planted near-duplicate groups (original first)."""

    folder: Path
    files: list[str]
    groups: list[list[str]]
    outlets: list[str]
    bytes: int
    seconds: float
    seed: int
    duplicate_rate: float
    per_folder: int = PER_FOLDER
    version: int = GENERATOR_VERSION

    @property
    def n(self) -> int:
        return len(self.files)

    @property
    def duplicates(self) -> int:
        """Planted copies (not counting the originals they copy)."""
        return sum(len(g) - 1 for g in self.groups)

    def group_of(self) -> dict[str, int]:
        return {name: i for i, group in enumerate(self.groups) for name in group}

    def to_json(self) -> dict:
        data = asdict(self)
        data["folder"] = str(self.folder)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "CorpusInfo":
        return cls(**{**data, "folder": Path(data["folder"])})

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "CorpusInfo":
        return cls.from_json(json.loads(Path(path).read_text()))


def make_corpus(folder: Path, n: int, seed: int = 0, duplicate_rate: float = 0.05, per_folder: int = PER_FOLDER,
                seeds: Path = SEEDS) -> CorpusInfo:
    """Write n dumps under `folder` (subfolders of `per_folder` files each) and return what was planted."""
    started = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    material = _Material(seeds)
    rng = random.Random(seed)
    files: list[str] = []
    outlets: list[str] = []
    group_of_original: dict[int, list[str]] = {}
    originals: list[int] = []
    total = 0
    made_dirs: set[str] = set()
    for i in range(n):
        copy_of = rng.choice(originals) if originals and rng.random() < duplicate_rate else None
        source = i if copy_of is None else copy_of
        core = _core(material, random.Random(f"{seed}:{source}"))  # the body is a function of (seed, original)
        if copy_of is not None:
            core = _edit(core, rng)
        outlet = rng.choices(OUTLETS, OUTLET_WEIGHTS)[0]
        text = _page(core, outlet, rng)
        data = text.encode("utf-8")
        roll = rng.random()
        if roll < 0.02:
            data = text.replace("\n", "\r\n").encode("utf-8")
        elif roll < 0.03:
            data = b"\xef\xbb\xbf" + data
        sub = f"{i // per_folder:04d}"
        if sub not in made_dirs:
            (folder / sub).mkdir(exist_ok=True)
            made_dirs.add(sub)
        name = f"{sub}/{i:08d}.txt"
        (folder / name).write_bytes(data)
        total += len(data)
        files.append(name)
        outlets.append(outlet)
        if copy_of is None:
            originals.append(i)
        else:
            group_of_original.setdefault(copy_of, [files[copy_of]]).append(name)
    groups = [group_of_original[k] for k in sorted(group_of_original)]
    return CorpusInfo(folder, files, groups, outlets, total, time.perf_counter() - started, seed, duplicate_rate,
                      per_folder)


def score_clusters(info: CorpusInfo, cluster_of: dict[str, str]) -> dict:
    """Pairwise recall and precision of predicted clusters (source_file -> cluster id) against the planted groups.

    A pair is two articles in one cluster; true pairs are two articles of one planted group. Every
    article not in a planted group is its own group, so any merge it takes part in is a false pair.
    """
    truth = info.group_of()

    def pairs(k: int) -> int:
        return k * (k - 1) // 2

    predicted: dict[str, list[str]] = {}
    for name, cluster in cluster_of.items():
        predicted.setdefault(cluster, []).append(name)
    predicted_pairs = sum(pairs(len(members)) for members in predicted.values())
    true_pairs = sum(pairs(len(group)) for group in info.groups)
    hits = 0
    for members in predicted.values():
        overlap: dict[int, int] = {}
        for name in members:
            if name in truth:
                overlap[truth[name]] = overlap.get(truth[name], 0) + 1
        hits += sum(pairs(k) for k in overlap.values())
    copies_found = sum(
        1 for group in info.groups for name in group[1:]
        if name in cluster_of and group[0] in cluster_of and cluster_of[name] == cluster_of[group[0]]
    )
    missing = sum(1 for name in info.files if name not in cluster_of)
    return {
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": hits,
        "recall": hits / true_pairs if true_pairs else None,
        "precision": hits / predicted_pairs if predicted_pairs else None,
        "copies": info.duplicates,
        "copies_found": copies_found,
        "multi_clusters": sum(1 for members in predicted.values() if len(members) > 1),
        "planted_groups": len(info.groups),
        "articles_missing": missing,
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duplicate-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    info = make_corpus(args.out, args.articles, args.seed, args.duplicate_rate)
    print(f"wrote {info.n} dumps ({info.bytes / 1e6:.1f} MB, {info.duplicates} planted copies in {len(info.groups)} "
          f"groups) to {info.folder} in {info.seconds:.1f}s")


if __name__ == "__main__":
    main()
