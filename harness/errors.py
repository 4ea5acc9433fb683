"""Errors meant for people: one line saying what, where and how to fix. The CLI prints them and exits 2."""

from __future__ import annotations


class EventpathError(Exception):
    """Bad input or environment (a bad URL, no browser, a port in use): exit code 2, no traceback."""

    exit_code = 2


class BrowserNotFound(EventpathError):
    pass


class BadInput(EventpathError):
    pass
