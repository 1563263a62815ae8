"""The rules on page shapes the seeds do not contain: other outlets' furniture, datelines and timestamps."""

from __future__ import annotations

import pytest

from dataset.metadata import canonical_outlet, credited_sources, parse_dateline, parse_signoff, parse_timestamp_line
from dataset.normalize import normalize_text
from dataset.rules import classify_line

BODY = (
    "Presiden Joko Widodo meresmikan jembatan baru di Kalimantan Timur pada Senin pagi, didampingi sejumlah menteri "
    "dan kepala daerah yang hadir dalam acara tersebut."
)


@pytest.mark.parametrize(
    "line,rule",
    [
        ("ADVERTISEMENT", "ad"),
        ("SCROLL TO CONTINUE WITH CONTENT", "ad"),
        ("Simak juga Video 'Jokowi Resmikan Jembatan':", "read_more"),
        ("[Gambas:Video CNN]", "embed"),
        ("Artikel ini telah tayang di Kompas.com dengan judul \"Jembatan Baru\"", "read_more"),
        ("Dapatkan update berita pilihan dan breaking news setiap hari dari Kompas.com.", "ad"),
        ("Pewarta: Andi Saputra", "byline"),
        ("Oleh: Ahmad Faiz", "byline"),
        ("Keterangan gambar, Warga mengantre BBM di sebuah SPBU di Jakarta.", "caption"),  # BBC Indonesia
        ("Kami menggunakan cookie untuk meningkatkan pengalaman Anda di situs ini. Dengan melanjutkan, Anda menyetujui "
         "kebijakan privasi kami.", "consent"),
        ("We use cookies to improve your experience. Accept all cookies", "consent"),
        ("Editor: Budi Santoso", "byline"),
        ("Laporan Wartawan Tribunnews.com, Reza Deni", "byline"),
        ("(Reporter: Nadia Putri | Editor: Rina)", "byline"),
        ("Baca Juga:", "related_list"),
        ("Berita Terkait", "related_list"),
        ("Share:", "share"),
        ("Waktu baca 3 menit", "reading_time"),
        ("Halaman Selanjutnya", "navigation"),
        ("1 2 3", "navigation"),
        ("Foto: Presiden meresmikan jembatan (ANTARA FOTO/Hafidz Mubarak)", "caption"),
        ("Situs slot gacor terpercaya", "spam"),
        ("Lihat semua komentar", "comment_prompt"),
    ],
)
def test_furniture_lines_are_recognised(line, rule):
    assert classify_line(line) == rule


@pytest.mark.parametrize(
    "line",
    [
        BODY,
        "Upaya NATO untuk Ukraina",
        "Suhu > 30 derajat",
        "Rusia > Ukraina soal jumlah tentara, kata dia.",
        "Buka Settings > Privacy",  # a how-to step: breadcrumbs are told by where they stand, above the body
        "Home > Internasional",
        "Resep cookies cokelat yang renyah dan mudah dibuat di rumah untuk sajian lebaran.",
        "Cookie pihak ketiga digunakan untuk melacak pengguna dari satu situs ke situs lain.",
        "Usaha cookies miliknya kini dipasarkan lewat website dan memberi pengalaman rasa yang berbeda.",
        "\"Kami menggunakan cookie hanya untuk analitik,\" kata juru bicara itu.",
        "Menurut dia, kebijakan itu akan diumumkan pekan depan.",
        "Jokowi mengatakan pembangunan akan dilanjutkan pada 2022, kata juru bicara Istana (30/12/2021).",
        "Google News dan layanan lain kini menampilkan berita dari ratusan media di Indonesia, yang menurut para peneliti "
        "mengubah cara pembaca menemukan artikel, sebuah tren yang dicatat sejak 2015 oleh banyak lembaga riset media "
        "di kawasan Asia Tenggara dan yang terus berkembang hingga sekarang menurut data terbaru.",
    ],
)
def test_article_lines_are_not_furniture(line):
    assert classify_line(line) is None


@pytest.mark.parametrize(
    "paragraph,place,outlet",
    [
        ("TEMPO.CO, Jakarta - " + BODY, "Jakarta", "Tempo.co"),
        ("Jakarta, CNN Indonesia -- " + BODY, "Jakarta", "CNN Indonesia"),
        ("TRIBUNNEWS.COM, JAKARTA -- " + BODY, "JAKARTA", "Tribunnews.com"),
        ("SURABAYA, KOMPAS.com — " + BODY, "SURABAYA", "Kompas.com"),
        ("BALIKPAPAN – " + BODY, "BALIKPAPAN", None),
        ("BALI - " + BODY, "BALI", None),
        ("PATI - " + BODY, "PATI", None),
        ("VIVA – " + BODY, None, "VIVA"),
        ("Liputan6.com, Washington D.C - " + BODY, "Washington D.C", "Liputan6.com"),
        ("Jakarta - " + BODY, "Jakarta", None),  # detik: a known place in mixed case, no outlet
        ("Moskow - " + BODY, "Moskow", None),
        ("Washington, D.C. - " + BODY, "Washington, D.C.", None),
        ("Banda Aceh - " + BODY, "Banda Aceh", None),
    ],
)
def test_datelines_of_other_outlets(paragraph, place, outlet):
    dateline = parse_dateline(paragraph)
    assert dateline is not None
    assert (dateline.place, dateline.outlet) == (place, outlet)
    assert paragraph[len(dateline.prefix):] == BODY


@pytest.mark.parametrize(
    "paragraph",
    ["Presiden Joko Widodo - yang baru tiba - meresmikan jembatan.", "Harga naik 5 - 10 persen pekan ini.", BODY,
     "Biden - Putin bertemu lewat video selama dua jam pada Selasa malam waktu Washington.",
     "Jakarta Selatan Raya - nama sebuah toko - dibuka kembali pada Senin.",
     "Jakarta - Bandung kini bisa ditempuh dalam 45 menit dengan kereta cepat.",  # a route
     "Serang - serang balik dilancarkan pada Senin malam.",
     "Jakarta – kota terpadat di Indonesia – kembali dilanda banjir pada Selasa.",  # an aside
     "Nusantara - ibu kota baru - akan diresmikan pada Agustus.",
     "TNI - Polri menggelar apel gabungan pengamanan mudik di Monas pada Rabu pagi.",  # an acronym, not a place
     "KPK - yang dulu disegani - kini kehilangan kepercayaan publik, kata peneliti itu."],
)
def test_sentences_with_dashes_are_not_datelines(paragraph):
    assert parse_dateline(paragraph) is None


