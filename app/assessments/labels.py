"""People-facing names of the assessment vocabularies, registered with the shared labels."""

from __future__ import annotations

from typing import Any

from app.core.enums import AssessmentArea, NeedLevel
from app.core.i18n import lazy_gettext as _l
from app.core.labels import LABELS

A = AssessmentArea
LABELS[AssessmentArea] = {
    A.FISIK.value: _l("Physical"),
    A.PSIKOLOGIS.value: _l("Psychological"),
    A.SOSIAL.value: _l("Social"),
    A.EKONOMI.value: _l("Economic"),
    A.PENDIDIKAN.value: _l("Education"),
    A.HUKUM.value: _l("Legal"),
    A.SPIRITUAL.value: _l("Spiritual"),
}
LABELS[NeedLevel] = {
    NeedLevel.TIDAK_ADA.value: _l("No need"),
    NeedLevel.RENDAH.value: _l("Low"),
    NeedLevel.SEDANG.value: _l("Medium"),
    NeedLevel.TINGGI.value: _l("High"),
}

# What to look at in each area: shown under the area's heading on the form.
HINTS: dict[AssessmentArea, Any] = {
    A.FISIK: _l("Injuries, pain, pregnancy, sexually transmitted infections, need for a visum."),
    A.PSIKOLOGIS: _l("Fear, trauma symptoms, sleep, self-harm or suicidal thoughts."),
    A.SOSIAL: _l(
        "Family support, safe place to stay, contact with the perpetrator, stigma in the community."
    ),
    A.EKONOMI: _l("Income, dependence on the perpetrator, debts, daily needs."),
    A.PENDIDIKAN: _l("School attendance, dropping out, need to move school, skills."),
    A.HUKUM: _l("Police report, evidence, protection order, legal aid, restitution."),
    A.SPIRITUAL: _l("Faith, wish for guidance from a religious figure."),
}
