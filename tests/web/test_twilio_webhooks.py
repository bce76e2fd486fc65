"""Twilio's webhooks: signed inbound messages and status callbacks, refused when unsigned,
behind a proxy, during token rotation; applying our URLs to the Messaging Service."""
import logging
import threading

import pytest
from twilio.request_validator import RequestValidator

from app import create_app
from tests.support.factories import make_credential
from tests.support.html import text
from wizard.core.db import database
from wizard.core.models import (
    Consent,
    ConsentEvent,
    CredentialNumber,
    InboundMessage,
    OutboundMessage,
    StatusEvent,
)

INBOUND = {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "0" * 32, "MessagingServiceSid": "MG" + "0" * 32,
           "From": "+886912345678", "To": "+14155550101", "Body": "Hello there", "NumMedia": "1",
           "MediaUrl0": "https://api.twilio.com/media/ME1", "MediaContentType0": "image/jpeg", "NumSegments": "1",
           "FromCountry": "TW", "SomethingTwilioAddedLater": "kept"}


@pytest.fixture
def number(app, fake_twilio, in_app):
    credential_id = make_credential(app, fake_twilio)
    with in_app():
        return CredentialNumber.get(CredentialNumber.credential == credential_id)


def post_signed(client, path, params, token, url=None, headers=None, **kwargs):
    url = url or f"http://localhost{path}"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}, **kwargs)


def rows(app, model):
    with app.app_context(), database.connection_context():
        return list(model.select().order_by(model.id))


def test_a_signed_inbound_message_is_stored_and_answered_with_twiml(app, number, fake_twilio):
    client = app.test_client()
    response = post_signed(client, f"/hooks/twilio/{number.webhook_key}/inbound", INBOUND, fake_twilio.auth_token)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert text(response).endswith("<Response />")
    [message] = rows(app, InboundMessage)
    assert (message.from_number, message.to_number, message.body, message.num_segments) == (
        "+886912345678", "+14155550101", "Hello there", 1)
    assert '"content_type": "image/jpeg"' in message.media
    assert '"SomethingTwilioAddedLater": "kept"' in message.params
    assert message.signed and message.sandbox.name == "prod"


def test_stop_gets_the_opt_out_reply_in_twiml(app, number, fake_twilio):
    client = app.test_client()
    response = post_signed(client, f"/hooks/twilio/{number.webhook_key}/inbound", {**INBOUND, "Body": " stop "},
                           fake_twilio.auth_token)
    assert "<Response><Message>" in text(response)
    [message] = rows(app, InboundMessage)
    assert message.keyword_category == "opt_out"


def test_a_retried_stop_is_stored_once_with_one_consent_change_and_one_reply(app, number, fake_twilio):
    path = f"/hooks/twilio/{number.webhook_key}/inbound"
    stop = {**INBOUND, "Body": "STOP"}
    first = post_signed(app.test_client(), path, stop, fake_twilio.auth_token)
    retry = post_signed(app.test_client(), path, stop, fake_twilio.auth_token)  # Twilio's retry: same MessageSid
    assert first.status_code == retry.status_code == 200
    assert text(first).count("<Message>") == 1
    assert text(retry).endswith("<Response />")  # answered, but no second reply
    [message] = rows(app, InboundMessage)
    assert message.keyword_category == "opt_out" and message.reply
    [consent] = rows(app, Consent)
    assert consent.state == "opted_out"
    [history] = rows(app, ConsentEvent)
    assert history.state == "opted_out"


