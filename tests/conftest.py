"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when DATABASE_URL says
so), the app, a test client that speaks CSRF like a browser, and a signed-in admin."""
import os
import re
import uuid

import peewee
import pytest
from cryptography.fernet import Fernet
from playhouse.db_url import connect

from app import create_app
from wizard.migrations import apply_migrations

pytest_plugins = ["tests.fake_twilio", "tests.browser", "tests.provider_endpoints"]

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery"
ENCRYPTION_KEY = Fernet.generate_key().decode()


def _fresh_postgres(url: str) -> tuple[str, str]:
    """A schema of its own for this test, dropped afterwards: tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    db = connect(url)
    db.execute_sql(f'CREATE SCHEMA "{schema}"')
    db.close()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", schema


@pytest.fixture
def database_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        scoped, schema = _fresh_postgres(url)
        yield scoped
        db = connect(url)
        db.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        db.close()
    else:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"


def open_test_database(url: str) -> peewee.Database:
    from wizard.db import open_database

    return open_database(url)


@pytest.fixture
def migrated_url(database_url):
    db = open_test_database(database_url)
    apply_migrations(db)
    db.close()
    return database_url


@pytest.fixture
def config(migrated_url, tmp_path, fake_twilio):
    return {
        "TESTING": True,
        "DATABASE_URL": migrated_url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": "",
        "TWILIO_BASE_URL": fake_twilio.base_url,  # the real twilio client, answered on 127.0.0.1
        "ALLOW_PRIVATE_PROVIDER_URLS": True,  # test providers listen on 127.0.0.1
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",  # scrypt costs 0.2 s a hash: too dear for every sign-in
    }


@pytest.fixture
def app(config, tmp_path):
    app = create_app(config)
    app.instance_path = str(tmp_path / "instance")
    yield app


class BrowserLikeClient:
    """Flask's test client plus the CSRF token a browser would have read from the page."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')

    def __init__(self, client):
        self.client = client
        self.token = None

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get(self, *args, **kwargs):
        response = self.client.get(*args, **kwargs)
        self._remember_token(response)
        return response

    def _remember_token(self, response):
        match = self.TOKEN.search(response.get_data(as_text=True))
        if match:
            self.token = match.group(1) or match.group(2)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        """POST a form; with csrf=True the token of the last page read is sent along."""
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if csrf:
            if self.token is None:
                self.get("/login")
            if htmx:
                headers["X-CSRFToken"] = self.token
            else:
                data.setdefault("csrf_token", self.token)
        if htmx:
            headers["HX-Request"] = "true"
        response = self.client.post(url, data=data, headers=headers, **kwargs)
        self._remember_token(response)
        return response

    def htmx_get(self, url, **kwargs):
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.get(url, headers=headers, **kwargs)


@pytest.fixture
def client(app):
    return BrowserLikeClient(app.test_client())


def create_admin(app, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    from wizard.db import database
    from wizard.models import User

    with app.app_context(), database.connection_context():
        user = User(email=email)
        user.set_password(password)
        user.save()
        return user.id


@pytest.fixture
def admin(app):
    create_admin(app)
    return ADMIN_EMAIL


@pytest.fixture
def signed_in(client, admin):
    client.get("/login")
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.get(response.headers["Location"], follow_redirects=True)  # as a browser would: a fresh CSRF token
    return client
