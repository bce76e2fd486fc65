"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when DATABASE_URL says
so), the app, a test client that speaks CSRF like a browser, and a signed-in admin."""
import os
import uuid

import pytest
from playhouse.db_url import connect

from app import create_app
from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, ENCRYPTION_KEY, BrowserLikeClient, create_admin
from tests.support.browser import LiveServer
from tests.support.database import open_test_database
from wizard.migrations import apply_migrations

pytest_plugins = ["tests.support.fake_twilio", "tests.support.provider_endpoints"]


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


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1 in a thread, for Chromium and for tests that call it over HTTP."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def client(app):
    return BrowserLikeClient(app.test_client())


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
