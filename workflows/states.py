"""The states of the case and service-track workflows. Values are stored; never rename one."""

from __future__ import annotations

import enum


class CaseState(enum.StrEnum):
    """Case-level SOP stages (domain.md §4); ``draft`` is an intake not yet registered."""

    DRAFT = "draft"
    DITERIMA = "diterima"
    IDENTIFIKASI = "identifikasi"
    KEDARURATAN = "kedaruratan"
    ASESMEN = "asesmen"
    RENCANA_INTERVENSI = "rencana_intervensi"
    INTERVENSI = "intervensi"
    PEMANTAUAN = "pemantauan"
    TERMINASI = "terminasi"
    DILIMPAHKAN = "dilimpahkan"
    DITUTUP = "ditutup"


class TrackState(enum.StrEnum):
    """Service-track states (domain.md §3.1)."""

    DIRENCANAKAN = "direncanakan"
    DIRUJUK = "dirujuk"
    DITERIMA_PENYEDIA = "diterima_penyedia"
    BERJALAN = "berjalan"
    SELESAI = "selesai"
    DITOLAK_KORBAN = "ditolak_korban"
    TIDAK_TERSEDIA = "tidak_tersedia"
    DIBATALKAN = "dibatalkan"


class ReferralState(enum.StrEnum):
    """A referral (rujukan) to a provider agency (domain.md §3.1, the referral issue)."""

    DRAF = "draf"
    DIKIRIM = "dikirim"
    DITERIMA = "diterima"
    DITOLAK = "ditolak"
    BERJALAN = "berjalan"
    SELESAI = "selesai"
    DITARIK = "ditarik"
