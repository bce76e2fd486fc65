"""Test databases: migrated once per session into a template, then a copy per test.

SQLite: the template is a file; each test gets a copy of it (the template is checkpointed
and closed first, so the file holds every page). PostgreSQL: the template is a database;
each test gets `CREATE DATABASE ... TEMPLATE` (a page-level copy: rows, indexes and id
sequences exactly as migrated), dropped after the test once its pools are closed. The
template is dropped at the end of the session.
"""
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
from playhouse.db_url import connect


def open_test_database(url: str) -> peewee.Database:
    from wizard.core.db import open_database

    return open_database(url)


def _migrate(url: str):
    from wizard.core.migrations import apply_migrations

    db = open_test_database(url)
    apply_migrations(db)
    return db


class SqliteFiles:
    def __init__(self, directory: Path):
        self.directory = directory
        self._template = None

    def _migrated_template(self) -> Path:
        if self._template is None:
            path = self.directory / "migrated.sqlite3"
            db = _migrate(f"sqlite:///{path}")
            with db.connection_context():
                db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
            db.close_all()  # the last connection closing removes the -wal file
            assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
            self._template = path
        return self._template

    def create(self, directory: Path, migrated: bool) -> str:
        path = directory / "test.sqlite3"
        if migrated:
            shutil.copyfile(self._migrated_template(), path)
        return f"sqlite:///{path}"

    def drop(self, url: str):
        pass  # the file is in the test's tmp_path

    def close(self):
        pass


class PostgresServer:
    def __init__(self, url: str):
        self.url = urlsplit(url)
        self.prefix = f"t_{uuid.uuid4().hex[:10]}"  # two runs on one server never meet
        self.admin = connect(url)  # not pooled: CREATE and DROP DATABASE, each in autocommit
        self._template = None
        self._count = 0
        # PostgreSQL 15 copies a template through the WAL by default; copying its files is about
        # twice as fast for databases this small (before 15, copying files is the only way).
        version = int(self.admin.execute_sql("SHOW server_version_num").fetchone()[0])
        self._strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""

    def _url_of(self, name: str) -> str:
        return urlunsplit(self.url._replace(path=f"/{name}"))

    def _execute(self, sql: str):
        self.admin.execute_sql(sql)

    def _migrated_template(self) -> str:
        if self._template is None:
            name = f"{self.prefix}_template"
            self._execute(f'CREATE DATABASE "{name}"')
            _migrate(self._url_of(name)).close_all()  # CREATE DATABASE ... TEMPLATE wants it unused
            self._template = name
        return self._template

    def create(self, directory: Path, migrated: bool) -> str:
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        template = f' TEMPLATE "{self._migrated_template()}"{self._strategy}' if migrated else ""
        self._execute(f'CREATE DATABASE "{name}"{template}')
        return self._url_of(name)

    def drop(self, url: str):
        name = urlsplit(url).path.lstrip("/")
        # The test's pools are closed by now; FORCE ends whatever a stray thread still holds.
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self):
        if self._template is not None:
            self._execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self.admin.close()


def database_server(url: str, directory: Path):
    """Where this session's test databases live: DATABASE_URL's PostgreSQL, or SQLite files."""
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresServer(url)
    return SqliteFiles(directory)
