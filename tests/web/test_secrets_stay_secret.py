"""Write-only secrets: after a full setup, no page, fragment, log line or database byte
holds the Auth Token (or the secondary token)."""
import logging
from pathlib import Path

from tests.support.crawl import crawl
from tests.support.guided import step_url, walk_to
from wizard.core.db import all_models, database

SECONDARY = "e" * 32


def database_text(app) -> str:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1].split("?")[0])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).decode("latin-1")
    with app.app_context(), database.connection_context():
        rows = []  # raw column values, as stored: no field decrypts them on the way
        for model in all_models():
            if model.table_exists():
                rows += [str(row) for row in database.execute_sql(f'SELECT * FROM "{model._meta.table_name}"')]
        return "\n".join(rows)


def test_the_auth_token_never_leaves_the_server(signed_in, app, fake_twilio, caplog, in_app):
    token = fake_twilio.auth_token
    with caplog.at_level(logging.DEBUG):
        first = walk_to(signed_in, fake_twilio, upto="review")
        signed_in.post(step_url(first, "review"))
        # A second, unfinished run keeps a token in its draft.
        walk_to(signed_in, fake_twilio, upto="numbers", name="Unfinished")
        signed_in.get("/webhooks")
        from wizard.core.models import ApiCredential

        with in_app():
            credential = ApiCredential.get(ApiCredential.name == "Twilio prod")
        signed_in.post(f"/webhooks/twilio/{credential.id}/security", {"secondary_auth_token": SECONDARY})
        pages = crawl(signed_in)
    visited = {page.path for page in pages}
    for expected in ("/credentials", f"/credentials/{credential.id}", f"/credentials/{credential.id}/verify",
                     "/webhooks", "/setup", "/events", "/audit", "/keywords"):
        assert any(path == expected or path.startswith(expected + "?") for path in visited), expected
    assert any(path.endswith("/numbers") for path in visited)  # the unfinished run's steps
    for page in pages:
        assert token not in page.body and SECONDARY not in page.body, f"{page.path} (htmx={page.htmx}) shows a token"
    assert token not in caplog.text and SECONDARY not in caplog.text
    stored = database_text(app)
    assert token not in stored and SECONDARY not in stored
    assert fake_twilio.account_sid in stored  # the check would see plain text: SIDs are stored as they are
