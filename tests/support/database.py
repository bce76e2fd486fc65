"""Test databases: SQLite files or PostgreSQL databases, opened as the app opens them."""
import peewee


def open_test_database(url: str) -> peewee.Database:
    from wizard.db import open_database

    return open_database(url)
