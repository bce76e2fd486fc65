"""Issue 12 item 8: with channel RCS, New channel configuration offers the credentials that can send
RCS (custom ones), its sender number follows, and every dependent field is refreshed with all the
values it depends on, with htmx (field checks) and without JavaScript (posts)."""
import pytest

from tests.support.channels import form_data
from tests.support.custom_provider import make_custom
from tests.support.factories import make_credential
from tests.support.html import field_error, option_values, selected_option, text
from wizard.core.db import database
from wizard.core.models import ChannelConfiguration

RCS_NUMBER = "+14155550109"


@pytest.fixture
def twilio(app, fake_twilio):
    return make_credential(app, fake_twilio, name="Twilio prod")


@pytest.fixture
def rcs(app, provider_endpoint):
    return make_custom(app, provider_endpoint, name="Twilio RCS", numbers={"prod": RCS_NUMBER})


def saved(app):
    with app.app_context(), database.connection_context():
        return list(ChannelConfiguration.select())


def test_choosing_rcs_brings_the_rcs_credentials_and_their_number(signed_in, twilio, rcs):
    signed_in.get("/channels/new")
    data = form_data(twilio, channel="rcs", choices_for=f"sms:{twilio}")
    response = signed_in.post("/channels/new?_field=channel", data, htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    assert '<div id="credential-fields" hx-swap-oob="true">' in fragment
    assert option_values(fragment, "credential") == ["", str(rcs)]
    assert selected_option(fragment, "credential") == (str(rcs), "Twilio RCS")  # the only one that can
    assert option_values(fragment, "sender_number") == [RCS_NUMBER]
    assert f'name="choices_for" type="hidden" value="rcs:{rcs}"' in fragment
    assert field_error(fragment, "credential") is None and field_error(fragment, "sender_number") is None
    assert "no number in sandbox" not in fragment and "cannot send" not in fragment


def test_the_credential_check_reads_the_channel(signed_in, twilio, rcs):
    response = signed_in.htmx_get(f"/channels/new?_field=credential&channel=rcs&credential={rcs}")
    assert response.status_code == 200
    fragment = text(response)
    assert selected_option(fragment, "credential") == (str(rcs), "Twilio RCS")
    assert option_values(fragment, "sender_number") == [RCS_NUMBER]
    assert field_error(fragment, "credential") is None
    # The select asks with the channel: htmx includes it in the GET.
    page = text(signed_in.get("/channels/new"))
    assert 'hx-include="#channel-form [name=channel]"' in page


def test_a_twilio_credential_with_rcs_says_it_cannot_send_rcs(signed_in, twilio, rcs):
    page = text(signed_in.get(f"/channels/new?channel=rcs&credential={twilio}"))
    assert selected_option(page, "credential") == (str(twilio), "Twilio prod (cannot send RCS)")
    assert field_error(page, "credential") == "API credential Twilio prod cannot send RCS messages."


def test_a_custom_credential_in_the_link_brings_channel_rcs(signed_in, twilio, rcs):
    page = text(signed_in.get(f"/channels/new?credential={rcs}"))
    assert selected_option(page, "channel") == ("rcs", "RCS")
    assert selected_option(page, "credential") == (str(rcs), "Twilio RCS")
    assert field_error(page, "credential") is None


def test_without_javascript_update_choices_then_one_save(signed_in, app, twilio, rcs):
    signed_in.get("/channels/new")
    # The page offered Twilio credentials for SMS; the admin chose RCS and pressed "Update choices".
    response = signed_in.post("/channels/new", form_data(twilio, channel="rcs", choices_for=f"sms:{twilio}",
                                                         action="choices"))
    assert response.status_code == 200
    page = text(response)
    assert selected_option(page, "credential") == (str(rcs), "Twilio RCS")
    assert option_values(page, "sender_number") == [RCS_NUMBER]
    assert 'class="field-error"' not in page
    assert 'value="Promotions for the spring."' in page or "Promotions for the spring." in page
    assert saved(app) == []
    response = signed_in.post("/channels/new", form_data(rcs, channel="rcs", sender_number=RCS_NUMBER,
                                                         choices_for=f"rcs:{rcs}"))
    assert response.status_code == 303
    [configuration] = saved(app)
    assert (configuration.channel, configuration.credential_id, configuration.sender_number) == (
        "rcs", rcs, RCS_NUMBER)


def test_without_javascript_a_save_with_a_changed_channel_refreshes_the_form(signed_in, app, twilio, rcs):
    signed_in.get("/channels/new")
    response = signed_in.post("/channels/new", form_data(twilio, channel="rcs", choices_for=f"sms:{twilio}"))
    assert response.status_code == 422
    page = text(response)
    assert ("The API credentials offered now are those that can send RCS. Check the API credential and the sender "
            "number, then save again.") in page
    assert 'class="field-error"' not in page  # nothing premature
    assert selected_option(page, "credential") == (str(rcs), "Twilio RCS")
    assert 'value="Spring_sale"' in page
    assert saved(app) == []


def test_without_javascript_the_sender_number_follows_a_changed_credential(signed_in, app, twilio, rcs):
    other = make_custom(app, None, name="Other RCS", provider_url="https://rcs.example.com/send",
                        numbers={"prod": "+14155550108"})
    signed_in.get("/channels/new")
    # The page showed Other RCS's number; the admin chose Twilio RCS and saved at once.
    response = signed_in.post("/channels/new", form_data(rcs, channel="rcs", sender_number="+14155550108",
                                                         choices_for=f"rcs:{other}"))
    assert response.status_code == 303
    [configuration] = saved(app)
    assert configuration.sender_number == RCS_NUMBER