@pytest.mark.parametrize("paragraph,acronym_like", [
    ("LIPI - Lembaga Ilmu Pengetahuan Indonesia - merilis temuan spesies anggrek baru di Papua.", True),  # spelt out
    ("KONI - Komite Olahraga Nasional Indonesia menyiapkan 200 atlet untuk SEA Games.", True),
    ("SIAK - Seorang Ibu Asal Kampar ditemukan selamat setelah hanyut di Sungai Siak.", True),  # by chance: still a dateline
    ("SIAK - Polisi menangkap dua orang pencuri sawit di Kecamatan Tualang.", False),
    ("PATI - Pemerintah Kabupaten Pati menggelar operasi pasar.", False),
])
def test_a_head_spelt_out_after_its_dash_is_a_dateline_only_above_every_paragraph(paragraph, acronym_like):
    dateline = parse_dateline(paragraph)
    assert dateline is not None and dateline.acronym_like is acronym_like


@pytest.mark.parametrize(
    "line,iso,day",
    [
        ("Kompas.com - 31/12/2021, 10:00 WIB", "2021-12-31T10:00:00+07:00", "2021-12-31"),
        ("Kompas.com - 31/12/2021, 10:00 WIB Diperbarui 31/12/2021, 11:05 WIB", "2021-12-31T10:00:00+07:00", "2021-12-31"),
        ("Kompas.com - 31/12/2021, 10:00 WIB - Diperbarui 02/01/2022, 08:00 WIB", "2021-12-31T10:00:00+07:00", "2021-12-31"),
        ("31 Desember 2021 pukul 10.00 WITA", "2021-12-31T10:00:00+08:00", "2021-12-31"),
        ("Jumat, 31 Des 2021 10:00 WIT", "2021-12-31T10:00:00+09:00", "2021-12-31"),
        ("Kamis, 30 Desember 2021 | 21:15 WIB", "2021-12-30T21:15:00+07:00", "2021-12-30"),
        ("• November 24, 2024", None, "2024-11-24"),
        ("7/12/2021", None, "2021-12-07"),
        ("Published: 2021-12-07 08:30 GMT", "2021-12-07T08:30:00+00:00", "2021-12-07"),
        ("Dipublikasikan 12 Maret 2024.", None, "2024-03-12"),  # ended like a sentence
        ("Diterbitkan 12 Mar 2024, 10.00 WIB.", "2024-03-12T10:00:00+07:00", "2024-03-12"),
        ("Terakhir diperbarui: 12 Mar 2024 11.30 WIB .", "2024-03-12T11:30:00+07:00", "2024-03-12"),
    ],
)
def test_timestamp_lines(line, iso, day):
    stamp = parse_timestamp_line(line)
    assert stamp is not None
    assert (stamp.at.isoformat() if stamp.at else None) == iso
    assert stamp.day.isoformat() == day


def test_time_without_zone_is_not_invented():
    stamp = parse_timestamp_line("31/12/2021, 10:00")
    assert stamp.day.isoformat() == "2021-12-31" and stamp.at is None


def test_weekday_that_contradicts_the_date_is_distrusted():
    stamp = parse_timestamp_line("Senin, 31 Desember 2021 10:00 WIB")  # 31 Dec 2021 was a Friday
    assert stamp.at is None and "Senin" in stamp.warning


def test_sentences_with_dates_are_not_timestamps():
    assert parse_timestamp_line("Biden dan Putin bertemu pada 7 Desember 2021.") is None
    assert parse_timestamp_line("Harga naik 12 Maret 2024.") is None
    assert parse_timestamp_line("Kamis (30/12/2021)") is None


@pytest.mark.parametrize(
    "name,canonical",
    [("KOMPAS.com", "Kompas.com"), ("TEMPO.CO", "Tempo.co"), ("rappler.com", "Rappler"), ("www.Example-News.id", "Example-news.id")],
)
def test_outlet_names_are_canonical(name, canonical):
    assert canonical_outlet(name) == canonical


def test_credited_sources_need_an_agency_or_domain():
    text = ("Hal itu disampaikan menurut Presiden Biden. Dilansir dari Al Jazeera, Senin. Mengutip AFP, pejabat itu berkata. "
            "Seperti dikutip dari laman detiknews.com, ia menolak.")
    assert credited_sources(text) == ["AFP", "Al Jazeera", "detiknews.com"]


def test_signoff_initials_and_outlet():
    assert parse_signoff("Proyek itu selesai tahun depan. (ant/dwi)")[1] is None
    assert parse_signoff("Proyek itu selesai tahun depan. – Rappler.com")[1] == "Rappler"
    assert parse_signoff("Proyek itu selesai tahun depan.") is None


