"""The one exception type meant for users: the CLI prints its message as a single line."""


class NnlabError(Exception):
    """A problem the user can act on (bad input, missing data, unwritable folder...)."""
