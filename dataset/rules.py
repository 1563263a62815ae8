"""Line rules: which lines of a copied news page are page furniture, and why.

Each rule names a shape of line seen across Indonesian outlets (not the text of one page), so it
keeps working on outlets it has never seen. Structural decisions (headline, dateline, where the body
ends) live in `structure.py`; this module only recognises single lines.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

BULLET = r"^[\s*•·\-–—#>]*"


def _full(*alternatives: str) -> re.Pattern[str]:
    return re.compile(BULLET + r"(?:" + "|".join(alternatives) + r")\s*[.:!]?\s*$", _I)


def _start(*alternatives: str) -> re.Pattern[str]:
    return re.compile(BULLET + r"(?:" + "|".join(alternatives) + r")", _I)


def _anywhere(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?:" + "|".join(alternatives) + r")", _I)


RELATED_HEADINGS = _full(
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
LINE_RULES: list[tuple[str, list[re.Pattern[str]]]] = [
    ("spam", [
        _anywhere(r"\b(?:pengeluaran|keluaran|data|result|live\s+draw)\s+(?:sgp|hk|sdy|sydney|singapore|hongkong|macau|toto)\b",
                  r"\btogel\b", r"\bslot\s+(?:gacor|online|88)\b", r"\bsitus\s+(?:judi|slot)\b", r"\bjudi\s+online\b",
                  r"\bbandar\s+(?:togel|judi)\b", r"\bmaxwin\b", r"\bscatter\s+hitam\b"),
    ]),
    ("ai_summary", [
        _anywhere(r"ringkasan\s+(?:yang\s+)?(?:dibuat|dihasilkan)\s+(?:oleh\s+)?(?:ai|kecerdasan\s+buatan)",
                  r"\b(?:ai|kecerdasan\s+buatan)[- ]generated\s+summary", r"\bsummary\s+(?:was\s+)?generated\s+by\s+ai\b",
                  r"^\s*ringkasan\s+ai\s*:?\s*$"),
    ]),
    ("read_more", [
        _start(r"(?:baca|lihat|simak|cek)\s+(?:juga|pula|selengkapnya)\s*:",
               r"artikel\s+ini\s+(?:telah|sudah)\s+(?:tayang|terbit|dipublikasikan)\s+di\b",
               r"simak\s+(?:juga\s+)?(?:video|berita|informasi)\b",
               r"read\s+(?:also|more)\s*:", r"pilihan\s+editor\s*:"),
    ]),
    ("comment_prompt", [
        _start(r"tulis\s+komentar", r"berkomentarlah\b", r"laporkan\s+komentar", r"terima\s+kasih\.?\s+kami\s+sudah\s+menerima\s+laporan",
               r"segera\s+lengkapi\s+data\s+diri", r"(?:lihat|tampilkan|muat)\s+(?:semua\s+)?komentar", r"\d+\s+komentar\s*$",
               r"komentar\s+(?:anda|kamu)\b", r"login\s+untuk\s+(?:berkomentar|komentar)"),
        _full(r"komentar|komentari|beri\s+komentar|lengkapi\s+profil|syarat\s*(?:&|dan)\s*ketentuan|comments?"),
        _anywhere(r"fitur\s+komentar", r"#jernihberkomentar", r"panduan\s+komunitas"),
    ]),
    ("share", [
        _full(r"(?:bagikan|share)(?:\s+(?:artikel|berita)(?:\s+ini)?|\s+this(?:\s+article)?)?",
              r"facebook|twitter|whatsapp|telegram|linkedin|line|copy\s+link|salin\s+(?:tautan|link)"),
    ]),
    ("reading_time", [
        _full(r"(?:bacaan|waktu\s+baca|lama\s+baca)\s*:?\s*\d+\s*menit", r"\d+\s*(?:menit|min(?:ute)?s?)\s+(?:baca|bacaan|read)"),
    ]),
    ("byline", [
        _start(r"(?:editor|penulis|reporter|pewarta|wartawan|sumber|penyunting|redaktur|kontributor|editor\s+foto|fotografer)\s*:"),
        re.compile(BULLET + r"[Ss]umber\s+[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3}\s*$"),
        _start(r"laporan\s+(?:wartawan|reporter|koresponden)\b"),
        re.compile(r"^\s*\(\s*(?:reporter|penulis|editor)\s*:.*\)\s*$", _I),
    ]),
    ("ad", [
        _full(r"advertisement|advertorial|iklan|ads|close\s+ads|scroll\s+to\s+continue(?:\s+with\s+content)?",
              r"konten\s+premium|premium\s+content|sponsored(?:\s+content)?|konten\s+bersponsor"),
        _anywhere(r"tanpa\s+iklan", r"^\s*langganan\b", r"silakan\s+login", r"\bgoogle\s+news\b", r"\bwa\s+channel\b",
                  r"whatsapp\s+channel", r"saluran\s+whatsapp", r"\be-?paper\b", r"^\s*scan\s+qr\b",
                  r"^\s*dapatkan\s+(?:update|informasi|berita|notifikasi)\b", r"^\s*ikuti\s+(?:kami|berita|kanal|channel)\b",
                  r"untuk\s+mengetahui\s+kebenaran\s+informasi", r"(?:whatsapp|wa)\s+ke\s+nomor", r"^\s*download\s+aplikasi\b",
                  r"^\s*unduh\s+aplikasi\b"),
    ]),
    ("embed", [
        _start(r"infografis\b", r"\[gambas:", r"video\s*:", r"(?:tonton|saksikan)\s+(?:juga\s+)?video\b"),
    ]),
    ("navigation", [
        _full(r"halaman(?:\s*:)?(?:\s*\d+)*", r"(?:(?:baca\s+)?halaman\s+)?(?:selanjutnya|sebelumnya|berikutnya)", r"next|prev(?:ious)?|load\s+more",
              r"\d+(?:st|nd|rd|th)?", r"(?:\d+\s+){1,9}\d+"),
    ]),
    ("caption", [
        re.compile(r"\([^()]*\b(?:photo|foto|dok|istimewa|getty\s+images|shutterstock)\b[^()]*\)\s*\.?\s*$", _I),
        # a slash credit names someone with a capital (`(Liputan6.com/Abdillah)`); `(pmg/rds)` is a sign-off.
        re.compile(r"\((?=[^()]*[A-Z])[^()\s/]*[A-Za-z][^()\s/]*/[^()]*[A-Za-z][^()]*\)\s*\.?\s*$"),
        re.compile(r"\S/\s?[A-Z][A-Za-z]*\s?-\s?[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*\s*\.?\s*$"),
        _start(r"(?:foto|ilustrasi|photo|gambar)\s*:"),
    ]),
]

# Lines that end the article when nothing article-like follows them.
TAIL_RULES = frozenset({"related_list", "comment_prompt", "embed", "navigation", "signoff"})

INLINE_READ_MORE = re.compile(r"\s*\b(?:baca|lihat|simak)\s+juga\s*:\s*[^.!?\"”]*$", _I)


MAX_FURNITURE_WORDS = 35


def classify_line(line: str) -> str | None:
    """The rule that removes this line on its own, or None when the line could be article text."""
    if len(line.split()) > MAX_FURNITURE_WORDS:
        return None
    if RELATED_HEADINGS.match(line):
        return "related_list"
    for rule, patterns in LINE_RULES:
        for pattern in patterns:
            if pattern.search(line):
                return rule
    return None
