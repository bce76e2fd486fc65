"""The practice simulator's state in the database, shared by every process and machine on it.

The store interface of wizard/providers/twilio/simulator.py (MemoryStore keeps the same in
memory). The world is one JSON row, read and written under a lock in one transaction: on
PostgreSQL the row's (SELECT ... FOR UPDATE), on SQLite the write lock taken at BEGIN behind the
writer lock file (wizard/core/db.py). Messages and pending status changes have their own tables;
a change is claimed by a conditional UPDATE, so exactly one process applies it, with a lease after
which a claim whose process died is taken again."""
import contextlib
import uuid

import peewee

from wizard.core.db import connected, database, write_transaction, writer_lock
from wizard.core.models import PracticeMessage, PracticeStatusChange, PracticeWorld
from wizard.providers.twilio.simulator import (
    MemoryStore,
    Message,
    StatusChange,
    World,
    message_document,
    message_from,
)

WORLD_ID = 1


@contextlib.contextmanager
def _writing():
    with connected(), writer_lock(), write_transaction():
        yield


class DatabaseStore:
    MAX_PENDING = MemoryStore.MAX_PENDING

    def __init__(self, seed):
        self._seed = seed
        self._database = database.obj  # the clock stops if the process moves to another (tests do)

    def usable(self) -> bool:
        return database.obj is self._database

    def _locked_world(self) -> tuple[World, str]:
        def locked_row():
            query = PracticeWorld.select().where(PracticeWorld.id == WORLD_ID)
            if isinstance(database.obj, peewee.PostgresqlDatabase):
                query = query.for_update()
            return query.get_or_none()

        row = locked_row()
        if row is None:  # the first use: the seed, unless another process got there first
            fresh = World()
            if self._seed:
                self._seed(fresh)
            PracticeWorld.insert(id=WORLD_ID, document=fresh.to_json()).on_conflict_ignore().execute()
            row = locked_row()
        return World.from_json(row.document), row.document

    @contextlib.contextmanager
    def world(self, write: bool = True):
        if not write:
            with connected():
                row = PracticeWorld.get_or_none(PracticeWorld.id == WORLD_ID)
            if row is not None:
                yield World.from_json(row.document)
                return
        with _writing():
            world, before = self._locked_world()
            yield world
            after = world.to_json()
            if after != before:
                PracticeWorld.update(document=after).where(PracticeWorld.id == WORLD_ID).execute()

    def message(self, sid: str) -> Message | None:
        with connected():
            row = PracticeMessage.get_or_none(PracticeMessage.sid == sid)
        return message_from(row.document) if row else None

    def save_message(self, message: Message):
        with connected():
            PracticeMessage.insert(sid=message.sid, document=message_document(message)).on_conflict(
                conflict_target=[PracticeMessage.sid], update={PracticeMessage.document: message_document(message)},
            ).execute()

    def messages(self) -> dict[str, Message]:
        with connected():
            rows = list(PracticeMessage.select().order_by(PracticeMessage.created_at))
        return {row.sid: message_from(row.document) for row in rows}

    def schedule(self, changes: list[tuple[str, str, float]], generation: int) -> bool:
        """Called inside world(): the changes commit with the message."""
        if PracticeStatusChange.select().count() + len(changes) > self.MAX_PENDING:
            return False
        PracticeStatusChange.insert_many(
            [{"message_sid": sid, "status": status, "due_at": due, "generation": generation}
             for sid, status, due in changes]).execute()
        return True

    def claim_due(self, now: float, lease: float) -> list[StatusChange]:
        """The changes due now that nobody holds, taken for `lease` seconds: a conditional UPDATE, so
        that of two processes claiming at once each change goes to one."""
        free = (PracticeStatusChange.claimed_until.is_null() | (PracticeStatusChange.claimed_until < now))
        with connected():
            if not PracticeStatusChange.select().where((PracticeStatusChange.due_at <= now) & free).exists():
                return []  # the usual answer, read without taking the write lock
            claim = uuid.uuid4().hex
            with writer_lock(), write_transaction():
                due = (PracticeStatusChange.select(PracticeStatusChange.id)
                       .where((PracticeStatusChange.due_at <= now) & free)
                       .order_by(PracticeStatusChange.due_at, PracticeStatusChange.id).limit(50))
                # The WHERE again on the row itself: PostgreSQL re-checks it after a concurrent claim.
                (PracticeStatusChange.update(claim=claim, claimed_until=now + lease)
                 .where(PracticeStatusChange.id.in_(due) & free).execute())
            rows = list(PracticeStatusChange.select().where(PracticeStatusChange.claim == claim)
                        .order_by(PracticeStatusChange.due_at, PracticeStatusChange.id))
        return [StatusChange(r.id, r.message_sid, r.status, r.due_at, r.generation, r.claim) for r in rows]

    def done(self, change: StatusChange):
        with connected(), writer_lock():
            (PracticeStatusChange.delete()
             .where((PracticeStatusChange.id == change.id) & (PracticeStatusChange.claim == change.claim)).execute())

    def next_due(self, now: float) -> float | None:
        """When the next change nobody holds at `now` is due."""
        with connected():
            return (PracticeStatusChange.select(peewee.fn.MIN(PracticeStatusChange.due_at))
                    .where(PracticeStatusChange.claimed_until.is_null()
                           | (PracticeStatusChange.claimed_until < now)).scalar())

    def pending(self) -> int:
        with connected():
            return PracticeStatusChange.select().count()

    def reset(self, seed):
        """Back to the seed in one transaction: every process sees the new world, no message and
        no pending change of the old one."""
        with _writing():
            world, _before = self._locked_world()
            fresh = World(generation=world.generation + 1)
            if seed:
                seed(fresh)
            PracticeStatusChange.delete().execute()
            PracticeMessage.delete().execute()
            PracticeWorld.update(document=fresh.to_json()).where(PracticeWorld.id == WORLD_ID).execute()
