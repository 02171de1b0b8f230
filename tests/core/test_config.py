import pytest

from app import create_app
from app.config import SETTINGS, ConfigError, check_secret_key, load_settings
from tests.conftest import database_url
from tests.fixtures import production_keys

GOOD_SECRET = "x8Jq2v-LkP0s_9dTz3Wm7yRb1Nc4Hf6Ga5Ue8Io0Qw"


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "not set"),
        ("", "not set"),
        ("changeme", "placeholder"),
        ("short-but-random-Zx9", "shorter than 32"),
        ("a" * 40, "too few distinct"),
    ],
)
def test_production_refuses_weak_or_missing_secret(secret, reason):
    with pytest.raises(ConfigError, match=reason):
        create_app({"APP_ENV": "production", "SECRET_KEY": secret, "DATABASE_URL": database_url()})


def test_production_refuses_missing_database_url():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"APP_ENV": "production", "SECRET_KEY": GOOD_SECRET, "DATABASE_URL": None})


@pytest.fixture
def restore_celery(app):
    """Another app built in a test rebinds the shared Celery app; give it back afterwards."""
    from app import celery_init_app

    yield
    celery_init_app(app)


def test_production_starts_with_strong_secret_and_secure_cookies(restore_celery):
    prod = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": GOOD_SECRET,
            "DATABASE_URL": database_url(),
            **production_keys(),
        }
    )
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = prod.test_client().get("/masuk")
    assert "Strict-Transport-Security" in response.headers


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app({"APP_ENV": "staging"})


def test_unknown_default_locale_is_refused():
    with pytest.raises(ConfigError, match="DEFAULT_LOCALE"):
        create_app({"APP_ENV": "testing", "DEFAULT_LOCALE": "fr", "DATABASE_URL": database_url()})


def test_environment_values_are_parsed_and_checked():
    values = load_settings({"IDLE_TIMEOUT_MINUTES": "45", "DEFAULT_LOCALE": "en"})
    assert values["IDLE_TIMEOUT_MINUTES"] == 45
    assert values["DEFAULT_LOCALE"] == "en"
    with pytest.raises(ConfigError, match="IDLE_TIMEOUT_MINUTES"):
        load_settings({"IDLE_TIMEOUT_MINUTES": "half an hour"})


def test_defaults_for_development():
    values = load_settings({})
    assert values["APP_ENV"] == "development"
    assert values["DATABASE_URL"] is None
    assert values["REDIS_URL"] is None
    assert values["IDLE_TIMEOUT_MINUTES"] == 30
    assert values["PASSWORD_MIN_LENGTH"] == 12


def test_development_defaults_to_sqlite_and_generates_a_kept_secret(
    tmp_path, monkeypatch, restore_celery
):
    monkeypatch.setenv("SIMPUL_INSTANCE_PATH", str(tmp_path))
    first = create_app(
        {"APP_ENV": "development", "SECRET_KEY": None, "DATABASE_URL": None, "REDIS_URL": None}
    )
    second = create_app(
        {"APP_ENV": "development", "SECRET_KEY": None, "DATABASE_URL": None, "REDIS_URL": None}
    )
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/simpul.sqlite3"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_good_secret_passes_the_check():
    assert check_secret_key(GOOD_SECRET) is None


def test_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


# --- where attachments and reports live ----------------------------------------------------------


def _production(**overrides):
    return create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": GOOD_SECRET,
            "DATABASE_URL": database_url(),
            **production_keys(),
            **overrides,
        }
    )


@pytest.mark.parametrize("name", ["UPLOAD_DIR", "REPORT_DIR"])
@pytest.mark.parametrize("value", [None, ""])
def test_production_refuses_to_start_without_an_explicit_file_directory(name, value):
    """Unset, attachments went to instance/uploads: outside the backup and the compose volume,
    and the reports to a folder the web and the worker containers did not share."""
    with pytest.raises(ConfigError, match=f"refusing to start in production: {name} is not set"):
        _production(**{name: value})


@pytest.mark.parametrize("name", ["UPLOAD_DIR", "REPORT_DIR"])
def test_production_refuses_a_file_directory_that_is_missing_relative_or_not_writable(
    name, tmp_path
):
    with pytest.raises(ConfigError, match=f"{name} .*does not exist"):
        _production(**{name: str(tmp_path / "not-there")})
    with pytest.raises(ConfigError, match=f"{name} must be an absolute path"):
        _production(**{name: "uploads"})
    # /proc: a directory in which nobody, root included, can create a file
    with pytest.raises(ConfigError, match=f"{name} /proc is not writable"):
        _production(**{name: "/proc"})


def test_production_refuses_one_directory_for_attachments_and_reports(tmp_path):
    with pytest.raises(ConfigError, match="two different directories"):
        _production(UPLOAD_DIR=str(tmp_path), REPORT_DIR=str(tmp_path) + "/")


def test_production_starts_with_both_directories_and_leaves_no_probe_behind(restore_celery):
    keys = production_keys()
    prod = _production(**keys)
    assert prod.config["UPLOAD_DIR"] == keys["UPLOAD_DIR"]
    assert prod.config["REPORT_DIR"] == keys["REPORT_DIR"]
    from pathlib import Path

    assert list(Path(keys["UPLOAD_DIR"]).iterdir()) == []  # the write check cleaned up
    assert list(Path(keys["REPORT_DIR"]).iterdir()) == []


def test_development_keeps_attachments_and_reports_under_the_instance_folder(
    tmp_path, monkeypatch, restore_celery
):
    monkeypatch.setenv("SIMPUL_INSTANCE_PATH", str(tmp_path))
    dev = create_app({"APP_ENV": "development", "DATABASE_URL": None, "REDIS_URL": None})
    assert dev.config["UPLOAD_DIR"] == str(tmp_path / "uploads")
    assert dev.config["REPORT_DIR"] == str(tmp_path / "reports")
    assert (tmp_path / "uploads").is_dir() and (tmp_path / "reports").is_dir()


# --- background tasks: visibility and re-send time-outs ----------------------------------------


def test_a_task_of_a_dead_worker_comes_back_after_minutes_not_an_hour(app):
    from app.extensions import celery

    assert app.config["TASK_VISIBILITY_TIMEOUT_MINUTES"] == 10
    assert celery.conf.broker_transport_options["visibility_timeout"] == 600
    assert celery.conf.task_acks_late and celery.conf.task_reject_on_worker_lost


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TASK_VISIBILITY_TIMEOUT_MINUTES": 0}, "at least 1"),
        ({"OUTBOX_RESEND_MINUTES": 10}, "larger than TASK_VISIBILITY_TIMEOUT_MINUTES"),
        ({"OUTBOX_MAX_DELIVERIES": 0}, "OUTBOX_MAX_DELIVERIES must be at least 1"),
    ],
)
def test_task_time_outs_that_do_not_fit_together_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"APP_ENV": "testing", "DATABASE_URL": database_url(), **overrides})


def test_stale_days_name_every_service_type_and_take_pairs_over_the_defaults():
    from app.config import STALE_DAYS_DEFAULT, _stale_days
    from app.core.enums import ServiceType

    assert set(STALE_DAYS_DEFAULT) == {s.value for s in ServiceType}
    days = _stale_days("penegakan_hukum=90, kedaruratan=2")
    assert days["penegakan_hukum"] == 90 and days["kedaruratan"] == 2
    assert days["mediasi"] == STALE_DAYS_DEFAULT["mediasi"]
    for bad in ("mediasi", "nope=3", "mediasi=0", "mediasi=x"):
        with pytest.raises(ConfigError):
            _stale_days(bad)
