"""`flask demo logins` (`make logins`) prints every demo account and the password."""

from app.demo import data


def test_demo_logins_prints_every_account_and_the_password(app):
    result = app.test_cli_runner().invoke(args=["demo", "logins"])
    assert result.exit_code == 0, result.output
    assert data.DEMO_PASSWORD in result.output
    for email, _name, role, _scope in data.USERS:
        assert email in result.output
        assert role.value in result.output


def test_demo_load_is_refused_in_production(app, monkeypatch):
    """The demo accounts' password is in the repository: never on a production database."""
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db

    monkeypatch.setitem(app.config, "APP_ENV", "production")
    before = db.session.scalar(select(func.count()).select_from(User))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "refusing to load demo data with APP_ENV=production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == before
