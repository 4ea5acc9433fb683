"""Decoders: vendor hits -> typed events."""
