"""Errors that carry a plain sentence for the person using the app (tabs show them in the UI)."""


class UserInputError(ValueError):
    """Bad input from the UI or the API: the message is shown to the user as it is."""
