"""``set_local``: PostgreSQL planner settings for the rest of a transaction, refused when the
name is not one of the known few or the value is not a plain word or number (a SET statement
takes no parameters)."""

import pytest
from sqlalchemy import text

from app.core.db import set_local
from app.extensions import db


@pytest.mark.postgres  # the settings are PostgreSQL's planner settings
def test_the_settings_last_until_the_end_of_the_transaction(app):
    set_local(db.session, jit="off", plan_cache_mode="force_custom_plan")
    assert db.session.execute(text("SHOW jit")).scalar_one() == "off"
    assert db.session.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
    db.session.rollback()
    assert db.session.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"


@pytest.mark.postgres  # elsewhere set_local sets nothing, so it has nothing to refuse
@pytest.mark.parametrize(
    "settings",
    [{"work_mem": "1GB"}, {"jit": "off; DROP TABLE cases"}, {"plan_cache_mode": "'auto'"}],
)
def test_an_unknown_setting_or_a_value_that_is_not_plain_is_refused(app, settings):
    with pytest.raises(ValueError, match="not a known setting"):
        set_local(db.session, **settings)
