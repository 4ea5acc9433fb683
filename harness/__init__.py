"""eventpath: test the event path of paid-media tracking."""

__version__ = "0.1.0"
