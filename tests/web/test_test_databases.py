"""The test harness itself: each test's database is a fresh copy of the migrated template."""
import pytest

from wizard.core.models import Sandbox, User


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_the_migrated_database_with_fresh_ids(in_app, run):
    """Run twice: the second run sees neither the first one's rows nor its used ids."""
    with in_app():
        assert [s.name for s in Sandbox.select()] == ["prod"]
        assert User.select().count() == 0
        user = User.create(email=f"run{run}@example.com", password_hash="x")
        assert user.id == 1
        assert Sandbox.create(name="dev", name_key="dev").id == 2
