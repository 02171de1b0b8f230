"""The content of the monthly report of a region (domain.md §6, §7), in Bahasa Indonesia, as
plain data (:class:`Report`: sections of tables) that ``xlsx.py`` and ``pdf.py`` write.

Every figure comes from ``queries.figures`` (the stored numerator and denominator, the latest
revision of a closed value): nothing here recomputes an indicator. Disclosure control (§6.7) is
applied to what is written, by ``disclosure.py`` as on the dashboard: counts of 1-4 are ``<5``, a
second cell of a breakdown is "dirahasiakan" when it would let a hidden one be recomputed from the
total, and rates computed from small counts are marked. The file is marked RAHASIA (top of every
PDF page, first row of every sheet), stored outside the web root under a random name with mode
0600 (``storage.py``) and served only through the scoped, audited download in
``views/reports.py``.

The report names no person: only regions, agencies and categories."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale

from app.agencies.models import Agency
from app.core.db import utcnow
from app.core.enums import CaseType, IncidentPlace, Relationship, Sex, ViolenceType
from app.core.formatting import format_day, format_moment
from app.core.labels import label
from app.extensions import db
from app.indicators import disclosure
from app.indicators.compute import agencies_in, descendants, region_tree
from app.indicators.periods import JAKARTA, Period, parse
from app.indicators.queries import Figure, closed, figures
from app.quality.queries import quality_scores
from app.referrals.metrics import referral_metrics
from app.regions.models import Region

Progress = Callable[[int], None]
CellValue = str | int | Decimal | None

CONFIDENTIAL = "RAHASIA"
CONFIDENTIAL_NOTE = (
    "RAHASIA — hanya untuk keperluan dinas. Jangan disebarkan kepada pihak yang tidak berwenang."
)
WORDS = disclosure.INDONESIAN
SMALL = WORDS.small  # "<5"
HIDDEN = WORDS.hidden  # "dirahasiakan"
MARK = WORDS.mark  # "*"
NO_VALUE = WORDS.none  # "—"
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
DIRECTIONS = {
    "higher": "lebih tinggi lebih baik",
    "lower": "lebih rendah lebih baik",
    "none": "—",
}
NOTES = (
    f"{SMALL}: jumlah 1-4 orang tidak ditampilkan (kendali pengungkapan).",
    f"{HIDDEN}: sel disembunyikan agar sel {SMALL} tidak dapat dihitung ulang dari jumlahnya.",
    f"{MARK}: nilai dihitung dari jumlah kecil (kurang dari 5); tafsirkan dengan hati-hati.",
    "Capaian indikator 'lebih rendah lebih baik' = (2 x target - realisasi) / target x 100 "
    "(Permendagri 86/2017); selain itu realisasi / target x 100.",
    "Nilai dibulatkan setengah ke atas sampai 2 desimal.",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# --- the report as plain data ------------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    rows: list[list[CellValue]] = field(default_factory=list)
    title: str | None = None
    widths: list[float] | None = None  # relative column widths (PDF)


@dataclass
class Section:
    sheet: str  # sheet name, at most 31 characters
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)


def safe_text(text: str) -> str:
    """Text as written into a cell or a page: control characters removed, and — against formula
    injection in spreadsheets — a leading ``'`` before ``= + - @``, tab or CR."""
    text = ILLEGAL.sub("", text)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def month_name(period: Period) -> str:
    return f"{MONTHS[period.first_month - 1]} {period.year}"


def jakarta(moment: dt.datetime | None) -> str:
    """A moment in the report's one style: "7 Des 2026 14.05 WIB"."""
    if moment is None:
        return NO_VALUE
    return f"{format_moment(moment, locale='id', zone=JAKARTA)} WIB"


# the vocabulary of each breakdown's categories (their labels, in Bahasa Indonesia)
CATEGORY_VOCABULARIES: dict[str, type[enum.StrEnum]] = {
    "jenis_kekerasan": ViolenceType,
    "tempat_kejadian": IncidentPlace,
    "hubungan_pelaku": Relationship,
    "jenis_kasus": CaseType,
    "jenis_kelamin": Sex,
}


