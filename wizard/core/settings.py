"""Settings from the environment, with secrets generated into instance/ on first run.

Nothing secret has a default that ships: SECRET_KEY and ENCRYPTION_KEYS are either
given in the environment or generated once and kept in the instance folder."""
import contextlib
import os
import secrets
import ssl
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet


def _instance_secret(instance: Path, filename: str, make) -> str:
    """Read a generated secret from instance/, creating it (mode 600) the first time: written whole
    beside it, then linked into place, so that workers starting together all read the one that won."""
    path = instance / filename
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=instance, prefix=f".{filename}.")  # mode 600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(make())
            with contextlib.suppress(FileExistsError):  # another worker's is in place: read that one
                os.link(draft, path)
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def _whole_number(environ, name: str, default: int, meaning: str) -> int:
    try:
        return int(environ.get(name, str(default)))
    except ValueError:
        raise SystemExit(f"{name} must be a whole number ({meaning}).") from None


def _ca_bundle(environ) -> str:
    """PROVIDER_CA_BUNDLE: a PEM file of CA certificates, checked now so that a wrong path stops the
    start rather than every provider request; empty when unset."""
    path = environ.get("PROVIDER_CA_BUNDLE", "")
    if not path:
        return ""
    fix = "Set it to a PEM file of CA certificates, or unset it."
    try:
        with open(path, "rb") as file:
            pem = file.read()
    except OSError as error:
        raise SystemExit(f"PROVIDER_CA_BUNDLE names {path}, which can't be read: {error.strerror}. {fix}") from None
    try:
        ssl.create_default_context(cadata=pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        raise SystemExit(f"PROVIDER_CA_BUNDLE names {path}, which holds no PEM CA certificate. {fix}") from None
    return path


# The largest request body read: far above the largest form (a 64 KB payload template with an
# 8 KB private key and certificate), far below what would tie up a worker.
MAX_CONTENT_LENGTH = 1024 * 1024


def from_environment(instance_path: str, given: dict | None = None, environ=os.environ) -> dict:
    """The settings; values in `given` win, and a secret given there is never generated."""
    given = given or {}
    instance = Path(instance_path)
    public_base_url = given.get("PUBLIC_BASE_URL", environ.get("PUBLIC_BASE_URL", "")).rstrip("/")
    trusted_proxies = _whole_number(environ, "TRUSTED_PROXIES", 0, "how many proxies to trust")
    settings = {
        "SECRET_KEY": given.get("SECRET_KEY")
        or environ.get("SECRET_KEY")
        or _instance_secret(instance, "secret_key", lambda: secrets.token_hex(32)),
        "DATABASE_URL": given.get("DATABASE_URL")
        or environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'wizard.sqlite3'}",
        "ENCRYPTION_KEYS": given.get("ENCRYPTION_KEYS")
        or environ.get("ENCRYPTION_KEYS")
        or _instance_secret(instance, "encryption_keys", lambda: Fernet.generate_key().decode()),
        "PUBLIC_BASE_URL": public_base_url,
        "TRUSTED_PROXIES": trusted_proxies,
        # A larger request is answered 413 before its body is read.
        "MAX_CONTENT_LENGTH": _whole_number(environ, "MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH,
                                            "the largest request body in bytes"),
        "TWILIO_BASE_URL": environ.get("TWILIO_BASE_URL", "").rstrip("/"),
        # Custom provider URLs may point at private or loopback addresses only when this is 1.
        "ALLOW_PRIVATE_PROVIDER_URLS": environ.get("ALLOW_PRIVATE_PROVIDER_URLS", "") == "1",
        # The CAs trusted for custom-provider (and their OAuth token) requests; empty: the usual ones.
        "PROVIDER_CA_BUNDLE": _ca_bundle(environ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_base_url.startswith("https://"),
        # A response sets the session cookie only when it changed the session. Otherwise a field
        # check or a poll that ends after a save would put back the session it started with, and
        # the save's message ("API credential ... saved.") would be lost.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # htmx sends the token in a header; forms send it as a field.
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "WTF_CSRF_TIME_LIMIT": None,
        # A session ends on the server after this long unused, and PERMANENT_SESSION_LIFETIME
        # (Flask's, 31 days) after sign-in however much it is used.
        "SESSION_IDLE_SECONDS": _whole_number(environ, "SESSION_IDLE_SECONDS", 12 * 3600,
                                              "seconds a session may go unused"),
        # Password checks a client address gets per window, counted before each check.
        "LOGIN_MAX_FAILURES": _whole_number(environ, "LOGIN_MAX_FAILURES", 5, "password checks per window"),
        "LOGIN_WINDOW_SECONDS": _whole_number(environ, "LOGIN_WINDOW_SECONDS", 15 * 60,
                                              "seconds the sign-in limit counts over"),
        # The health page: how long each live check may take before it is reported as unanswered.
        "HEALTH_CHECK_SECONDS": _whole_number(environ, "HEALTH_CHECK_SECONDS", 5,
                                              "seconds each health check may take"),
    }
    # One limit: a single form field may fill the whole request (Flask's own default is 500 KB).
    settings["MAX_FORM_MEMORY_SIZE"] = settings["MAX_CONTENT_LENGTH"]
    settings.update(given)
    return settings
