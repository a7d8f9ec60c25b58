"""The project's own error type: raised for user mistakes, shown without a traceback."""


class CustlensError(ValueError):
    """A problem with the user's input or configuration, explained in one message."""


class DataError(CustlensError):
    """Input data that cannot be loaded or does not meet the data contract."""


class CustlensWarning(UserWarning):
    """Something the user should know and may act on, though the work goes on (the commands
    print it as `custlens: warning: ...`)."""