def category_label(dimension: str, category: str) -> str:
    if category == "tidak_diketahui":
        return "Tidak diketahui"
    if dimension == "disabilitas":
        return {"ya": "Dengan disabilitas", "tidak": "Tanpa disabilitas"}.get(category, category)
    if dimension == "kelompok_umur":
        return f"{category} tahun"
    vocabulary = CATEGORY_VOCABULARIES.get(dimension)
    if vocabulary is None:
        return category
    with force_locale("id"):
        return label(category, vocabulary)


def _number(cell: disclosure.Cell) -> CellValue:
    """A shown cell as a number (whole for a count), else its text: ``<5``, ``dirahasiakan``."""
    if not cell.shown or cell.value is None:
        return cell.text
    return int(cell.value) if cell.places == 0 else cell.value


def _figure_row(f: Figure, *, with_target: bool) -> list[CellValue]:
    """Name, realisasi, unit, [target, capaian, direction], note."""
    notes: list[str] = []
    # the capaian of a hidden value is hidden too: it would give the value back
    cells = disclosure.figure_cells(f, words=WORDS)
    cell, achieved = cells.value, cells.achieved
    if cell.state is disclosure.State.NONE:
        notes.append(f.reason or "Tidak dapat dihitung.")
    elif cell.marked:
        notes.append(f"{MARK} dihitung dari jumlah kecil (<5)")
    if f.revisions:
        original = disclosure.figure_cell(
            f.definition, f.original.numerator, f.original.denominator, words=WORDS
        )
        if cell.hidden or original.hidden or original.state is disclosure.State.NONE:
            notes.append("direvisi setelah periode ditutup")
        else:
            notes.append(f"direvisi setelah periode ditutup (nilai awal {original.display})")
    row: list[CellValue] = [f.definition.name_id, _number(cell), f.definition.unit]
    if with_target:
        row += [
            f.target if f.target is not None else NO_VALUE,
            _number(achieved),
            DIRECTIONS.get(f.definition.direction, f.definition.direction),
        ]
    row.append("; ".join(notes))
    return row


def _headline_section(items: list[Figure]) -> Section:
    header = ["Indikator", "Realisasi", "Satuan", "Target", "Capaian (%)", "Arah", "Keterangan"]
    table = Table(header, widths=[3.2, 1.2, 1.6, 1.0, 1.1, 1.6, 2.8])
    for f in items:
        table.rows.append(_figure_row(f, with_target=True))
    lines = [] if items else ["Belum ada nilai indikator utama untuk periode dan wilayah ini."]
    return Section("Indikator utama", "Indikator utama", lines, [table])


def _other_section(items: list[Figure]) -> Section:
    table = Table(
        ["Indikator", "Realisasi", "Satuan", "Target", "Capaian (%)", "Arah", "Keterangan"],
        widths=[3.2, 1.2, 1.6, 1.0, 1.1, 1.6, 2.8],
    )
    for f in items:
        table.rows.append(_figure_row(f, with_target=True))
    return Section(
        "Indikator lain", "Indikator lain (cakupan layanan dan operasional)", [], [table]
    )


def _breakdown_section(items: list[Figure]) -> Section:
    by_code: dict[str, list[Figure]] = {}
    for f in items:
        by_code.setdefault(f.definition.code, []).append(f)
    section = Section(
        "Rincian korban",
        "Korban menurut kategori",
        [
            "Seorang korban dapat tercatat pada lebih dari satu kategori (misalnya beberapa "
            "jenis kekerasan).",
        ],
    )
    for code, rows in by_code.items():
        dimension = code.removeprefix("korban_menurut_")
        shown = disclosure.breakdown(rows, words=WORDS)
        counts = shown.cells
        table = Table(["Kategori", "Jumlah korban"], title=rows[0].definition.name_id)
        table.widths = [4.0, 2.0]
        # in the order of the categories, never by count: the order would give hidden ones away
        for category in sorted(counts, key=lambda c: _category_order(dimension, c)):
            table.rows.append([category_label(dimension, category), _number(shown.cells[category])])
        if not table.rows:
            table.rows.append(["Tidak ada korban", 0])
        section.tables.append(table)
    if not section.tables:
        section.lines.append("Belum ada rincian untuk periode dan wilayah ini.")
    return section