def test_unseen_outlet_page_end_to_end():
    page = "\n".join([
        "Jokowi Resmikan Jembatan Baru di Kalimantan Timur",
        "",
        "Kamis, 30 Desember 2021 | 21:15 WIB",
        "ADVERTISEMENT",
        "SCROLL TO CONTINUE WITH CONTENT",
        "",
        "Jakarta, CNN Indonesia -- " + BODY,
        "",
        "Baca juga: Jembatan Lain Segera Dibangun",
        "",
        "Jembatan itu menghubungkan dua kabupaten dan diperkirakan memangkas waktu tempuh hingga dua jam, "
        "kata seorang pejabat dikutip dari Reuters. Baca juga: Harga Tiket Kapal Turun",
        "",
        "[Gambas:Video CNN]",
        "",
        "Dampak Ekonomi",
        "",
        "Warga berharap harga barang turun setelah jembatan beroperasi penuh pada tahun depan, ujar seorang pedagang.",
        "",
        "(Reporter: Nadia Putri | Editor: Rina Wulandari)",
        "",
        "Berita Terkait",
        "Harga Tiket Kapal Turun Jelang Tahun Baru",
        "Jembatan Lain Segera Dibangun di Kalimantan",
    ])
    article = normalize_text(page, "cnn/jembatan.txt", "0" * 64).article
    assert article.title == "Jokowi Resmikan Jembatan Baru di Kalimantan Timur"
    assert article.outlet == "CNN Indonesia"
    assert article.dateline_place == "Jakarta"
    assert article.published_at.isoformat() == "2021-12-30T21:15:00+07:00"
    assert article.wire_sources == ["Reuters"]
    assert article.authors == ["Nadia Putri"]
    assert article.paragraphs == [
        BODY,
        "Jembatan itu menghubungkan dua kabupaten dan diperkirakan memangkas waktu tempuh hingga dua jam, "
        "kata seorang pejabat dikutip dari Reuters.",
        "Dampak Ekonomi",
        "Warga berharap harga barang turun setelah jembatan beroperasi penuh pada tahun depan, ujar seorang pedagang.",
    ]
    rules = {r.text: r.rule for r in article.removed}
    assert rules["Baca juga: Harga Tiket Kapal Turun"] == "read_more"
    assert rules["Harga Tiket Kapal Turun Jelang Tahun Baru"] == "related_list"
    assert rules["[Gambas:Video CNN]"] == "embed"


@pytest.mark.parametrize(
    "line,rule",
    [
        ("BACA HALAMAN BERIKUTNYA", "navigation"),
        ("Pilihan Editor: Jokowi Resmikan Jembatan", "read_more"),
        ("Presiden meresmikan jembatan. (ANTARA FOTO/Hafidz Mubarak)", "caption"),
    ],
)
def test_more_furniture_shapes(line, rule):
    assert classify_line(line) == rule


def test_initials_signoff_is_not_a_caption():
    paragraph = "Pembangunan jembatan itu ditargetkan selesai pada akhir tahun depan, kata juru bicara kementerian. (pmg/rds)"
    assert classify_line(paragraph) is None
    article = normalize_text("JAKARTA, CNN Indonesia -- " + BODY + "\n\n" + paragraph, "cnn.txt", "0" * 64).article
    assert article.paragraphs[-1] == paragraph.removesuffix(" (pmg/rds)")
    assert [(r.rule, r.text) for r in article.removed if r.rule == "signoff"] == [("signoff", "(pmg/rds)")]


MONTH_WORDS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November",
               "Desember", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Agu", "Agt", "Sep", "Okt", "Nov", "Nop", "Des", "Aug",
               "Oct", "Dec", "May", "March", "October", "December"]


@pytest.mark.parametrize("month", MONTH_WORDS)
def test_month_table_agrees_with_dateparser(month):
    from dateparser.date import DateDataParser

    from dataset.metadata import _parse_day

    parser = DateDataParser(languages=["id", "en"], settings={"DATE_ORDER": "DMY"})
    for text in (f"7 {month} 2021", f"{month} 7, 2021"):
        assert _parse_day.__wrapped__(text) == parser.get_date_data(text).date_obj.date(), text


def test_timestamps_in_the_related_list_below_do_not_date_the_article():
    page = "\n\n".join([
        "Jembatan Baru Diresmikan di Kalimantan Timur",
        "JAKARTA, KOMPAS.com - " + BODY,
        BODY.replace("Senin pagi", "Selasa siang"),
        "Berita Terkait",
        "Banjir Rendam Jalan Protokol di Samarinda",
        "Tribunnews.com - 02/06/2019, 08:00 WIB",
    ])
    article = normalize_text(page, "x.txt", "0" * 64).article
    assert (article.published_at, article.published_date, article.outlet) == (None, None, "Kompas.com")
    assert [r.rule for r in article.removed if r.text.startswith("Tribunnews")] == ["timestamp"]  # still in the audit
    dated = normalize_text(page.replace("\n\nJAKARTA", "\n\nKompas.com - 31/12/2021, 10:00 WIB\n\nJAKARTA"), "x.txt", "0" * 64)
    assert dated.article.published_at.isoformat() == "2021-12-31T10:00:00+07:00"


def test_a_typeset_apostrophe_in_the_weekday():
    stamp = parse_timestamp_line("Jum’at, 31 Des 2021 10:00 WIB")
    assert stamp is not None and stamp.at.isoformat() == "2021-12-31T10:00:00+07:00" and stamp.warning is None


@pytest.mark.parametrize("paragraph,place,outlet", [
    ("Jakarta (ANTARA) - " + BODY, "Jakarta", "ANTARA"),
    ("Moskow (ANTARA/Sputnik) - " + BODY, "Moskow", "ANTARA"),
])
def test_datelines_with_the_outlet_in_brackets(paragraph, place, outlet):
    dateline = parse_dateline(paragraph)
    assert (dateline.place, dateline.outlet) == (place, outlet) and paragraph[len(dateline.prefix):] == BODY


def test_indonesian_outlets_and_the_neighbourhood_unit_in_credits():
    assert credited_sources("Seperti dikutip dari CNN Indonesia, Jumat. Dilansir dari CNBC Indonesia, Sabtu.") == [
        "CNBC Indonesia", "CNN Indonesia"]
    assert credited_sources("Menurut RT setempat, banjir datang malam hari. Laporan RT 05/RW 02 menyebut hal sama.") == []
    assert credited_sources("Dilansir RT, Moskow menolak tuduhan itu.") == ["RT"]


MENU = ["detikNews", "News", "Internasional", "Ekonomi", "Olahraga", "Luar Negeri", "Otomotif", "Teknologi", "Hiburan",
        "Gaya Hidup", "Kesehatan", "Travel", "Kuliner", "Indeks", "Pemilu", "Hukum", "Politik"]
DETIK_BODY = [
    "Jakarta - Presiden Amerika Serikat (AS) Joe Biden dan Presiden Rusia Vladimir Putin berbicara lewat video selama "
    "dua jam pada Selasa (7/12) waktu setempat, membahas situasi di perbatasan Ukraina.",
    "Gedung Putih menyebut Biden menyampaikan kekhawatiran AS dan sekutu Eropa soal penumpukan pasukan Rusia di sekitar "
    "Ukraina, dan mengancam sanksi ekonomi yang kuat.",
    "Ada tiga hal yang dibahas:",
    "Pasukan",
    "Sanksi",
    "Gas",
    "Energi",
    "Diplomasi",
    "Kremlin menyatakan Putin meminta jaminan hukum bahwa NATO tidak akan memperluas keanggotaannya ke arah timur.",
]


