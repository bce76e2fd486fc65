"""The credential-and-number picker that channel configuration and custom webhook forms share."""
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from wizard.core.ids import id_or_none
from wizard.core.models import ApiCredential, CredentialNumber
from wizard.shell.phones import phone_label


def credentials_with_a_number(sandbox, vendors=None) -> dict:
    """{credential id: its CredentialNumber} for the credentials with a number in this sandbox."""

    query = CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential).where(
        CredentialNumber.sandbox == sandbox.id)
    if vendors is not None:
        query = query.where(ApiCredential.vendor.in_(vendors))
    return {n.credential.id: n for n in query.order_by(ApiCredential.name_key)}


class ChoosesCredential:
    """A form part: its `credential` select offers the credentials in `self.numbers`, and its
    `sender_number` select the chosen one's number in this sandbox."""

    def offer_credentials(self, sandbox):

        chosen_id = id_or_none(self.credential.data)
        self.chosen_credential = None if chosen_id is None else ApiCredential.get_or_none(ApiCredential.id == chosen_id)
        self.credential.choices = [SelectChoice("", _l("Choose an API credential"))] + [
            SelectChoice(str(credential_id), number.credential.name) for credential_id, number in self.numbers.items()]
        chosen = self.chosen_credential
        if chosen is not None and chosen.id not in self.numbers:
            # Kept in the list so that its error beside the field makes sense.
            self.credential.choices.append(SelectChoice(str(chosen.id), self.unusable_label(chosen, sandbox)))
        number = self.number_here()
        self.sender_number.choices = ([SelectChoice(number, phone_label(number))] if number
                                      else [SelectChoice("", _l("Choose an API credential first"))])

    def unusable_label(self, chosen, sandbox) -> str:
        """The label of a chosen credential this form can't use."""
        return gettext("%(name)s (no number in sandbox %(sandbox)s)", name=chosen.name, sandbox=sandbox.name)

    def number_here(self) -> str | None:
        """The chosen credential's number in this sandbox, when it can be used here."""
        chosen = self.chosen_credential
        if chosen is None or chosen.id not in self.numbers:
            return None
        return self.numbers[chosen.id].phone_number
