from __future__ import annotations


class InvalidCommand(Exception):
    """Field-level problems with a command; nothing was changed."""

    def __init__(self, errors: list[tuple[str, str]], part: str = "body"):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors, self.part = errors, part  # part: where the fields are, "body" or "query"


class IllegalTransition(Exception):
    """The command is not allowed in the case's current state; nothing was changed."""

    def __init__(self, command: str, status: str, allowed: list[str], why: str | None = None):
        super().__init__(why or f"cannot {command} a case that is {status}")
        self.command, self.status, self.allowed = command, status, allowed


class NotPermitted(Exception):
    """The actor's role may not give this command; nothing was changed."""