def test_a_detik_page_with_a_long_menu_a_breadcrumb_and_a_mixed_case_dateline():
    """A site menu longer than HEADER_SEARCH pushed the dateline out of reach and gave `Luar Negeri` as the title."""
    page = "\n".join(MENU + ["Home > Internasional", "Biden dan Putin Bicara Lewat Video Selama Dua Jam",
                             "Tim detikNews - detikNews", "Rabu, 08 Des 2021 07:15 WIB", *DETIK_BODY])
    article = normalize_text(page, "detik.txt", "0" * 64, None).article
    assert article.title == "Biden dan Putin Bicara Lewat Video Selama Dua Jam"
    assert article.dateline_place == "Jakarta"
    assert article.published_at.isoformat() == "2021-12-08T07:15:00+07:00"
    assert article.text.split("\n\n") == [DETIK_BODY[0].removeprefix("Jakarta - "), *DETIK_BODY[1:]]
    rules = {r.text: r.rule for r in article.removed}
    assert {rules[item] for item in MENU} == {"header"} and rules["Home > Internasional"] == "navigation"


def test_a_two_word_headline_is_not_a_menu():
    page = "\n".join(["Krisis Ukraina", "Biden ancam sanksi jika Rusia menyerang", "Rabu, 08 Des 2021 07:15 WIB",
                      *DETIK_BODY])
    article = normalize_text(page, "x.txt", "0" * 64, None).article
    assert article.title == "Krisis Ukraina"
    assert "Krisis Ukraina" not in article.text and article.dateline_place == "Jakarta"


def page_of(*lines: str):
    return normalize_text("\n".join(lines), "x.txt", "0" * 64, None).article


def test_a_menu_of_two_word_items_does_not_give_the_title():
    menu = ["News", "Luar Negeri", "Berita Daerah", "Sepak Bola", "Sport", "Tekno", "Otomotif", "Gaya Hidup"]
    article = page_of(*menu, "Biden dan Putin Bicara Lewat Video Selama Dua Jam", "Rabu, 08 Des 2021 07:15 WIB", *DETIK_BODY)
    assert article.title == "Biden dan Putin Bicara Lewat Video Selama Dua Jam"
    assert {r.rule for r in article.removed if r.text in menu} == {"header"}


@pytest.mark.parametrize("header,title", [
    (["Nasional", "Gempa Guncang Cianjur", "Reporter", "Ahmad Faiz", "Editor", "Dewi Rina", "Tempo.co", "Font", "A-", "A+"],
     "Gempa Guncang Cianjur"),
    (MENU[:9] + ["Harga BBM Naik", "Rina Dewi", "Jurnalis"], "Harga BBM Naik"),  # a short headline right after a menu
    (["Gempa Cianjur", "Kompas.com", "Penulis", "Ahmad Faiz", "Editor", "Dewi Rina", "Lihat Foto", "Dibaca"], "Gempa Cianjur"),
])
def test_a_short_headline_among_short_header_lines_is_still_the_title(header, title):
    assert page_of(*header, "Senin, 21 Nov 2022 14:05 WIB", *DETIK_BODY).title == title


@pytest.mark.parametrize("breadcrumb", ["Home > Internasional > Biden dan Putin Bicara Lewat Video", "Home >> News >> Politik",
                                        "Home > Money > Keuangan, Pajak", "Beranda › News › 2021", "detikNews » Internasional",
                                        "News / Nasional / Politik", "Home | News | Nasional", "Beranda / Berita",
                                        "Home - Nasional - Politik"])
def test_a_breadcrumb_above_the_body_is_navigation_not_the_title(breadcrumb):
    article = page_of(breadcrumb, "Biden dan Putin Bicara Lewat Video Selama Dua Jam", *DETIK_BODY)
    assert article.title == "Biden dan Putin Bicara Lewat Video Selama Dua Jam"
    assert {r.text: r.rule for r in article.removed}[breadcrumb] == "navigation"


@pytest.mark.parametrize("headline", ["Biden - Putin Bicara Lewat Video", "Rusia / Ukraina", "Inflasi | Harga Naik"])
def test_a_headline_cut_by_a_dash_or_slash_is_still_the_title(headline):
    assert page_of(headline, "Senin, 21 Nov 2022 14:05 WIB", *DETIK_BODY).title == headline


def test_a_menu_path_in_a_how_to_article_is_article_text():
    steps = ["Berikut langkah-langkahnya:", "Buka Settings > Privacy", "Pilih Location Services", "Geser tombol ke posisi mati",
             "Selesai, aplikasi tidak lagi bisa melacak lokasi Anda."]
    article = page_of("Cara Mematikan Lokasi di iPhone", "Kompas.com - 12/03/2024, 10:00 WIB", DETIK_BODY[1], *steps)
    assert article.text.split("\n\n") == [DETIK_BODY[1], *steps]


def test_short_lines_above_a_late_first_paragraph_stay_article_text():
    """A recipe's ingredients (no dateline below them): the search past short lines looks for a dateline only."""
    ingredients = [f"{n} sdm bahan nomor {n}" for n in range(1, 17)]
    body = ["Panggang selama 20 menit di suhu 150 derajat Celsius sampai kuning keemasan, lalu angkat dan dinginkan "
            "sebelum disajikan bersama teh hangat di sore hari."]
    article = page_of("Resep Kue Kering Kayu Manis", "Kompas.com - 10/04/2023, 09:00 WIB", "Bahan-bahan:", *ingredients, *body)
    assert article.text.split("\n\n")[-len(ingredients) - 2:] == ["Bahan-bahan:", *ingredients, *body]


@pytest.mark.parametrize("item", ["Jakarta - Cerah berawan", "Jakarta - Rp 5.067.381", "Jakarta - Imsak 04.28 WIB"])
def test_a_place_keyed_list_item_is_no_dateline(item):
    items = [item, "Bandung - Hujan ringan", "Surabaya - Cerah"]
    article = page_of("Prakiraan Cuaca Hari Ini", "Senin, 15 Januari 2024 06:00 WIB", *items)
    assert article.dateline_place is None and article.text.endswith("\n\n".join(items))


