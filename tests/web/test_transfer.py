"""Export a sandbox's configuration to a file and import it into another sandbox: the file, the
preview (created, updated, left alone), the secrets form, bad files, all-or-nothing, the audit log."""
import html
import json

import peewee
import pytest

from app import create_app
from tests.support.app import create_admin, sign_in_client
from tests.support.custom_provider import API_KEY
from tests.support.transfer import (
    HMAC_SECRET,
    PROVIDER_KEY,
    apply,
    export_text,
    make_prod,
    make_sandbox,
    secret_fields,
    switch_to,
    upload,
    visible,
    without_sandbox_name,
)
from wizard.core.db import database
from wizard.core.models import (
    ApiCredential,
    AuditEntry,
    ChannelConfiguration,
    CredentialNumber,
    CustomWebhook,
    KeywordRule,
)

NEW_TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def prod(app, fake_twilio, provider_endpoint):
    return make_prod(app, fake_twilio, provider_endpoint)


@pytest.fixture
def other_installation(config, databases, opened_pools, tmp_path):
    """Another installation of the app: its own database. Call it after the test is done with `app`."""
    directory = tmp_path / "other"
    directory.mkdir()
    url = databases.create(directory, migrated=True)
    yield lambda: create_app({**config, "DATABASE_URL": url})
    for db in opened_pools:
        db.close_all()
    databases.drop(url)


def count(app, model, *where) -> int:
    with app.app_context(), database.connection_context():
        query = model.select()
        return (query.where(*where) if where else query).count()


def renamed(text_: str, suffix="_staging") -> str:
    """The file with every object under a new name: its credentials are new here (a credential is the
    installation's, shared by its sandboxes), so the import asks for their secrets."""
    document = json.loads(text_)
    names = {entry["name"]: entry["name"] + suffix for entry in document["credentials"]}
    for kind in ("credentials", "channel_configurations", "custom_webhooks"):
        for entry in document[kind]:
            entry["name"] += suffix
            if entry.get("credential") in names:
                entry["credential"] = names[entry["credential"]]
    for entry in document["keywords"]:
        entry["credential"] = names[entry["credential"]]
    return json.dumps(document)


def all_secrets(fake_twilio) -> dict:
    return {"credential-0-auth_token": fake_twilio.auth_token, "credential-1-api_key": PROVIDER_KEY,
            "webhook-0-hmac_secret": HMAC_SECRET}


