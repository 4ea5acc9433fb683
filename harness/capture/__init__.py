"""Capture: the mitmproxy addons and the in-process proxy."""
