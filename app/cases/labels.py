"""People-facing names of the case-record vocabularies (domain.md §2), registered into
``app.core.labels.LABELS`` when this module is imported, so ``label()`` and ``choices()`` work for
them everywhere. Message ids are English; Indonesian legal terms stay where English has none."""

from __future__ import annotations

import enum
from typing import Any

from app.agencies.queries import names_by_code
from app.core.enums import (
    CONSENT_PURPOSES_FIXED,
    AmpkCategory,
    CaseState,
    CaseType,
    Channel,
    ConsentDecision,
    ConsentGiver,
    Education,
    IncidentDatePrecision,
    IncidentPlace,
    Kewenangan,
    MaritalStatus,
    Nationality,
    Ranah,
    Relationship,
    Religion,
    ReporterKind,
    Risk,
    ServiceType,
    TppoCara,
    TppoProses,
    TppoTujuan,
    TrackState,
    VerificationStatus,
    ViolenceType,
)
from app.core.i18n import lazy_gettext as _l
from app.core.labels import LABELS, label

CASE_LABELS: dict[type[enum.StrEnum], dict[enum.StrEnum, Any]] = {
    Channel: {
        Channel.DATANG_LANGSUNG: _l("Walk-in"),
        Channel.TELEPON: _l("Phone"),
        Channel.WHATSAPP: _l("WhatsApp"),
        Channel.SURAT_EMAIL: _l("Letter / e-mail"),
        Channel.HOTLINE_SAPA129: _l("SAPA 129 hotline"),
        Channel.PIHAK_KETIGA: _l("Third party"),
        Channel.PENJANGKAUAN: _l("Outreach"),
        Channel.RUJUKAN_MASUK: _l("Referred in"),
        Channel.PELIMPAHAN_MASUK: _l("Transferred in"),
        Channel.MEDIA: _l("Media"),
    },
    IncidentPlace: {
        IncidentPlace.RUMAH_TANGGA: _l("Household"),
        IncidentPlace.TEMPAT_KERJA: _l("Workplace"),
        IncidentPlace.SEKOLAH: _l("School"),
        IncidentPlace.FASILITAS_UMUM: _l("Public facility"),
        IncidentPlace.LEMBAGA_PENDIDIKAN_KILAT: _l("Short-course institution"),
        IncidentPlace.DARING: _l("Online"),
        IncidentPlace.LAINNYA: _l("Other"),
    },
    Ranah: {
        Ranah.DOMESTIK: _l("Domestic"),
        Ranah.PUBLIK: _l("Public"),
        Ranah.KETENAGAKERJAAN: _l("Employment"),
        Ranah.DARING: _l("Online"),
    },
    CaseType: {
        CaseType.KTP: _l("Violence against a woman (KtP)"),
        CaseType.KTA: _l("Violence against a child (KtA)"),
        CaseType.AMPK: _l("Child needing special protection (AMPK)"),
        CaseType.TPPO: _l("Trafficking in persons (TPPO)"),
        CaseType.TPKS: _l("Sexual-violence crime (TPKS)"),
    },
    Risk: {
        Risk.TINGGI: _l("High"),
        Risk.SEDANG: _l("Medium"),
        Risk.RENDAH: _l("Low"),
    },
    Kewenangan: {
        Kewenangan.KABKOTA: _l("Regency/City"),
        Kewenangan.PROVINSI: _l("Province"),
        Kewenangan.PUSAT: _l("National"),
    },
    IncidentDatePrecision: {
        IncidentDatePrecision.HARI: _l("Exact date"),
        IncidentDatePrecision.BULAN: _l("Month and year only"),
        IncidentDatePrecision.TAHUN: _l("Year only"),
    },
    ViolenceType: {
        ViolenceType.FISIK: _l("Physical"),
        ViolenceType.PSIKIS: _l("Psychological"),
        ViolenceType.SEKSUAL: _l("Sexual"),
        ViolenceType.EKSPLOITASI: _l("Exploitation"),
        ViolenceType.TRAFFICKING: _l("Trafficking"),
        ViolenceType.PENELANTARAN: _l("Neglect"),
        ViolenceType.LAINNYA: _l("Other"),
    },
    # UU 35/2014 Pasal 59(2), letters a-o as the law numbers them.
    AmpkCategory: {
        AmpkCategory.SITUASI_DARURAT: _l("a. In an emergency situation"),
        AmpkCategory.BERHADAPAN_DENGAN_HUKUM: _l("b. In conflict with the law"),
        AmpkCategory.MINORITAS_TERISOLASI: _l("c. From a minority or isolated group"),
        AmpkCategory.EKSPLOITASI_EKONOMI_SEKSUAL: _l("d. Economically or sexually exploited"),
        AmpkCategory.NAPZA: _l("e. Victim of narcotics, alcohol or other addictive substances"),
        AmpkCategory.PORNOGRAFI: _l("f. Victim of pornography"),
        AmpkCategory.HIV_AIDS: _l("g. Living with HIV/AIDS"),
        AmpkCategory.PENCULIKAN_PERDAGANGAN: _l("h. Victim of abduction, sale or trafficking"),
        AmpkCategory.KEKERASAN_FISIK_PSIKIS: _l("i. Victim of physical or psychological violence"),
        AmpkCategory.KEJAHATAN_SEKSUAL: _l("j. Victim of sexual crime"),
        AmpkCategory.TERORISME: _l("k. Victim of a terrorist network"),
        AmpkCategory.DISABILITAS: _l("l. Child with a disability"),
        AmpkCategory.PERLAKUAN_SALAH_PENELANTARAN: _l("m. Victim of maltreatment and neglect"),
        AmpkCategory.PERILAKU_SOSIAL_MENYIMPANG: _l("n. With deviant social behaviour"),
        AmpkCategory.STIGMATISASI: _l("o. Stigmatised because of the condition of their parents"),
    },
    TppoProses: {
        TppoProses.PEREKRUTAN: _l("Recruitment"),
        TppoProses.PENGANGKUTAN: _l("Transport"),
        TppoProses.PENAMPUNGAN: _l("Harbouring"),
        TppoProses.PENGIRIMAN: _l("Sending"),
        TppoProses.PEMINDAHAN: _l("Transfer"),
        TppoProses.PENERIMAAN: _l("Receipt"),
    },
    TppoCara: {
        TppoCara.ANCAMAN_KEKERASAN: _l("Threat or use of violence"),
        TppoCara.PENCULIKAN: _l("Abduction"),
        TppoCara.PENYEKAPAN: _l("Confinement"),
        TppoCara.PEMALSUAN: _l("Forgery"),
        TppoCara.PENIPUAN: _l("Deception"),
        TppoCara.PENYALAHGUNAAN_KEKUASAAN: _l("Abuse of power or of a position of vulnerability"),
        TppoCara.JERATAN_UTANG: _l("Debt bondage"),
        TppoCara.MEMBERI_BAYARAN: _l("Giving payments or benefits"),
    },
    TppoTujuan: {
        TppoTujuan.SEKSUAL: _l("Sexual exploitation"),
        TppoTujuan.KERJA_PAKSA: _l("Forced labour"),
        TppoTujuan.PERBUDAKAN: _l("Slavery"),
        TppoTujuan.PENGAMBILAN_ORGAN: _l("Organ removal"),
        TppoTujuan.LAINNYA: _l("Other"),
    },
    Relationship: {
        Relationship.ORANG_TUA: _l("Parent"),
        Relationship.KELUARGA: _l("Family member"),
        Relationship.SUAMI_ISTRI: _l("Husband / wife"),
        Relationship.PACAR_TEMAN: _l("Boyfriend, girlfriend or friend"),
        Relationship.TETANGGA: _l("Neighbour"),
        Relationship.GURU: _l("Teacher"),
        Relationship.MAJIKAN: _l("Employer"),
        Relationship.REKAN_KERJA: _l("Co-worker"),
        Relationship.ORANG_TIDAK_DIKENAL: _l("Stranger"),
        Relationship.AGEN_PENYALUR: _l("Recruitment agent"),
        Relationship.LAINNYA: _l("Other"),
    },
    Nationality: {
        Nationality.WNI: _l("Indonesian citizen (WNI)"),
        Nationality.WNA: _l("Foreign national (WNA)"),
    },
    Education: {
        Education.BELUM_SEKOLAH: _l("Not yet in school"),
        Education.TIDAK_SEKOLAH: _l("Never went to school"),
        Education.SD: _l("Primary school (SD)"),
        Education.SMP: _l("Junior secondary school (SMP)"),
        Education.SMA: _l("Senior secondary school (SMA/SMK)"),
        Education.DIPLOMA: _l("Diploma"),
        Education.SARJANA: _l("Bachelor's degree"),
        Education.PASCASARJANA: _l("Postgraduate degree"),
    },
    MaritalStatus: {
        MaritalStatus.BELUM_KAWIN: _l("Not married"),
        MaritalStatus.KAWIN: _l("Married"),
        MaritalStatus.CERAI_HIDUP: _l("Divorced"),
        MaritalStatus.CERAI_MATI: _l("Widowed"),
    },
    Religion: {
        Religion.ISLAM: _l("Islam"),
        Religion.KRISTEN: _l("Protestant Christianity"),
        Religion.KATOLIK: _l("Catholicism"),
        Religion.HINDU: _l("Hinduism"),
        Religion.BUDDHA: _l("Buddhism"),
        Religion.KHONGHUCU: _l("Confucianism"),
        Religion.KEPERCAYAAN: _l("Indigenous belief (kepercayaan)"),
    },
    ReporterKind: {
        ReporterKind.KORBAN: _l("The victim"),
        ReporterKind.PIHAK_KETIGA: _l("Someone else"),
        ReporterKind.ANONIM: _l("Anonymous"),
    },
    ConsentDecision: {
        ConsentDecision.SETUJU: _l("Agrees"),
        ConsentDecision.MENOLAK: _l("Refuses"),
    },
    ConsentGiver: {
        ConsentGiver.KORBAN: _l("The victim"),
        ConsentGiver.WALI: _l("Guardian"),
    },
    CaseState: {
        CaseState.DRAFT: _l("Draft"),
        CaseState.DITERIMA: _l("Registered"),
        CaseState.IDENTIFIKASI: _l("Identification"),
        CaseState.KEDARURATAN: _l("Emergency"),
        CaseState.ASESMEN: _l("Assessment"),
        CaseState.RENCANA_INTERVENSI: _l("Intervention plan"),
        CaseState.INTERVENSI: _l("Intervention"),
        CaseState.PEMANTAUAN: _l("Monitoring"),
        CaseState.TERMINASI: _l("Terminated"),
        CaseState.DILIMPAHKAN: _l("Transferred"),
        CaseState.DITUTUP: _l("Closed"),
    },
    TrackState: {
        TrackState.DIRENCANAKAN: _l("Planned"),
        TrackState.DIRUJUK: _l("Referred"),
        TrackState.DITERIMA_PENYEDIA: _l("Accepted by the provider"),
        TrackState.BERJALAN: _l("In progress"),
        TrackState.SELESAI: _l("Completed"),
        TrackState.DITOLAK_KORBAN: _l("Declined by the victim"),
        TrackState.TIDAK_TERSEDIA: _l("No provider available"),
        TrackState.DIBATALKAN: _l("Cancelled"),
    },
    VerificationStatus: {
        VerificationStatus.BELUM_DIVERIFIKASI: _l("Not verified"),
        VerificationStatus.TERVERIFIKASI: _l("Verified"),
    },
}

