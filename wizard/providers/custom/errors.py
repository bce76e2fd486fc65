"""The one error a custom provider's request raises, below everything else in wizard.providers.custom
so that the auth types (wizard.providers.custom.auth) and the settings can both raise it."""


class ProviderError(Exception):
    """The request could not be made or got no answer; .message says why, without secrets."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
