"""Settings from the environment."""
import pytest

from tests.support.app import ENCRYPTION_KEY


def test_settings_come_from_the_environment(tmp_path):
    from wizard.core import settings

    environ = {"SECRET_KEY": "k", "ENCRYPTION_KEYS": ENCRYPTION_KEY, "PUBLIC_BASE_URL": "https://x.example/",
               "TRUSTED_PROXIES": "2", "TWILIO_BASE_URL": "http://127.0.0.1:9/", "DATABASE_URL": "sqlite:///y"}
    values = settings.from_environment(str(tmp_path), environ=environ)
    assert values["PUBLIC_BASE_URL"] == "https://x.example"
    assert values["TRUSTED_PROXIES"] == 2
    assert values["TWILIO_BASE_URL"] == "http://127.0.0.1:9"
    assert values["DATABASE_URL"] == "sqlite:///y"
    assert values["SESSION_COOKIE_SECURE"] is True
    with pytest.raises(SystemExit, match="TRUSTED_PROXIES"):
        settings.from_environment(str(tmp_path), environ={**environ, "TRUSTED_PROXIES": "many"})


def test_the_request_size_limit_is_one_mb_unless_set(tmp_path):
    from wizard.core import settings

    environ = {"SECRET_KEY": "k", "ENCRYPTION_KEYS": ENCRYPTION_KEY}
    values = settings.from_environment(str(tmp_path), environ=environ)
    assert values["MAX_CONTENT_LENGTH"] == values["MAX_FORM_MEMORY_SIZE"] == 1024 * 1024
    values = settings.from_environment(str(tmp_path), environ={**environ, "MAX_CONTENT_LENGTH": "2000000"})
    assert values["MAX_CONTENT_LENGTH"] == values["MAX_FORM_MEMORY_SIZE"] == 2000000
    with pytest.raises(SystemExit, match="MAX_CONTENT_LENGTH must be a whole number"):
        settings.from_environment(str(tmp_path), environ={**environ, "MAX_CONTENT_LENGTH": "1 MB"})


def test_session_and_sign_in_limits_come_from_the_environment(tmp_path):
    from wizard.core import settings

    environ = {"SECRET_KEY": "k", "ENCRYPTION_KEYS": ENCRYPTION_KEY}
    values = settings.from_environment(str(tmp_path), environ=environ)
    assert (values["SESSION_IDLE_SECONDS"], values["LOGIN_MAX_FAILURES"], values["LOGIN_WINDOW_SECONDS"]) == (
        12 * 3600, 5, 15 * 60)
    values = settings.from_environment(str(tmp_path), environ={
        **environ, "SESSION_IDLE_SECONDS": "600", "LOGIN_MAX_FAILURES": "3", "LOGIN_WINDOW_SECONDS": "60"})
    assert (values["SESSION_IDLE_SECONDS"], values["LOGIN_MAX_FAILURES"], values["LOGIN_WINDOW_SECONDS"]) == (
        600, 3, 60)
    with pytest.raises(SystemExit, match="LOGIN_MAX_FAILURES must be a whole number"):
        settings.from_environment(str(tmp_path), environ={**environ, "LOGIN_MAX_FAILURES": "five"})
