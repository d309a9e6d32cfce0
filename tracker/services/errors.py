"""Errors the use cases raise; each carries a message meant for the person at the screen."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused or impossible request; ``str(error)`` explains it to the user."""


class NotFound(ServiceError):
    pass


class InvalidInput(ServiceError):
    pass


class DuplicateSession(ServiceError):
    """A visit with this session number already exists in the course."""


class AuthenticationFailed(ServiceError):
    """Unknown email, wrong password or inactive account (deliberately not told apart)."""


class AccountLocked(ServiceError):
    """Too many failed logins; ``locked_until`` says when the next attempt is allowed."""

    def __init__(self, message: str, locked_until: object) -> None:
        super().__init__(message)
        self.locked_until = locked_until
