"""Errors that carry a plain sentence for the person using the app (tabs show them in the UI)."""


class UserInputError(ValueError):
    """Bad input from the UI or the API: the message is shown to the user as it is.

    ``outputs``: what a person's page shows instead (named outputs, as a view returns them), so that the page stays
    consistent after a refusal (e.g. the dropdown goes back to the model the figure shows); ``None`` keeps every
    output as it was. API callers get the error either way."""

    def __init__(self, message: str, outputs: dict | None = None):
        super().__init__(message)
        self.outputs = outputs