@pytest.mark.parametrize("second", [
    "Jakarta - Bandung kini bisa ditempuh dalam 45 menit. Moskow - Kremlin menyatakan hal serupa soal kereta cepat di "
    "negaranya, kata juru bicara perusahaan itu kepada wartawan.",  # a place and a dash further down
    "TNI - Polri menggelar apel gabungan di Monas pada Rabu pagi, diikuti oleh ribuan personel yang akan ditempatkan di "
    "titik-titik rawan kemacetan selama libur panjang.",  # an acronym and a dash: it used to cut the paragraph above
    "PDIP - Partai pemenang pemilu itu - menyatakan akan mendukung program kereta cepat lanjutan ke Surabaya, kata "
    "sekretaris jenderalnya.",  # four capitals, no listed place: a dateline only above every paragraph
    "BUMN - Badan usaha milik negara mencatat laba gabungan naik tahun ini berkat proyek infrastruktur, kata menteri "
    "dalam rapat kerja dengan DPR.",
    "KONI - Komite Olahraga Nasional Indonesia menyatakan kereta cepat akan dipakai untuk mengangkut atlet ke Bandung "
    "selama pekan olahraga nasional.",  # a pronounceable acronym, spelt out after its dash: it used to cut the paragraph above
])
def test_a_dash_further_down_is_no_dateline_and_cuts_nothing(second):
    lead = ["PT Kereta Cepat Indonesia China mencatat kereta cepat Whoosh telah mengangkut lima juta penumpang sejak "
            "beroperasi pada Oktober tahun lalu, menurut keterangan resmi perusahaan.", second]
    article = page_of("Kereta Cepat Whoosh Catat 5 Juta Penumpang", "Senin, 15 Januari 2024 14:20 WIB", *lead)
    assert article.dateline_place is None and article.text.split("\n\n") == lead


def test_an_unlisted_capitalised_place_opening_the_body_is_the_dateline():
    lead = "SUBANG - Polisi menangkap dua orang yang diduga mencuri kabel listrik di jalur kereta cepat pada Selasa malam."
    rest = "Keduanya kini ditahan di markas kepolisian resor setempat untuk menjalani pemeriksaan lebih lanjut."
    article = page_of("Dua Pencuri Kabel Ditangkap", "Rabu, 17 Januari 2024 08:10 WIB", lead, rest)
    assert article.dateline_place == "SUBANG"
    assert article.text.split("\n\n") == [lead.removeprefix("SUBANG - "), rest]


@pytest.mark.parametrize("lead", [
    "Presiden Joko Widodo meresmikan Bendungan Sadawarna di Kabupaten Subang, Jawa Barat, pada Selasa pagi bersama "
    "sejumlah menteri Kabinet Indonesia Maju.",
    "Subang - Presiden Joko Widodo meresmikan Bendungan Sadawarna di Kabupaten Subang, Jawa Barat, pada Selasa pagi "
    "bersama sejumlah menteri Kabinet Indonesia Maju.",  # detik's dateline of an unlisted place
])
def test_a_lead_dense_with_names_is_article_text(lead):
    """Most of its words are capitalised, like a linked headline's, but a sentence this long is prose: it used to be
    lost as header when no dateline stood above it."""
    rest = ["Bendungan itu diharapkan mengairi ribuan hektare sawah dan mengurangi banjir di wilayah utara kabupaten "
            "tersebut, kata kepala balai wilayah sungai setempat.", "Pembangunannya dimulai pada tahun 2018."]
    article = page_of("Jokowi Resmikan Bendungan Sadawarna di Subang", "Selasa, 12 Maret 2024 10:00 WIB", lead, *rest)
    assert article.title == "Jokowi Resmikan Bendungan Sadawarna di Subang"
    assert article.text.split("\n\n") == [lead, *rest]


LATE_PARAGRAPH = ("Di Pasar Induk Kramat Jati, harga cabai rawit merah kini mencapai Rp 90.000 per kilogram, naik dua kali "
                  "lipat dibanding pekan lalu, kata para pedagang.")


@pytest.mark.parametrize("opening", [
    ["Harga cabai rawit melonjak tajam."],  # a one-sentence lead
    ["“Pasar sepi sejak Senin.”", "Begitu kata Siti, pedagang cabai."],  # a quote
    ["Berikut tiga penyebabnya:", "1. Hujan deras", "2. Gagal panen", "3) Ongkos angkut naik"],  # a list
])
def test_short_opening_lines_without_a_dateline_are_article_text(opening):
    """Above the first paragraph and below the headline, lines that end a sentence open the article: they used to be
    header (the first of them a subtitle), lost."""
    article = page_of("Harga Cabai Melonjak", "Kompas.com - 22/11/2022, 10:00 WIB", *opening, LATE_PARAGRAPH)
    assert article.title == "Harga Cabai Melonjak"
    assert article.text.split("\n\n") == [*opening, LATE_PARAGRAPH]


@pytest.mark.parametrize("header", [
    ["Poin Penting", "Harga cabai rawit naik dua kali lipat.", "Pedagang mengeluhkan sepinya pembeli."],  # a key-points box
    ["Ilustrasi cabai rawit di pasar. (Pixabay)"],  # a caption with its credit
    ["Benarkah Harga Cabai Akan Terus Naik?"],  # a teaser, capitalised like a headline
    ["Dengarkan artikel ini:"], ["Memuat artikel lainnya..."],  # widgets
    ["1. Jokowi Resmikan Bendungan di Subang", "2. Harga Beras Naik Lagi Pekan Ini"],  # a numbered list of headlines
])
def test_header_boxes_captions_and_widgets_above_a_late_first_paragraph_stay_header(header):
    article = page_of("Harga Cabai Melonjak", "Kompas.com - 22/11/2022, 10:00 WIB", *header, LATE_PARAGRAPH)
    assert article.text == LATE_PARAGRAPH
    assert all(r.rule in ("subtitle", "header") for r in article.removed if r.text in header)


