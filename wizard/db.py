"""The database: one peewee proxy, opened per request, chosen by DATABASE_URL."""
import click
import peewee
from flask.cli import with_appcontext
from playhouse.db_url import connect

database = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = database


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


def open_database(url: str) -> peewee.Database:
    if url.startswith("sqlite"):
        # WAL lets readers work while a writer commits; SQLite needs foreign keys asked for.
        db = connect(url, pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000})
    elif url.startswith(("postgres://", "postgresql://")):
        db = connect(url)
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
    from wizard.migrations import apply_migrations

    applied = apply_migrations(database)
    if applied:
        click.echo("Applied: " + ", ".join(applied))
    else:
        click.echo("The database is up to date.")
