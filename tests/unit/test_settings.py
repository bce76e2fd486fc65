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
