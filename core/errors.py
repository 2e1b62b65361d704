"""The one error type users see: a clear, one-line message, no stack trace."""


class B4GError(Exception):
    """A user-facing error. ``str(err)`` is a single line that says what is wrong and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class JobCancelled(B4GError):
    """Raised inside a job when its cancel token is set."""

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(message)
