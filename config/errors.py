"""The one error type that configuration raises."""


class ConfigError(Exception):
    """Invalid or missing configuration; the message is one line an operator can act on."""