def test_the_same_message_from_two_deliveries_at_once_is_stored_once(config, fake_twilio):
    # Two app instances: each has its own group-commit writer, as two worker processes do, so the
    # two deliveries are two transactions racing in the database.
    apps = [create_app(config), create_app(config)]
    credential_id = make_credential(apps[0], fake_twilio)
    with apps[0].app_context(), database.connection_context():
        key = CredentialNumber.get(CredentialNumber.credential == credential_id).webhook_key
    stop = {**INBOUND, "MessageSid": "SM" + "c" * 32, "Body": "STOP"}
    start, answers = threading.Barrier(2), []

    def deliver(app):
        client = app.test_client()
        start.wait()
        answers.append(post_signed(client, f"/hooks/twilio/{key}/inbound", stop, fake_twilio.auth_token))

    threads = [threading.Thread(target=deliver, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 200]
    assert sorted(text(answer).count("<Message>") for answer in answers) == [0, 1]
    assert len(rows(apps[0], InboundMessage)) == 1
    assert len(rows(apps[0], ConsentEvent)) == 1


def test_inbound_messages_without_a_message_sid_are_each_stored(app, number, fake_twilio, in_app):
    with in_app():
        number.credential.webhook_log_only = True
        number.credential.save()
    unsigned = {key: value for key, value in INBOUND.items() if key != "MessageSid"}
    path = f"/hooks/twilio/{number.webhook_key}/inbound"
    for body in ("first", "second"):
        response = app.test_client().post(path, data={**unsigned, "Body": body})
        assert response.status_code == 200
    assert [message.body for message in rows(app, InboundMessage)] == ["first", "second"]


def test_unsigned_or_badly_signed_requests_are_refused_and_nothing_is_stored(app, number, fake_twilio, caplog):
    client = app.test_client()
    path = f"/hooks/twilio/{number.webhook_key}/inbound"
    with caplog.at_level(logging.WARNING):
        assert client.post(path, data=INBOUND).status_code == 403
        assert post_signed(client, path, INBOUND, "f" * 32).status_code == 403
        tampered = post_signed(client, path, INBOUND, fake_twilio.auth_token, url="http://localhost/other")
        assert tampered.status_code == 403
        garbled = client.post(path, data=INBOUND, headers={"X-Twilio-Signature": "sïgnature=="})
        assert garbled.status_code == 403  # a header that isn't ASCII is a bad signature, not an error
    assert rows(app, InboundMessage) == []
    assert "no X-Twilio-Signature header" in caplog.text and "does not match" in caplog.text
    assert fake_twilio.auth_token not in caplog.text


def test_log_only_accepts_unsigned_requests_and_flags_them(app, number, fake_twilio, in_app):
    with in_app():
        number.credential.webhook_log_only = True
        number.credential.save()
    response = app.test_client().post(f"/hooks/twilio/{number.webhook_key}/inbound", data=INBOUND)
    assert response.status_code == 200
    assert rows(app, InboundMessage)[0].signed is False


def test_the_secondary_token_is_accepted_during_rotation(app, number, fake_twilio, in_app):
    new_token = "b" * 32
    with in_app():
        number.credential.secondary_auth_token = new_token
        number.credential.save()
    path = f"/hooks/twilio/{number.webhook_key}/inbound"
    assert post_signed(app.test_client(), path, INBOUND, new_token).status_code == 200
    assert post_signed(app.test_client(), path, INBOUND, fake_twilio.auth_token).status_code == 200
    assert post_signed(app.test_client(), path, INBOUND, "c" * 32).status_code == 403


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(config, fake_twilio):
    app = create_app({**config, "TRUSTED_PROXIES": 1})
    credential_id = make_credential(app, fake_twilio)
    with app.app_context(), database.connection_context():
        key = CredentialNumber.get(CredentialNumber.credential == credential_id).webhook_key
    path = f"/hooks/twilio/{key}/status"
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "sent", "AccountSid": fake_twilio.account_sid}
    public = f"https://setup.example.com{path}?retry=1"
    response = post_signed(app.test_client(), path + "?retry=1", params, fake_twilio.auth_token, url=public,
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "setup.example.com"})
    assert response.status_code == 204
    # Without trusting the proxy, the same request is checked against http://localhost and refused.
    plain = create_app(config)
    response = post_signed(plain.test_client(), path + "?retry=1", params, fake_twilio.auth_token, url=public,
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "setup.example.com"})
    assert response.status_code == 403


def test_public_base_url_decides_the_signed_url(config, fake_twilio):
    app = create_app({**config, "PUBLIC_BASE_URL": "https://hooks.example.org"})
    credential_id = make_credential(app, fake_twilio)
    with app.app_context(), database.connection_context():
        key = CredentialNumber.get(CredentialNumber.credential == credential_id).webhook_key
    path = f"/hooks/twilio/{key}/status"
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "queued"}
    ok = post_signed(app.test_client(), path, params, fake_twilio.auth_token, url=f"https://hooks.example.org{path}")
    assert ok.status_code == 204
    assert post_signed(app.test_client(), path, params, fake_twilio.auth_token).status_code == 403


def test_status_callbacks_are_idempotent_and_never_move_backwards(app, number, fake_twilio):
    client = app.test_client()
    path = f"/hooks/twilio/{number.webhook_key}/status"
    sid = "SM" + "3" * 32
    for status in ("queued", "delivered", "delivered", "sent"):  # a duplicate, then a late "sent"
        params = {"MessageSid": sid, "MessageStatus": status, "To": "+886912345678", "ApiVersion": "2010-04-01",
                  "ChannelToAddress": "+88691234XXXX"}
        assert post_signed(client, path, params, fake_twilio.auth_token).status_code == 204
    events = rows(app, StatusEvent)
    assert [e.status for e in events] == ["queued", "delivered", "sent"]
    assert '"ChannelToAddress"' in events[0].params
    [outbound] = rows(app, OutboundMessage)
    assert outbound.status == "delivered"