def test_export_is_one_download_by_name_without_ids_or_secrets(app, signed_in, prod, fake_twilio):
    response = signed_in.post("/transfer/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="sandbox-prod.json"'
    exported = response.get_data(as_text=True)
    document = json.loads(exported)
    assert document["format"] == "twilio-messaging-setup/sandbox" and document["version"] == 1
    assert document["sandbox"] == "prod"
    twilio, custom = document["credentials"][0], document["credentials"][1]
    assert (twilio["name"], twilio["account_sid"], twilio["number"], twilio["secrets"]) == (
        "Main Twilio", fake_twilio.account_sid, fake_twilio.service_numbers[0], ["auth_token"])
    assert (custom["name"], custom["auth_type"], custom["auth_settings"], custom["headers"], custom["secrets"]) == (
        "RCS provider", "api_key", {"api_key_header": "X-API-Key"}, [["X-Tenant", "acme"]], ["api_key"])
    assert [(c["name"], c["credential"]) for c in document["channel_configurations"]] == [
        ("Marketing_SMS", "Main Twilio"), ("RCS_Offers", "RCS provider")]
    assert [(w["name"], w["credential"], w["hmac_secret"]) for w in document["custom_webhooks"]] == [
        ("RCS inbound", "RCS provider", True), ("RCS status", None, False)]
    keywords = document["keywords"][0]
    assert keywords["credential"] == "Main Twilio" and keywords["settings"]["fuzzy_opt_out"] is True
    assert keywords["rules"][0] == {"category": "opt_out", "keywords": ["STOP", "退訂"],
                                    "reply": "You are unsubscribed."}
    for secret in (fake_twilio.auth_token, API_KEY, HMAC_SECRET):
        assert secret not in exported
    with app.app_context(), database.connection_context():
        keys = [n.webhook_key for n in CredentialNumber.select()] + [w.key for w in CustomWebhook.select()]
        entry = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert not any(key in exported for key in keys)
    assert '"id"' not in exported
    assert (entry.action, entry.object_type, entry.object_label) == ("export", "Sandbox", "prod")


def test_round_trip_to_another_installation_gives_the_same_file(app, signed_in, prod, fake_twilio,
                                                                other_installation):
    exported = export_text(signed_in)
    other = other_installation()
    create_admin(other)
    client = sign_in_client(other)
    switch_to(client, make_sandbox(other, "staging"))

    preview = upload(client, exported)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert visible(preview).count("To create") == 7  # 2 credentials, 2 configurations, 2 webhooks, the keywords
    assert secret_fields(page) == ["credential-0-auth_token", "credential-1-api_key", "webhook-0-hmac_secret"]
    assert f"Apply to Twilio for these Messaging Services: {fake_twilio.service_sid} (Main Twilio)" in visible(preview)
    with other.app_context(), database.connection_context():
        assert ApiCredential.select().count() == 0  # the preview wrote nothing

    done = apply(client, exported, all_secrets(fake_twilio))
    assert done.status_code == 303, done.get_data(as_text=True)
    landed = client.get(done.headers["Location"])
    assert "Imported into sandbox staging: 7 created, 0 updated, 0 left alone." in visible(landed)
    assert f"Apply to Twilio for Messaging Service {fake_twilio.service_sid}" in visible(landed)

    again = export_text(client)
    assert json.loads(again)["sandbox"] == "staging"
    assert without_sandbox_name(again) == without_sandbox_name(exported)
    with other.app_context(), database.connection_context():
        twilio = ApiCredential.get(ApiCredential.name == "Main Twilio")
        custom = ApiCredential.get(ApiCredential.name == "RCS provider")
        webhook = CustomWebhook.get(CustomWebhook.name == "RCS inbound")
        assert (twilio.auth_token, json.loads(custom.auth_secrets), webhook.hmac_secret) == (
            fake_twilio.auth_token, {"api_key": PROVIDER_KEY}, HMAC_SECRET)
        assert ChannelConfiguration.get(ChannelConfiguration.name == "Marketing_SMS").status == "draft"
        actions = [(e.action, e.object_type) for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert ("import", "Sandbox") in actions and ("export", "Sandbox") in actions
    assert ("create", "ChannelConfiguration") in actions and ("create", "ApiCredential") in actions


def test_preview_shows_what_is_created_updated_with_its_fields_and_left_alone(app, signed_in, prod):
    document = json.loads(export_text(signed_in))
    document["channel_configurations"][0]["description"] = "Monthly offers"
    document["channel_configurations"].append({**document["channel_configurations"][0], "name": "Alerts_SMS",
                                              "description": ""})
    edited = json.dumps(document)
    preview = upload(signed_in, edited)
    shown = visible(preview)
    assert preview.status_code == 200, shown
    assert "Matched by name: 1 to create, 1 to update, 6 left alone." in shown
    assert "Channel configuration “Marketing_SMS” To update description : Weekly offers → Monthly offers" in shown
    assert "Channel configuration “Alerts_SMS” To create" in shown
    assert "API credential “Main Twilio” Left alone" in shown
    assert secret_fields(preview.get_data(as_text=True)) == []  # nothing it changes needs a secret
    assert count(app, ChannelConfiguration, ChannelConfiguration.name == "Alerts_SMS") == 0

    done = apply(signed_in, edited, {})
    assert done.status_code == 303, done.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert ChannelConfiguration.get(ChannelConfiguration.name == "Marketing_SMS").description == "Monthly offers"
        assert ChannelConfiguration.get(ChannelConfiguration.name == "Alerts_SMS").status == "draft"
        entries = [(e.action, e.object_label, e.changed_fields) for e in
                   AuditEntry.select().where(AuditEntry.object_type == "ChannelConfiguration")]
    assert ("update", "Marketing_SMS", {"description": ["Weekly offers", "Monthly offers"]}) in entries


def test_the_secrets_form_refuses_what_would_be_left_without_a_secret(app, signed_in, prod, fake_twilio):
    staging = make_sandbox(app, "staging")
    exported = renamed(export_text(signed_in))
    switch_to(signed_in, staging)
    before = count(app, AuditEntry)

    refused = apply(signed_in, exported, {})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Nothing was imported: the objects marked below are refused." in visible(refused)
    assert "Enter the Auth Token." in page and "Enter the API key." in page
    assert "the webhook would accept unsigned requests" in html.unescape(page)
    assert count(app, ApiCredential, ApiCredential.name == "Main Twilio_staging") == 0
    assert count(app, AuditEntry) == before

    typed = {**all_secrets(fake_twilio), "credential-0-auth_token": "not-a-token-7777"}
    wrong = apply(signed_in, exported, typed)
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert "An Auth Token is 32 hex digits" in page
    for secret in typed.values():
        assert secret not in page  # typed secrets never come back in the page
    assert count(app, ApiCredential, ApiCredential.name == "RCS provider_staging") == 0

    done = apply(signed_in, exported, {**typed, "credential-0-auth_token": NEW_TOKEN})
    assert done.status_code == 303, done.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        credential = ApiCredential.get(ApiCredential.name == "Main Twilio_staging")
        assert credential.auth_token == NEW_TOKEN and credential.verification_state == "never"
        assert KeywordRule.select().where(KeywordRule.credential == credential.id).count() == 2
    exported_again = export_text(signed_in)
    for secret in (NEW_TOKEN, PROVIDER_KEY, HMAC_SECRET):
        assert secret not in exported_again


def test_round_trip_to_a_new_sandbox_of_this_installation_gives_the_same_file(app, signed_in, prod, fake_twilio):
    # prod -> dev on one installation: the credentials are shared (matched by name, their stored
    # secrets kept), and the channel configurations and webhooks keep their names in the new sandbox.
    exported = export_text(signed_in)
    switch_to(signed_in, make_sandbox(app, "staging"))
    preview = upload(signed_in, exported)
    shown = visible(preview)
    assert preview.status_code == 200, shown
    assert "Matched by name: 5 to create, 2 to update, 0 left alone." in shown
    assert "Channel configuration “Marketing_SMS” To create" in shown
    assert "Webhook “RCS inbound” To create" in shown
    assert f"API credential “Main Twilio” To update number : — → {fake_twilio.service_numbers[0]}" in shown
    assert "Refused" not in shown
    assert secret_fields(preview.get_data(as_text=True)) == [
        "credential-0-auth_token", "credential-1-api_key", "webhook-0-hmac_secret"]
    assert visible(preview).count("Leave it blank to keep the stored one.") == 2

    # The credentials keep their stored secrets: only the new webhook's HMAC secret is typed.
    done = apply(signed_in, exported, {"webhook-0-hmac_secret": HMAC_SECRET})
    assert done.status_code == 303, done.get_data(as_text=True)
    assert "Imported into sandbox staging: 5 created, 2 updated, 0 left alone." in visible(
        signed_in.get(done.headers["Location"]))
    again = export_text(signed_in)
    assert json.loads(again)["sandbox"] == "staging"
    assert without_sandbox_name(again) == without_sandbox_name(exported)
    with app.app_context(), database.connection_context():
        named = sorted((c.sandbox.name, c.name, c.status) for c in ChannelConfiguration.select())
        hooks = sorted((w.sandbox.name, w.name, w.hmac_secret) for w in CustomWebhook.select())
        assert [(c.name, c.auth_token or json.loads(c.auth_secrets)) for c in ApiCredential.select()] == [
            ("Main Twilio", fake_twilio.auth_token), ("RCS provider", {"api_key": API_KEY})]
    assert named == [("prod", "Marketing_SMS", "draft"), ("prod", "RCS_Offers", "draft"),
                     ("staging", "Marketing_SMS", "draft"), ("staging", "RCS_Offers", "draft")]
    assert hooks == [("prod", "RCS inbound", HMAC_SECRET), ("prod", "RCS status", None),
                     ("staging", "RCS inbound", HMAC_SECRET), ("staging", "RCS status", None)]
    switch_to(signed_in, 1)
    assert without_sandbox_name(export_text(signed_in)) == without_sandbox_name(exported)  # prod untouched


BAD_FILES = {
    "invalid JSON": (lambda good: good[:-10], "This is not valid JSON"),
    "wrong version": (lambda good: good.replace('"version": 1', '"version": 2'),
                      "This file has format version 2; this app reads version 1."),
    "not an export": (lambda good: '{"hello": "world"}', "This is not a sandbox configuration exported by this app"),
    "unknown vendor": (lambda good: good.replace('"vendor": "custom"', '"vendor": "acme"'),
                       "credentials[1] has the vendor \"acme\"; this app knows twilio, custom."),
    "wrong type": (lambda good: good.replace('"name": "Marketing_SMS"', '"name": 5'),
                   "channel_configurations[0]: name must be text."),
    "missing list": (lambda good: good.replace('"keywords": [', '"keyword": ['), "The file lacks keywords."),
    "too deep": (lambda good: good.replace('"auth_settings": {', '"auth_settings": ' + "[" * 40 + "]" * 40
                                           + ', "x": {'),
                 "nested more than 32 levels deep"),
    "over the size limit": (lambda good: good.replace('"sandbox": "prod"', '"sandbox": "' + "p" * 300_000 + '"'),
                            "This file is larger than 256 KB"),
    "not UTF-8": (lambda good: good.encode("utf-16"), "This file is not UTF-8 text"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_a_clear_error_and_nothing_is_written(app, signed_in, prod, case):
    change, message = BAD_FILES[case]
    bad = change(export_text(signed_in))
    before = count(app, AuditEntry)
    response = upload(signed_in, bad)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    again = apply(signed_in, bad if isinstance(bad, str) else bad.decode("latin-1"), {})
    assert again.status_code == 422
    assert count(app, AuditEntry) == before


def test_a_file_over_the_request_limit_is_refused_before_it_is_read(signed_in):
    response = upload(signed_in, "x" * (1024 * 1024 + 10))
    assert response.status_code == 413
    assert "This request is too large" in visible(response)


def test_no_file_chosen(signed_in):
    signed_in.get("/transfer")
    response = signed_in.post("/transfer/import", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose the export file to import." in visible(response)


@pytest.mark.parametrize("name, message", [
    ("Main\u202eTwilio", "A name cannot contain the invisible character U+202E"),
    ("", "Enter a name for the API credential."),
    ("x" * 129, "A name has at most 128 characters."),
])
def test_names_that_break_the_rules_are_refused_and_nothing_is_written(app, signed_in, prod, name, message):
    document = json.loads(renamed(export_text(signed_in)))
    document["credentials"][0]["name"] = name
    switch_to(signed_in, make_sandbox(app, "staging"))
    preview = upload(signed_in, json.dumps(document))
    assert preview.status_code == 200
    assert message in visible(preview)
    before = count(app, AuditEntry)
    response = apply(signed_in, json.dumps(document), {"credential-1-api_key": PROVIDER_KEY,
                                                       "webhook-0-hmac_secret": HMAC_SECRET})
    assert response.status_code == 422
    assert message in visible(response)
    assert count(app, ApiCredential, ApiCredential.name == "RCS provider_staging") == 0
    assert count(app, AuditEntry) == before


def test_a_bad_phone_number_and_an_unknown_credential_are_refused(app, signed_in, prod):
    document = json.loads(renamed(export_text(signed_in)))
    document["credentials"][0]["number"] = "+1 555"
    document["channel_configurations"][1]["credential"] = "Nobody"
    switch_to(signed_in, make_sandbox(app, "staging"))
    shown = visible(upload(signed_in, json.dumps(document)))
    assert "Incoming number for staging:" in shown
    assert "It sends through API credential Nobody, which is neither in the file nor here." in shown


BOOM = {
    "sqlite": ["CREATE TRIGGER boom BEFORE INSERT ON channel_configuration WHEN NEW.name = 'RCS_Offers_staging' "
               "BEGIN SELECT RAISE(ABORT, 'no RCS here'); END"],
    "postgresql": ["CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.name = 'RCS_Offers_staging' THEN "
                   "RAISE EXCEPTION 'no RCS here'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER boom BEFORE INSERT ON channel_configuration FOR EACH ROW EXECUTE FUNCTION boom()"],
}


def test_when_the_database_refuses_one_object_mid_import_nothing_is_written(app, signed_in, prod, fake_twilio):
    staging = make_sandbox(app, "staging")
    exported = renamed(export_text(signed_in))
    switch_to(signed_in, staging)
    assert upload(signed_in, exported).status_code == 200
    # Between the preview and the import, the database starts refusing the second configuration
    # (written after both credentials and the first configuration).
    with app.app_context(), database.connection_context():
        kind = "sqlite" if isinstance(database.obj, peewee.SqliteDatabase) else "postgresql"
        for statement in BOOM[kind]:
            database.execute_sql(statement)
    before = {model: count(app, model) for model in (ApiCredential, CredentialNumber, ChannelConfiguration,
                                                     CustomWebhook, KeywordRule, AuditEntry)}
    response = apply(signed_in, exported, all_secrets(fake_twilio))
    assert response.status_code == 422
    assert "Nothing was imported: the database refused Channel configuration RCS_Offers_staging" in visible(response)
    assert "no RCS here" in visible(response)
    assert {model: count(app, model) for model in before} == before


def test_an_import_is_in_the_audit_log(app, signed_in, prod):
    exported = export_text(signed_in)
    assert apply(signed_in, exported, {}).status_code == 303
    with app.app_context(), database.connection_context():
        entry = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert (entry.action, entry.object_label) == ("import", "prod")
    assert entry.changed_fields == {"file": [None, "prod"], "created": [None, 0], "updated": [None, 0],
                                    "unchanged": [None, 7]}
    log = visible(signed_in.get("/audit"))
    assert "Imported Sandbox “prod”" in log and "Exported Sandbox “prod”" in log


def test_htmx_gets_the_preview_in_place(signed_in, prod):
    exported = export_text(signed_in)
    response = upload(signed_in, exported, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="transfer-import">') and "<html" not in page
    bad = upload(signed_in, "{", htmx=True)
    assert bad.status_code == 422 and "<html" not in bad.get_data(as_text=True)


def test_the_pages_are_linked(signed_in):
    assert 'href="/transfer"' in signed_in.get("/sandboxes").get_data(as_text=True)
    assert "Export and import" in visible(signed_in.get("/transfer"))


def test_auth_settings_cannot_name_other_fields_or_secrets(app, signed_in, prod):
    document = json.loads(renamed(export_text(signed_in)))
    document["credentials"][1]["auth_settings"] = {"name": "Other", "api_key": "typed-in-the-file"}
    switch_to(signed_in, make_sandbox(app, "staging"))
    shown = visible(upload(signed_in, json.dumps(document)))
    assert "Its auth settings hold api_key, name, which auth type api_key doesn't have." in shown


def test_a_name_twice_in_the_file_is_refused(app, signed_in, prod):
    document = json.loads(export_text(signed_in))
    document["channel_configurations"].append({**document["channel_configurations"][0], "name": "marketing_sms"})
    preview = upload(signed_in, json.dumps(document))
    assert "Channel configuration “marketing_sms” Refused The file has this name twice: names are unique." in (
        visible(preview))
    assert apply(signed_in, json.dumps(document), {}).status_code == 422
