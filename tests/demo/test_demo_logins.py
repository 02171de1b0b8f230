"""`flask demo logins` (`make logins`) prints every demo account and the password."""

from app.demo import data


def test_demo_logins_prints_every_account_and_the_password(app):
    result = app.test_cli_runner().invoke(args=["demo", "logins"])
    assert result.exit_code == 0, result.output
    assert data.DEMO_PASSWORD in result.output
    for email, _name, role, _scope in data.USERS:
        assert email in result.output
        assert role.value in result.output