def test_an_oleh_byline_names_the_author():
    article = page_of("Harga Cabai Melonjak", "Oleh: Ahmad Faiz", "Harga cabai rawit melonjak tajam.", LATE_PARAGRAPH)
    assert article.authors == ["Ahmad Faiz"]
    assert article.text.split("\n\n") == ["Harga cabai rawit melonjak tajam.", LATE_PARAGRAPH]


def test_opening_lines_wait_for_the_dateline_when_there_is_one():
    article = page_of("Harga Cabai Melonjak", "Kompas.com - 22/11/2022, 10:00 WIB", "Harga cabai rawit melonjak tajam.",
                      "JAKARTA, KOMPAS.com - " + LATE_PARAGRAPH)
    assert article.text == LATE_PARAGRAPH


def test_a_cookie_notice_above_the_page_is_no_paragraph():
    """Paragraph-shaped, it used to start the body: the menu, headline and byline below it all became article text."""
    notice = ("Kami menggunakan cookie untuk meningkatkan pengalaman Anda di situs ini. Dengan melanjutkan, Anda "
              "menyetujui kebijakan privasi kami.")
    article = page_of(notice, *MENU[:9], "Harga BBM Subsidi Resmi Naik Mulai Hari Ini", "Sabtu, 03 Sep 2022 14:30 WIB",
                      "Jakarta - " + LATE_PARAGRAPH)
    assert article.title == "Harga BBM Subsidi Resmi Naik Mulai Hari Ini"
    assert (article.dateline_place, article.text) == ("Jakarta", LATE_PARAGRAPH)
    assert [r.rule for r in article.removed if r.text == notice] == ["consent"]


def test_every_line_rule_is_described_for_the_card():
    from dataset.records import REMOVAL_RULES
    from dataset.rules import LINE_RULES

    assert {rule for rule, _ in LINE_RULES} <= set(REMOVAL_RULES)


def test_a_site_menu_longer_than_the_header_search_above_an_article_without_dateline():
    """The menu pushed the first paragraph past HEADER_SEARCH, and the whole page (menu, headline, byline) became text."""
    menu = ["Home", "News", "Bisnis", "Bola", "Sports", "Tekno", "Sains", "Otomotif", "Woman", "Mom", "Food", "Travel",
            "Bolanita", "Kumparan+", "Pilkada", "Pemilu", "Video", "Berita Utama"]
    body = [LATE_PARAGRAPH, "Para pedagang mengaku omzet mereka turun karena pembeli mengurangi belanja sejak awal bulan."]
    article = page_of(*menu, "kumparanNEWS", "Selasa, 12 Maret 2024 10:00 WIB", "Harga Cabai Naik Lagi, Pedagang Mengeluh",
                      *body)
    assert (article.title, article.text.split("\n\n")) == ("Harga Cabai Naik Lagi, Pedagang Mengeluh", body)


@pytest.mark.parametrize("masthead", ["CNN Indonesia", "ANTARA FOTO", "Kompas TV", "CNBC Indonesia"])
def test_an_outlet_name_above_the_headline_is_not_the_title(masthead):
    article = page_of(masthead, "Harga BBM Naik Mulai Hari Ini", "Sabtu, 03 Sep 2022 14:30 WIB", *DETIK_BODY)
    assert article.title == "Harga BBM Naik Mulai Hari Ini"
    assert {r.text: r.rule for r in article.removed}[masthead] == "header"


@pytest.mark.parametrize("byline,authors", [
    ("Oleh: Dr. Ir. Bambang Susantono, M.T.", ["Dr. Ir. Bambang Susantono"]),
    ("Oleh: Ahmad Faiz, Pengamat Ekonomi Universitas Andalas", ["Ahmad Faiz"]),
    ("Oleh: Ahmad Faiz (Dosen FEB UI)", ["Ahmad Faiz"]),
    ("Oleh: Ahmad Faiz*", ["Ahmad Faiz"]),
    ("Oleh: Ustadz Adi Hidayat, Lc., MA", ["Ustadz Adi Hidayat"]),
    ("Penulis: Ahmad Faiz dan Rina Marlina", ["Ahmad Faiz", "Rina Marlina"]),
    ("Penulis: ANT/Rina Marlina", ["ANT", "Rina Marlina"]),  # a credit alone is kept, degree-shaped or not
])
def test_byline_names_without_degrees_roles_or_affiliations(byline, authors):
    assert page_of("Harga Cabai Melonjak", byline, LATE_PARAGRAPH).authors == authors


def test_a_capitalised_footer_below_the_related_list_is_no_paragraph():
    """A long title-case sentence may open a body without dateline, but at the tail it is a footer: it used to keep the
    related list above it in the text."""
    related = ["Berita Terkait", "Stok Beras Bulog Aman hingga Lebaran", "Jokowi Cek Harga Beras di Pasar Induk Cipinang"]
    footer = "Copyright 2008 - 2024 PT. Kompas Cyber Media (Kompas Gramedia Digital Group). All Rights Reserved."
    article = page_of("Harga Cabai Melonjak", "Kompas.com - 22/11/2022, 10:00 WIB", "JAKARTA, KOMPAS.com - " + LATE_PARAGRAPH,
                      *related, footer)
    assert article.text == LATE_PARAGRAPH


@pytest.mark.parametrize("above", [
    "Warga menunggu bus di halte yang baru diresmikan di pusat kota pada Senin pagi.",  # an uncredited caption
    "Presiden Joko Widodo Meresmikan Bendungan Sadawarna Di Kabupaten Subang Jawa Barat Bersama Menteri PUPR Basuki "
    "Hadimuljono.",  # a capitalised caption of fifteen words
])
def test_an_unlisted_place_in_capitals_is_the_dateline_below_a_caption(above):
    lead = "SUBANG - Polisi menangkap dua orang yang diduga mencuri kabel listrik di jalur kereta cepat pada Selasa malam."
    article = page_of("Dua Pencuri Kabel Ditangkap", "Rabu, 17 Januari 2024 08:10 WIB", above, lead)
    assert (article.dateline_place, article.text) == ("SUBANG", lead.removeprefix("SUBANG - "))


@pytest.mark.parametrize("notice", ["Artikel ini telah diperbarui.", "Bagaimana perasaan Anda membaca artikel ini?",
                                    "Klik untuk membaca selengkapnya.", "Berlangganan untuk membaca tanpa batas!"])
