"""Errors of the registry's services that are not bad input (bad input is django's ValidationError)."""

from __future__ import annotations


class TransitionRefused(Exception):
    """A state transition that the host's current state does not allow (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ControlNotShown(TransitionRefused):
    """An admin approved a host whose control was never shown, without overriding."""