# Consent purposes are strings, not one vocabulary: the fixed ones, ``layanan:<service type>``
# and ``rujukan:<agency code>`` (domain.md §2.2).
CONSENT_PURPOSE_LABELS: dict[str, Any] = {
    "layanan": _l("Services (all)"),
    "pelaporan_statistik": _l("Statistical reporting"),
    "dokumentasi": _l("Documentation (photos, recordings)"),
    "tindakan_medis": _l("Medical procedures"),
}


def consent_purpose_label(purpose: str) -> str:
    """A consent purpose in words: ``layanan:mediasi`` → "Service: Mediation"."""
    if purpose in CONSENT_PURPOSE_LABELS:
        return str(CONSENT_PURPOSE_LABELS[purpose])
    kind, _, rest = purpose.partition(":")
    if kind == "layanan" and rest:
        return str(_l("Service: %(name)s", name=label(rest, ServiceType)))
    if kind == "rujukan" and rest:
        # the purpose keeps the agency's code; people read its name
        return str(_l("Referral to %(agency)s", agency=names_by_code([rest])[rest]))
    return purpose


def register() -> None:
    for vocabulary, names in CASE_LABELS.items():
        missing = set(vocabulary) - set(names)
        if missing:  # a new member without a name is a programming error, caught at import
            raise RuntimeError(f"{vocabulary.__name__} has no label for {sorted(missing)}")
        for member, text in names.items():
            LABELS.setdefault(vocabulary, {})[member.value] = text
    if set(CONSENT_PURPOSE_LABELS) != set(CONSENT_PURPOSES_FIXED):
        raise RuntimeError("every fixed consent purpose needs a label")


register()