def test_a_notice_about_the_page_below_the_byline_is_not_the_opening(notice):
    article = page_of("Harga Cabai Melonjak", "Oleh: Ahmad Faiz", notice, LATE_PARAGRAPH)
    assert article.text == LATE_PARAGRAPH


def test_a_one_line_lead_under_a_weak_dateline():
    article = page_of("Harga Beras Naik Lagi", "Senin, 11 Mar 2024 10:00 WIB", "Jakarta - Harga beras naik lagi pekan ini.",
                      LATE_PARAGRAPH)
    assert (article.dateline_place, article.text.split("\n\n")) == ("Jakarta", ["Harga beras naik lagi pekan ini.", LATE_PARAGRAPH])


def test_a_long_line_starting_with_oleh_is_no_byline():
    line = "Oleh: tim dapur kami, resep ini sudah diuji tiga kali di rumah dan hasilnya selalu konsisten setiap kali."
    assert classify_line(line) is None


@pytest.mark.parametrize("rubric,headline", [
    ("Liga Inggris", "Arsenal Kalahkan Manchester United 2-0 di Emirates"),
    ("Cek Fakta", "Benarkah Vaksin Covid-19 Mengandung Microchip?"),
    ("Ekonomi Makro", "Inflasi Februari 2024 Capai 2,75%, Dipicu Harga Beras"),
    ("Berita Utama", "Harga Beras Kembali Naik di Sejumlah Daerah"),
    ("Luar Negeri", "Biden dan Putin Bicara Lewat Video"),
    ("Jawa Barat", "Banjir Rendam Ratusan Rumah di Karawang"),
    ("SIARAN PERS", "Kementerian Keuangan Salurkan Insentif Pajak untuk UMKM"),
    ("Sosial Budaya", "Mengapa Harga Beras Tak Kunjung Turun Setelah Impor"),  # capitalised throughout, but long
    ("Liga 1", "Persib Tekuk Persija 2-1 di Stadion GBLA"),
    ("Regional Jatim", "Banjir Rendam Ratusan Rumah di Sidoarjo"),
])
@pytest.mark.parametrize("between", [[], ["Senin, 11 Mar 2024 10:00 WIB"]])
def test_a_rubric_or_kicker_above_the_headline_is_not_the_title(rubric, headline, between):
    """A two-word line used to be the title whenever it came first."""
    article = page_of(rubric, *between, headline, "Senin, 11 Mar 2024 10:00 WIB", *DETIK_BODY)
    assert article.title == headline
    assert {r.text: r.rule for r in article.removed}[rubric] == "header"


@pytest.mark.parametrize("headline,below", [
    ("Krisis Ukraina", "Biden ancam sanksi ekonomi"),  # a deck
    ("Politik Gentong", "Budi Santoso Wijaya"),  # a columnist's name
    ("Ekonomi Lesu", "Oleh Nanda Perdana Putra"),
    ("Dinasti Politik", "Suasana Rumah Warga Yang Rusak Akibat Gempa"),  # a caption in title case
])
def test_a_two_word_headline_stays_the_title_above_a_deck_a_name_or_a_caption(headline, below):
    """Taking any title-case line below a two-word line as the headline (tried, then narrowed to rubric words) gave
    the columnist's name or the caption as the title."""
    assert page_of(headline, below, "Senin, 11 Mar 2024 10:00 WIB", *DETIK_BODY).title == headline


@pytest.mark.parametrize("headline,below", [
    ("Budaya Politik", ["Ahmad Fauzi - detikNews"]),  # a column's byline naming its outlet
    ("Pendidikan Politik", ["Anggi Permana | CNN Indonesia"]),
    ("Hukum Pemilu", ["Titi Anggraini", "Dosen Hukum Pemilu Fakultas Hukum Universitas Indonesia"]),  # name, role
    ("Pilkada DKI Jakarta", ["Peta koalisi partai menjelang pendaftaran calon gubernur"]),  # a deck
    ("Sepak Bola", ["Timnas Bersiap"]),
    ("Politik Luar Negeri", ["Prof. Dr. Hikmahanto Juwana"]),  # a third audit's: names, credits and captions
    ("Budaya Politik", ["I Gusti Ngurah Putra Wirawan"]),
    ("Pendidikan Politik", ["Oleh Muhammad Rizky Pratama"]),
    ("Sepak Bola Indonesia", ["Akmal Marhali, Koordinator Save Our Soccer"]),
    ("Hukum Kesehatan", ["ANTARA FOTO/Aditya Pradana Putra"]),
    ("Ekonomi Politik", ["Presiden Joko Widodo saat meresmikan Tol Cisumdawu"]),
])
def test_a_headline_of_rubric_words_over_a_byline_a_name_or_a_deck_is_the_title(headline, below):
    """Skipping every rubric-shaped line gave the columnist, the byline or the deck as the title (an audit's finding):
    the line below a rubric must read as a headline: four words or more, capitalised but for function words, more
    than a list of names, and no credit."""
    assert page_of("Kolom", headline, *below, "Senin, 11 Mar 2024 10:00 WIB", *DETIK_BODY).title == headline


@pytest.mark.parametrize("date_line", ["Dipublikasikan 12 Maret 2024.", "Diterbitkan: 12/03/2024.",
                                       "Dipublikasikan pada 12 Maret 2024."])
def test_a_labelled_date_ending_in_a_full_stop_is_the_timestamp_and_the_lead_below_joins(date_line):
    """It used to open the article as a sentence of four words; once it did not, the lead below it was lost."""
    article = page_of("Harga Beras Kembali Naik di Sejumlah Daerah", date_line, "Harga beras naik lagi pekan ini.", LATE_PARAGRAPH)
    assert article.text.split("\n\n") == ["Harga beras naik lagi pekan ini.", LATE_PARAGRAPH]
    assert article.published_date.isoformat() == "2024-03-12"


