"""The channel configuration form as an admin fills it in."""
from tests.support.custom_webhooks import PROD_NUMBER


def form_data(credential_id, **changes):
    data = {"name": "Spring_sale", "description": "Promotions for the spring.", "channel": "sms",
            "sms_type": "marketing", "credential": str(credential_id), "sender_number": PROD_NUMBER,
            "subdomain": "", "execution_field": "mobilePhone.number", "action": "draft"}
    data.update(changes)
    return data
