"""The client address behind the proxy: ``X-Forwarded-*`` is believed only from a
``TRUSTED_PROXIES`` peer (``app.core.proxy``), so a client that reaches gunicorn directly cannot
rotate its address past the per-address sign-in limit or write any address into the audit log.
And the break-the-glass limit is counted per account, whatever a password change does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from app import celery_init_app
from app.audit.models import AuditEntry
from app.config import ConfigError
from app.core.enums import Role
from app.core.proxy import TrustedProxyFix, is_trusted_peer, parse_trusted_proxies
from app.extensions import db, limiter
from tests.conftest import FreshGlobalsClient, make_app
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.fixtures import login_as

DIRECT = "203.0.113.7"  # a client that reaches gunicorn without the proxy
PROXY = "127.0.0.1"  # nginx on the same machine (the default TRUSTED_PROXIES)


@pytest.fixture
def proxied(app: Flask) -> Iterator[Flask]:
    """The application as deployed behind nginx: PROXY_FIX_HOPS=1, the default TRUSTED_PROXIES."""
    behind = make_app(PROXY_FIX_HOPS=1)
    behind.test_client_class = FreshGlobalsClient
    limiter.reset()
    yield behind
    limiter.reset()
    celery_init_app(app)  # building another app rebinds the shared Celery app: give it back


def sign_in(client: Any, email: str, peer: str, forwarded: str, password: str = "") -> Any:
    return client.post(
        "/masuk",
        data={"email": email, "password": password or "bukan kata sandinya"},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": peer},
    )


def test_rotating_forwarded_addresses_from_a_direct_peer_hit_the_rate_limit(proxied):
    client = proxied.test_client()
    statuses = [
        sign_in(client, f"tebakan{i}@contoh.go.id", DIRECT, f"198.51.100.{i}").status_code
        for i in range(30)
    ]
    # six attempts per minute per address: the seventh from the same peer is refused, whatever
    # address it claims to forward for
    assert statuses[:6] == [200] * 6
    assert set(statuses[6:]) == {429}


def test_the_proxys_forwarded_address_is_the_clients(proxied):
    client = proxied.test_client()
    for i in range(6):
        assert sign_in(client, f"a{i}@contoh.go.id", PROXY, "198.51.100.1").status_code == 200
    assert sign_in(client, "a7@contoh.go.id", PROXY, "198.51.100.1").status_code == 429
    # another client behind the same proxy has a limit of its own
    assert sign_in(client, "b@contoh.go.id", PROXY, "198.51.100.2").status_code == 200


def test_the_audit_log_records_the_forwarded_address_only_from_the_proxy(proxied):
    user = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])
    through_proxy, direct = proxied.test_client(), proxied.test_client()
    assert (
        sign_in(through_proxy, user.email, PROXY, "198.51.100.5", TEST_PASSWORD).status_code == 302
    )
    assert sign_in(direct, user.email, DIRECT, "198.51.100.6", TEST_PASSWORD).status_code == 302
    logins = db.session.query(AuditEntry).filter_by(action="user.login").order_by(AuditEntry.id)
    assert [e.remote_addr for e in logins] == ["198.51.100.5", DIRECT]


def test_forwarded_headers_of_an_untrusted_peer_are_dropped():
    seen: dict[str, Any] = {}

    def inner(environ: Any, start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    fix = TrustedProxyFix(inner, hops=1, trusted=parse_trusted_proxies("127.0.0.1,::1"))
    headers = {
        "HTTP_X_FORWARDED_FOR": "198.51.100.9",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "palsu.example",
        "HTTP_HOST": "simpul.example.go.id",
        "wsgi.url_scheme": "http",
    }
    fix({**headers, "REMOTE_ADDR": DIRECT}, lambda *a: None)
    assert seen["REMOTE_ADDR"] == DIRECT
    assert seen["wsgi.url_scheme"] == "http" and seen["HTTP_HOST"] == "simpul.example.go.id"
    assert "HTTP_X_FORWARDED_FOR" not in seen and "HTTP_X_FORWARDED_PROTO" not in seen
    seen.clear()
    fix({**headers, "REMOTE_ADDR": "::1"}, lambda *a: None)
    assert seen["REMOTE_ADDR"] == "198.51.100.9"
    assert seen["wsgi.url_scheme"] == "https" and seen["HTTP_HOST"] == "palsu.example"


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 peer on a dual-stack socket
        ("", True),  # a unix socket: gunicorn gives no address
        ("127.0.0.2", False),
        ("10.0.5.3", False),
        ("not an address", False),
    ],
)
def test_which_peers_are_the_proxy(peer, trusted):
    assert is_trusted_peer(peer, parse_trusted_proxies("127.0.0.1,::1")) is trusted


def test_a_proxy_network_can_be_named():
    networks = parse_trusted_proxies(" 10.0.5.0/24 , fd00::1 ")
    assert is_trusted_peer("10.0.5.200", networks)
    assert not is_trusted_peer("10.0.6.1", networks)


@pytest.mark.parametrize("value", ["*", "127.0.0.1,nginx", "300.1.1.1"])
def test_trusted_proxies_must_be_addresses(app, value):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        make_app(PROXY_FIX_HOPS=1, TRUSTED_PROXIES=value)
    celery_init_app(app)


def test_hops_without_a_trusted_proxy_refuse_to_start(app):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES names no proxy"):
        make_app(PROXY_FIX_HOPS=1, TRUSTED_PROXIES="")
    celery_init_app(app)


# --- break-the-glass: counted per account ------------------------------------------------------


def test_a_password_change_does_not_reset_the_break_glass_limit(client):
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, AgencyFactory())])
    login_as(client, officer)
    for _ in range(20):  # the hour's allowance (a reason too short: refused, still counted)
        assert (
            client.post("/akses-darurat", data={"reference": "X", "reason": "x"}).status_code == 422
        )
    assert client.post("/akses-darurat", data={"reference": "X", "reason": "x"}).status_code == 429
    new = "sungai panjang mengalir ke laut selatan"
    response = client.post(
        "/akun/kata-sandi",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-new_password": new,
            "pw-confirm_password": new,
        },
    )
    assert response.status_code == 302
    # a new session id (the generation went up), the same account: still limited
    assert client.post("/akses-darurat", data={"reference": "X", "reason": "x"}).status_code == 429


# --- the documented deployment: gunicorn is reachable through nginx only ------------------------

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_compose_publishes_no_app_port_and_trusts_no_peer_blindly():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        assert not service.get("ports"), f"{name} publishes a port"
        assert service.get("environment", {}).get("FORWARDED_ALLOW_IPS") in (None, "127.0.0.1,::1")
    web = compose["services"]["web"]
    assert web["environment"]["GUNICORN_BIND"].startswith("unix:/run/simpul/")
    assert "/run/simpul:/run/simpul" in web["volumes"]


def test_gunicorn_listens_on_loopback_and_refuses_to_trust_everyone(monkeypatch):
    def load(**env: str) -> dict[str, Any]:
        for key in ("GUNICORN_BIND", "FORWARDED_ALLOW_IPS"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        namespace: dict[str, Any] = {}
        exec((DEPLOY / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102  (our own file)
        return namespace

    settings = load()
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"
    with pytest.raises(RuntimeError, match="FORWARDED_ALLOW_IPS"):
        load(FORWARDED_ALLOW_IPS="*")


def test_the_example_environment_names_the_proxy():
    lines = (DEPLOY / "simpul.env.example").read_text().splitlines()
    assert "PROXY_FIX_HOPS=1" in lines
    assert "TRUSTED_PROXIES=127.0.0.1,::1" in lines
