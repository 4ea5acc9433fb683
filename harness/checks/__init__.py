"""Checks: expectations x run -> explained failures. One function each, in the modules of this package."""
