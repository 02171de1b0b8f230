"""AUDIT_HMAC_KEY: required in production, generated once into instance/ elsewhere."""

from __future__ import annotations

import stat

import pytest
from flask import Flask

from app.audit import configure_hmac_key
from app.config import ConfigError

STRONG = "k3y-0f-the-audit-hmac-that-is-long-enough-0123456789"


def _app(tmp_path, **config) -> Flask:
    app = Flask("audit-key-test", instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    return app


def test_production_refuses_to_start_without_the_key(tmp_path):
    with pytest.raises(ConfigError, match="AUDIT_HMAC_KEY is not set"):
        configure_hmac_key(_app(tmp_path, APP_ENV="production", AUDIT_HMAC_KEY=None))
    assert not (tmp_path / "instance" / "audit_hmac_key").exists()


@pytest.mark.parametrize("weak", ["short", "a" * 64])
def test_production_refuses_a_weak_key(tmp_path, weak):
    with pytest.raises(ConfigError, match="AUDIT_HMAC_KEY"):
        configure_hmac_key(_app(tmp_path, APP_ENV="production", AUDIT_HMAC_KEY=weak))


def test_production_refuses_the_secret_key_as_hmac_key(tmp_path):
    app = _app(tmp_path, APP_ENV="production", AUDIT_HMAC_KEY=STRONG, SECRET_KEY=STRONG)
    with pytest.raises(ConfigError, match="differ from SECRET_KEY"):
        configure_hmac_key(app)


def test_production_takes_the_configured_key(tmp_path):
    app = _app(tmp_path, APP_ENV="production", AUDIT_HMAC_KEY=STRONG, SECRET_KEY="x" * 40)
    configure_hmac_key(app)
    assert app.config["AUDIT_HMAC_KEY"] == STRONG


def test_development_generates_a_private_key_once(tmp_path):
    first = _app(tmp_path, APP_ENV="development", AUDIT_HMAC_KEY=None)
    configure_hmac_key(first)
    path = tmp_path / "instance" / "audit_hmac_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.config["AUDIT_HMAC_KEY"]) >= 32
    second = _app(tmp_path, APP_ENV="testing", AUDIT_HMAC_KEY=None)
    configure_hmac_key(second)
    assert second.config["AUDIT_HMAC_KEY"] == first.config["AUDIT_HMAC_KEY"]


def test_a_configured_key_wins_in_development(tmp_path):
    app = _app(tmp_path, APP_ENV="development", AUDIT_HMAC_KEY=STRONG)
    configure_hmac_key(app)
    assert app.config["AUDIT_HMAC_KEY"] == STRONG
    assert not (tmp_path / "instance" / "audit_hmac_key").exists()