@pytest.mark.parametrize("date_line", ["Diunggah 12 Maret 2024", "12 Mar 2024, 10.00 WIB.", "Jakarta, 12 Maret 2024"])
@pytest.mark.parametrize("below", ["Warga mengantre membeli beras murah di Pasar Induk Cipinang.", "1. Harga beras naik."])
def test_an_unrecognised_date_line_is_no_opening_line_and_no_furniture(date_line, below):
    """Not the article's opening (four words and a full stop), and not furniture either: a caption or a key point
    under it stays out of the text (treating it as furniture was tried and reverted after an audit)."""
    article = page_of("Harga Beras Kembali Naik di Sejumlah Daerah", date_line, below, LATE_PARAGRAPH)
    assert article.text == LATE_PARAGRAPH


def test_a_lead_that_names_a_date_is_still_the_lead():
    lead = "Harga beras naik lagi pada 12 Maret 2024."
    assert page_of("Harga Beras Kembali Naik di Sejumlah Daerah", lead, LATE_PARAGRAPH).text.split("\n\n") == [lead, LATE_PARAGRAPH]


def test_a_last_updated_line_is_an_update_not_the_publication_time():
    stamp = parse_timestamp_line("Terakhir diperbarui: 12 Mar 2024 11.30 WIB.")
    assert stamp is not None and stamp.is_update


def test_a_date_line_ending_in_a_full_stop_dates_the_article():
    article = page_of("Harga Beras Kembali Naik di Sejumlah Daerah", "Kompas.com - 12/03/2024, 10:00 WIB.", LATE_PARAGRAPH)
    assert (article.published_at.isoformat(), article.text) == ("2024-03-12T10:00:00+07:00", LATE_PARAGRAPH)


def test_a_results_list_below_an_ai_summary_and_the_first_paragraphs_is_no_dateline():
    """Passing over an AI summary's lines above a dateline was tried and reverted: with no dateline at the top, the
    window covered the first paragraphs too, and `PSIS - Persib 1-0` became a dateline that cut them as summary."""
    body = ["PSIS Semarang meraih kemenangan penting atas pemuncak klasemen Persib Bandung dengan skor 1-0 dalam lanjutan "
            "pekan ke-30 Liga 1 di Stadion Jatidiri, Semarang, Senin sore.",
            "Gol semata wayang laskar Mahesa Jenar dicetak Gali Freitas pada menit ke-67 memanfaatkan kemelut di depan "
            "gawang Persib.", "Berikut hasil lengkap pertandingan pekan ke-30 Liga 1:", "PSIS - Persib 1-0",
            "Persija - Bali United 2-2"]
    article = page_of("Hasil Liga 1 Pekan ke-30: PSIS Tekuk Persib", "Senin, 11 Mar 2024 22:10 WIB", "Ringkasan AI",
                      "PSIS Semarang menang tipis atas Persib Bandung.", "Persija Jakarta ditahan imbang Bali United.", *body)
    assert article.dateline_place is None and article.text.split("\n\n")[-len(body):] == body


@pytest.mark.parametrize("heading", ["PP Nomor 28 Tahun 2024", "Top 10 Smartphone 2024", "Harga Cabai 12 Maret 2024"])
def test_a_heading_with_a_number_or_a_teaser_with_a_date_does_not_let_the_box_below_join(heading):
    """Only a month's name makes a date: `28 Tahun 2024` is no date line, so the key points below stay header."""
    points = ["Aturan ini berlaku mulai tahun depan.", "Pelanggar dikenai sanksi administratif."]
    article = page_of("Pemerintah Terbitkan Aturan Baru soal Kesehatan", "Oleh: Ahmad Faiz", heading, *points, LATE_PARAGRAPH)
    assert article.text == LATE_PARAGRAPH


@pytest.mark.parametrize("date_line", ["Minggu, 4 Februari 2024.", "- 12 Maret 2024.", "Selasa, 12 Desember 2023, pukul 19.00 WIB."])
def test_a_date_ending_a_sentence_in_the_body_is_article_text(date_line):
    """A full stop after a date, or a date and time, is the body's own (an agenda, a chronology): only a label or an
    outlet makes such a line the page's timestamp."""
    body = ["Panitia mengumumkan jadwal pendaftaran ulang peserta seleksi calon aparatur sipil negara tahun ini.", date_line,
            LATE_PARAGRAPH]
    article = page_of("Jadwal Pendaftaran Ulang CPNS", *body)
    assert article.text.split("\n\n") == body and article.published_date is None


def test_a_regional_dateline_that_happens_to_spell_its_name_still_opens_the_body():
    lead = "SIAK - Seorang Ibu Asal Kampar ditemukan selamat setelah hanyut sejauh dua kilometer di Sungai Siak, Riau."
    article = page_of("Ibu yang Hanyut di Sungai Siak Ditemukan Selamat", "Senin, 11 Mar 2024 10:00 WIB", lead, LATE_PARAGRAPH)
    assert (article.dateline_place, article.text.split("\n\n")[0]) == ("SIAK", lead.removeprefix("SIAK - "))


def test_a_diary_entry_opening_with_its_day_keeps_the_day_and_its_first_lines():
    """A bare day ending in a full stop may be the article's own (a diary, a letter): only a date with a time of day
    is the page's. Refusing every date line lost the entry's first sentence too (an audit's finding)."""
    opening = ["Rabu, 13 Maret 2024.", "Hari itu listrik padam sejak pagi."]
    article = page_of("Catatan Harian dari Kamp Pengungsi Rafah", "Senin, 18 Mar 2024 10:00 WIB", *opening, LATE_PARAGRAPH)
    assert article.text.split("\n\n") == [*opening, LATE_PARAGRAPH]


@pytest.mark.parametrize("box_line", ["Diterbitkan: 5 Januari 2024.", "Diperbarui: 12 Maret 2024."])
def test_a_labelled_date_ending_a_sentence_in_the_body_is_article_text(box_line):
    """Above the body such a line is the page's timestamp; in a book's or an app's box below, it is the article's:
    it was removed and dated the review with the book's date."""
    body = ["Novel terbaru Leila S. Chudori mengisahkan tiga generasi keluarga eksil politik di Paris dan Jakarta.",
            "Judul: Namaku Alam", box_line, LATE_PARAGRAPH]
    article = page_of("Resensi: Kisah Keluarga Eksil dalam Namaku Alam", *body)
    assert article.text.split("\n\n") == body and article.published_date is None
