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


def test_processes_starting_together_on_a_new_instance_folder_share_one_generated_secret(tmp_path):
    """gunicorn starts a worker per core at once: each must read the same keys, never a half-written file."""
    import threading

    from wizard.core import settings

    for attempt in range(10):
        folder = tmp_path / f"instance-{attempt}"
        start, found = threading.Barrier(12), []

        def start_worker(folder=folder, start=start, found=found):
            start.wait()
            try:
                values = settings.from_environment(str(folder), environ={})
                found.append((values["SECRET_KEY"], values["ENCRYPTION_KEYS"]))
            except Exception as error:  # a worker that fails to start
                found.append(error)

        workers = [threading.Thread(target=start_worker) for _ in range(12)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(10)
        assert len(set(found)) == 1, found
        secret_key, encryption_keys = found[0]
        assert secret_key and encryption_keys
        assert sorted(p.name for p in folder.iterdir()) == ["encryption_keys", "secret_key"]
