"""The case page's follow-up block: the user's open follow-ups on the case and a form to set one
(small; the page itself is the cases' own)."""

from __future__ import annotations

from app.cases.page import PageView, Section, register_section
from app.core.formatting import format_day
from app.core.i18n import gettext as _
from app.core.labels import label
from app.tasks.forms import FollowUpForm, FollowUpStepForm
from app.tasks.permissions import can_follow_up
from app.tasks.queries import follow_ups_on, open_tracks


def follow_up_section(view: PageView) -> Section | None:
    user, case = view.user, view.case
    if not can_follow_up(user, case):
        return None
    form = view.get("follow_up_form", FollowUpForm) or FollowUpForm(formdata=None)
    form.track_id.choices = [("", _("The case"))] + [
        (str(track_id), str(label(service))) for track_id, service in open_tracks(case)
    ]
    return Section(
        template="tasks/_case_follow_ups.html",
        nav=(("tindak-lanjut", _("Follow-ups")),),
        context={
            "my_follow_ups": follow_ups_on(user, case),
            "follow_up_form": form,
            "follow_up_step_form": FollowUpStepForm(formdata=None),
            "follow_up_refused": "follow_up_form" in view.overrides,
            "follow_up_day": format_day,
        },
    )


def register_sections() -> None:
    # after the panel and the service cards (60), before the attachments (70)
    register_section("tasks.follow_ups", 65, follow_up_section)