def _category_order(dimension: str, category: str) -> tuple[bool, int, str]:
    """Age bands from the youngest, other categories by name; unknown last."""
    head = category.split("-")[0].rstrip("+")
    band = int(head) if dimension == "kelompok_umur" and head.isdigit() else 0
    return (category == "tidak_diketahui", band, category_label(dimension, category))


def _count_cell(n: int) -> CellValue:
    return disclosure.count(n, words=WORDS).export()


def _referral_section(items: list[Figure], period: Period, agency_ids: list[int] | None) -> Section:
    section = Section("Rujukan", "Rujukan antarlembaga")
    summary = Table(
        ["Indikator", "Nilai", "Satuan", "Keterangan"], title="Ringkasan", widths=[4, 1.5, 1.5, 4]
    )
    for f in items:
        summary.rows.append(_figure_row(f, with_target=False))
    section.tables.append(summary)
    header = [
        "Terkirim",
        "Diterima",
        "Ditolak",
        "Persentase ditolak (%)",
        "Terlambat dijawab",
        "Median jam sampai diterima",
    ]
    widths = [3.4, 1.1, 1.1, 1.1, 1.4, 1.4, 1.6]
    by_agency = Table(["Lembaga penerima", *header], title="Menurut lembaga penerima")
    by_agency.widths = widths
    by_subgt = Table(["Sub Gugus Tugas", *header], title="Menurut Sub Gugus Tugas")
    by_subgt.widths = widths
    for table, by in ((by_agency, "agency"), (by_subgt, "subgt")):
        rows = referral_metrics(period.start, period.end, by=by, agency_ids=agency_ids)  # type: ignore[arg-type]
        for r in rows:
            if by == "agency":
                name = r.agency_name or NO_VALUE
            else:
                name = label(r.subgt_key) if r.subgt_key is not None else "Tanpa Sub GT"
            table.rows.append([name, *disclosure.referral_cells(r, words=WORDS).export()])
        if not table.rows:
            table.rows.append(["Tidak ada rujukan terkirim pada periode ini", *[""] * 6])
        section.tables.append(table)
    return section


def _quality_section(period: Period, agency_ids: list[int]) -> Section:
    section = Section(
        "Kualitas data",
        "Kualitas data per lembaga",
        [
            "Persentase kasus yang terdaftar pada periode tanpa masalah: ketepatan waktu "
            "pencatatan, kelengkapan, keunikan (bukan duplikat) dan validitas.",
        ],
    )
    table = Table(
        [
            "Lembaga",
            "Kasus terdaftar",
            "Ketepatan waktu (%)",
            "Kelengkapan (%)",
            "Keunikan (%)",
            "Validitas (%)",
        ],
        widths=[4, 1.3, 1.4, 1.4, 1.4, 1.4],
    )
    for s in quality_scores(agency_ids, period.start, period.end):
        table.rows.append(
            [
                s.agency_name,
                _count_cell(s.cases),
                *(
                    disclosure.score(score.percent, cases=s.cases, words=WORDS).export()
                    for score in (s.timeliness, s.completeness, s.uniqueness, s.validity)
                ),
            ]
        )
    if not table.rows:
        table.rows.append(["Tidak ada lembaga di wilayah ini", "", "", "", "", ""])
    section.tables.append(table)
    return section


