"""The database: one peewee proxy, opened per request, chosen by DATABASE_URL."""
import contextlib
import fcntl
import os
import threading

import click
import peewee
from flask import current_app
from flask.cli import with_appcontext
from playhouse.db_url import connect

from wizard.core.migrations import apply_migrations

database = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = database


def sql_parameter() -> str:
    """The database's parameter placeholder (? for SQLite, %s for PostgreSQL), for hand-written SQL."""
    return database.obj.param


def all_models() -> list[type[BaseModel]]:
    """Every table class of the app, however deep its inheritance."""
    pending, found = list(BaseModel.__subclasses__()), []
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        found.append(model)
    return found


class DatabaseUnavailable(SystemExit):
    """Start-up stops with this when DATABASE_URL can't be reached."""


# Connections are pooled: opening one per request costs more than most requests.
POOL = {"max_connections": 64, "stale_timeout": 300}


PRIVATE = 0o600  # the database holds encrypted secrets and every audit entry: its owner's only


def _private_file(path: str):
    """Make the file (created if missing) readable and writable by its owner only."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
    os.chmod(path, PRIVATE)


def _keep_private(path: str):
    """The SQLite file and those beside it, as the key files: mode 0600. SQLite gives its -wal and
    -shm files the database file's mode; those left by an older start are set here too."""
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    _private_file(path)
    for suffix in ("-wal", "-shm", "-journal", "-writer.lock"):
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, PRIVATE)


def open_database(url: str) -> peewee.Database:
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        # WAL lets readers work while a writer commits; SQLite needs foreign keys asked for.
        # A pooled connection moves between threads, one thread at a time.
        db = connect(f"sqlite+pool://{rest}", pragmas={"journal_mode": "wal", "foreign_keys": 1,
                                                       "busy_timeout": 10000}, check_same_thread=False, **POOL)
        try:
            _keep_private(db.database)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"Cannot open the database named by DATABASE_URL ({url}): {exc.strerror}.") from exc
    elif scheme in ("postgres", "postgresql"):
        db = connect(f"postgresql+pool://{rest}", **POOL)
    else:
        raise DatabaseUnavailable(
            f"DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.split(':', 1)[0]}:...)."
        )
    try:
        db.connect()
    except peewee.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"Cannot open the database named by DATABASE_URL ({_without_password(url)}): {reason}"
        ) from exc
    db.close()
    return db


def _without_password(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url


def init_app(app):
    database.initialize(open_database(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    app.cli.add_command(migrate_command)


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Apply the schema migrations that this database has not had yet."""

    applied = apply_migrations(database)
    if applied:
        click.echo("Applied: " + ", ".join(applied))
    else:
        click.echo("The database is up to date.")


class GroupCommit:
    """Commits the writes of many request threads together: one wait for the disk serves them all.

    A webhook must be answered 2xx only once its event is durably stored; with SQLite each
    commit waits for the disk, so one commit per request caps throughput. Leader and followers:
    a request that finds no commit under way commits at once, in its own thread, with its own
    connection; requests that arrive meanwhile queue, and when that commit ends the first of
    them commits the whole queue. Nobody hands a write to another thread when nothing else is
    writing, and under load one commit serves many: a dedicated writer thread cost every
    request two thread switches, each a wait for the GIL.
    """

    MAX_BATCH = 200

    def __init__(self):
        self._lock = threading.Lock()
        self._queue: list = []  # (write, done) waiting for the next commit
        self._leading = False  # a commit is under way: new writes queue

    def run(self, write):
        """Run write() in a transaction shared with other requests; return its result once committed."""
        if database.in_transaction():
            raise RuntimeError("group_commit commits: call it outside a transaction")
        done = {"committed": threading.Lock()}  # a latch: held until the commit, cheaper than an Event
        done["committed"].acquire()
        with self._lock:
            self._queue.append((write, done))
            lead, self._leading = not self._leading, True
        if not lead:
            done["committed"].acquire()  # released by the commit holding it, or to lead the next one
            lead = done.pop("lead", False)
        if lead:
            self._lead()
        if "error" in done:
            raise done["error"]
        return done.get("result")

    def _lead(self):
        try:
            with self._lock:
                batch, self._queue = self._queue[:self.MAX_BATCH], self._queue[self.MAX_BATCH:]
            self._commit(batch)
        finally:  # whatever happened, the next queued write leads, or nobody is leading
            with self._lock:
                if self._queue:
                    follower = self._queue[0][1]
                    follower["lead"] = True
                    follower["committed"].release()
                else:
                    self._leading = False

    def _commit(self, batch):
        try:
            with connected(), writer_lock():
                try:
                    with _write_transaction():  # the whole batch, one commit
                        for write, done in batch:
                            done["result"] = write()
                except Exception:
                    # Something failed and nothing of the batch is stored: now each write alone,
                    # so that one bad write fails only its own request.
                    for write, done in batch:
                        done.pop("result", None)
                        try:
                            with _write_transaction():
                                done["result"] = write()
                        except Exception as error:  # handed back to the waiting request
                            done["error"] = error
        except Exception as error:  # no connection or no lock: nothing was stored
            for _write, done in batch:
                done.pop("result", None)
                done["error"] = error
        finally:
            for _write, done in batch:
                if done["committed"].locked():
                    done["committed"].release()


@contextlib.contextmanager
def connected():
    """This thread's connection: the request's when it has one (left open), else one for the block."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


def _write_transaction():
    # SQLite: take the write lock at BEGIN, so a write after a read never finds the snapshot stale.
    return database.atomic("IMMEDIATE") if isinstance(database.obj, peewee.SqliteDatabase) else database.atomic()


@contextlib.contextmanager
def writer_lock():
    """Queue the SQLite writers of all worker processes on a file lock.

    SQLite admits one writer and makes the others poll with sleeps of up to 100 ms; with
    a writer thread in each worker process, that polling costs hundreds of milliseconds
    under load. A blocked flock wakes the next writer as soon as the lock is free.
    PostgreSQL locks rows, so its writers need no queue.
    """
    path = getattr(database.obj, "database", "")
    if not isinstance(database.obj, peewee.SqliteDatabase) or path in ("", ":memory:"):
        yield
        return
    with os.fdopen(os.open(f"{path}-writer.lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_group_commits: dict = {}


_group_commit_lock = threading.Lock()


def group_commit(write):
    """Run write() through this process's GroupCommit (made on first use, after any fork)."""
    app = current_app._get_current_object()
    key = (os.getpid(), id(app))
    if key not in _group_commits:
        with _group_commit_lock:
            _group_commits.setdefault(key, GroupCommit())
    return _group_commits[key].run(write)


def write_transaction():
    """A transaction that will write after it reads: on SQLite it takes the write lock at BEGIN
    (IMMEDIATE), since a reader whose snapshot another writer has passed can't start writing
    (SQLITE_BUSY at once, no waiting). PostgreSQL's ordinary transaction already waits."""
    if isinstance(database.obj, peewee.SqliteDatabase):
        return database.atomic("IMMEDIATE")
    return database.atomic()
