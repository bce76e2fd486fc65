"""The Twilio messaging setup wizard, in layers: core < shell < providers < messaging < features < guided <
practice. A layer imports only the layers below it (.importlinter says so; CI checks it)."""
