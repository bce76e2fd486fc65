"""The database: one peewee proxy, opened per request, chosen by DATABASE_URL."""
import contextlib
import fcntl
import os
import queue
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
    """Commits the writes of many request threads together: one fsync serves them all.

    A webhook must be answered 2xx only once its event is durably stored; with SQLite
    each commit waits for the disk, so one commit per request caps throughput. Callers
    hand their write to one writer thread per process and wait until the transaction
    holding it has committed, so the guarantee holds and the disk waits are shared.
    """

    MAX_BATCH = 200

    def __init__(self, app):
        self.app = app
        self.queue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._write_forever, name="group-commit", daemon=True)
        self.thread.start()

    def run(self, write, timeout=30):
        """Run write() in a transaction shared with other requests; return its result once committed."""
        committed = threading.Lock()  # a latch: held until the writer has committed, cheaper than an Event
        committed.acquire()
        done = {"committed": committed}
        self.queue.put((write, done))
        if not committed.acquire(timeout=timeout):
            raise TimeoutError("the database did not commit in time")
        if "error" in done:
            raise done["error"]
        return done.get("result")

    def _write_forever(self):
        with self.app.app_context():
            while True:
                batch = [self.queue.get()]
                while len(batch) < self.MAX_BATCH:
                    try:
                        batch.append(self.queue.get_nowait())
                    except queue.Empty:
                        break
                self._commit(batch)

    def _commit(self, batch):
        with database.connection_context(), writer_lock():
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
        for _write, done in batch:
            done["committed"].release()


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
    """Run write() through this process's GroupCommit (started on first use, after any fork)."""
    app = current_app._get_current_object()
    key = (os.getpid(), id(app))
    if key not in _group_commits:
        with _group_commit_lock:
            _group_commits.setdefault(key, GroupCommit(app))
    return _group_commits[key].run(write)


def write_transaction():
    """A transaction that will write after it reads: on SQLite it takes the write lock at BEGIN
    (IMMEDIATE), since a reader whose snapshot another writer has passed can't start writing
    (SQLITE_BUSY at once, no waiting). PostgreSQL's ordinary transaction already waits."""
    if isinstance(database.obj, peewee.SqliteDatabase):
        return database.atomic("IMMEDIATE")
    return database.atomic()