def _definitions_section(items: list[Figure]) -> Section:
    table = Table(
        ["Kode", "Indikator", "Versi", "Berlaku sejak", "Pembilang", "Penyebut", "Dihitung"],
        widths=[2.4, 2.6, 0.7, 1.2, 3.0, 2.4, 1.7],
    )
    seen: dict[str, tuple[Figure, dt.datetime]] = {}
    for f in items:
        latest = seen.get(f.definition.code)
        if latest is None or f.computed_at > latest[1]:
            seen[f.definition.code] = (f, f.computed_at)
    for code, (f, computed_at) in sorted(seen.items()):
        d = f.definition
        table.rows.append(
            [
                code,
                d.name_id,
                d.version,
                format_day(d.valid_from, locale="id"),
                d.numerator,
                d.denominator or NO_VALUE,
                jakarta(computed_at),
            ]
        )
    return Section("Definisi", "Definisi indikator dan waktu penghitungan", [], [table])


def _agency_ids(region_id: int | None) -> list[int] | None:
    if region_id is None:
        return None
    return list(agencies_in(descendants(region_id, region_tree())))


def build_report(region_id: int | None, period_code: str, progress: Progress) -> Report:
    """The report's content; ``progress`` is told as sections are done (up to 80 %). In Bahasa
    Indonesia whatever the language of the person who asked for it."""
    with force_locale("id"):
        return _build_report(region_id, period_code, progress)


def _build_report(region_id: int | None, period_code: str, progress: Progress) -> Report:
    period = parse(period_code)
    region = db.session.get(Region, region_id) if region_id is not None else None
    region_text = f"{region.name} ({region.code})" if region is not None else "Nasional"
    items = figures(region_id, period.code)
    progress(10)
    whole = [f for f in items if not f.breakdown]
    headline = [f for f in whole if f.definition.headline]
    referral = [f for f in whole if f.definition.method == "rujukan" and not f.definition.headline]
    other = [
        f
        for f in whole
        if not f.definition.headline
        and f.definition.method not in ("rujukan", "breakdown")
        and not f.definition.code.startswith("korban_menurut_")
    ]
    breakdowns = [f for f in items if f.definition.code.startswith("korban_menurut_")]
    close = closed(region_id, period.code)
    revised = sorted({f.definition.name_id for f in items if f.revisions})
    computed = [f.computed_at for f in items]

    summary = Section("Ringkasan", "Ringkasan")
    facts = Table(["Keterangan", "Isi"], widths=[2.2, 6.0])
    facts.rows += [
        ["Wilayah", region_text],
        ["Periode", f"{month_name(period)} ({period.code})"],
        [
            "Status periode",
            f"Sudah ditutup pada {jakarta(close.closed_at)}; nilai dibekukan"
            if close is not None
            else "Belum ditutup; nilai masih dapat berubah",
        ],
        [
            "Revisi",
            f"{len(revised)} indikator direvisi setelah periode ditutup: {', '.join(revised)}"
            if revised
            else "Tidak ada nilai yang direvisi",
        ],
        [
            "Waktu penghitungan",
            f"{jakarta(min(computed))} s.d. {jakarta(max(computed))}"
            if computed
            else "Belum dihitung",
        ],
        ["Versi definisi", "Lihat bagian Definisi"],
        ["Laporan dibuat", jakarta(utcnow())],
    ]
    summary.tables.append(facts)
    summary.tables.append(Table(["Catatan"], [[n] for n in NOTES], widths=[8.2]))
    if not items:
        summary.lines.append(
            "Belum ada nilai indikator untuk periode dan wilayah ini: jalankan penghitungan "
            "(rollup) terlebih dahulu."
        )

    agency_ids = _agency_ids(region_id)
    report = Report(
        title="Laporan Bulanan Indikator Perlindungan Perempuan dan Anak",
        subtitle=f"{region_text} — {month_name(period)}",
    )
    report.sections += [summary, _headline_section(headline)]
    progress(25)
    report.sections += [_other_section(other), _breakdown_section(breakdowns)]
    progress(40)
    report.sections.append(_referral_section(referral, period, agency_ids))
    progress(55)
    quality_ids = (
        agency_ids
        if agency_ids is not None
        else list(db.session.scalars(sa.select(Agency.id).order_by(Agency.id)))
    )
    report.sections.append(_quality_section(period, quality_ids))
    progress(70)
    report.sections.append(_definitions_section(items))
    progress(80)
    return report