def test_a_failed_status_keeps_its_error_code(app, number, fake_twilio):
    path = f"/hooks/twilio/{number.webhook_key}/status"
    params = {"MessageSid": "SM" + "4" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    post_signed(app.test_client(), path, params, fake_twilio.auth_token)
    assert rows(app, OutboundMessage)[0].error_code == "30003"


def test_bad_requests(app, number, fake_twilio):
    client = app.test_client()
    assert post_signed(client, "/hooks/twilio/no-such-key/inbound", INBOUND, fake_twilio.auth_token).status_code == 404
    path = f"/hooks/twilio/{number.webhook_key}/inbound"
    big = {**INBOUND, "Body": "x" * (65 * 1024)}
    assert post_signed(client, path, big, fake_twilio.auth_token).status_code == 413
    response = client.post(path, json=INBOUND, headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 415
    status_path = f"/hooks/twilio/{number.webhook_key}/status"
    assert post_signed(client, status_path, {"MessageSid": "SM1"}, fake_twilio.auth_token).status_code == 400
    assert rows(app, InboundMessage) == [] and rows(app, StatusEvent) == []


def test_receivers_need_no_sign_in_and_no_csrf_token(app, number, fake_twilio):
    response = post_signed(app.test_client(), f"/hooks/twilio/{number.webhook_key}/inbound", INBOUND,
                           fake_twilio.auth_token)
    assert response.status_code == 200


def test_the_webhooks_page_shows_both_urls_with_copy_buttons(signed_in, number):
    page = text(signed_in.get("/webhooks"))
    assert f"http://localhost/hooks/twilio/{number.webhook_key}/inbound" in page
    assert f"http://localhost/hooks/twilio/{number.webhook_key}/status" in page
    assert "copy-button" in page
    assert "PUBLIC_BASE_URL is not set" in page


def test_apply_to_twilio_shows_the_current_values_then_writes_ours(signed_in, number, fake_twilio):
    page = text(signed_in.get(f"/webhooks/twilio/{number.id}/apply"))
    assert "https://hooks.acme.example/twilio/inbound" in page  # what the fake's service has now
    assert f"/hooks/twilio/{number.webhook_key}/inbound" in page
    assert not fake_twilio.requests_matching(method="POST")
    response = signed_in.post(f"/webhooks/twilio/{number.id}/apply")
    assert response.status_code == 303
    service = fake_twilio.accounts[fake_twilio.account_sid].services[fake_twilio.service_sid]
    assert service.inbound_request_url == f"http://localhost/hooks/twilio/{number.webhook_key}/inbound"
    assert service.status_callback == f"http://localhost/hooks/twilio/{number.webhook_key}/status"
    assert "Twilio already uses these URLs." in text(signed_in.get(f"/webhooks/twilio/{number.id}/apply"))


def test_the_audit_log_shows_what_apply_to_twilio_wrote(signed_in, number, fake_twilio):
    assert signed_in.post(f"/webhooks/twilio/{number.id}/apply").status_code == 303
    response = signed_in.get("/audit")
    assert response.status_code == 200  # the URLs are recorded as a mapping, which the log once choked on
    entry = text(response)
    assert "<code>twilio_webhooks</code>: — → " in entry
    assert f"http://localhost/hooks/twilio/{number.webhook_key}/inbound" in entry


def test_apply_to_twilio_shows_twilios_error(signed_in, number, fake_twilio):
    del fake_twilio.accounts[fake_twilio.account_sid].services[fake_twilio.service_sid]
    response = signed_in.get(f"/webhooks/twilio/{number.id}/apply")
    assert response.status_code == 502
    assert "Twilio error 20404" in text(response)


def test_webhook_security_settings(signed_in, number, in_app):
    signed_in.get("/webhooks")
    response = signed_in.post(f"/webhooks/twilio/{number.credential_id}/security", {"secondary_auth_token": "nothex"})
    assert response.status_code == 422  # the message beside the field: tests/web/test_form_rows_and_choices.py
    signed_in.post(f"/webhooks/twilio/{number.credential_id}/security",
                   {"secondary_auth_token": "d" * 32, "webhook_log_only": "y"})
    page = text(signed_in.get("/webhooks"))
    assert "d" * 32 not in page and "One is stored; leave blank to keep it." in page
    with in_app():
        credential = CredentialNumber.get_by_id(number.id).credential
        assert credential.secondary_auth_token == "d" * 32 and credential.webhook_log_only
