"""Loading checks (built-in modules of ``harness.checks`` plus entry points) and running them."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

import harness.checks as checks_package
from harness.checks.base import BUILTIN_CHECKS, CheckContext, CheckOutcome, RegisteredCheck

ENTRY_POINT_GROUP = "eventpath.checks"
_NOT_CHECK_MODULES = {"base", "registry"}


@cache
def all_checks() -> tuple[RegisteredCheck, ...]:
    for module in pkgutil.iter_modules(checks_package.__path__):
        if module.name not in _NOT_CHECK_MODULES:
            importlib.import_module(f"{checks_package.__name__}.{module.name}")
    found = list(BUILTIN_CHECKS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        function = ep.load()
        if callable(function) and not any(c.name == ep.name for c in found):
            doc = (function.__doc__ or "").strip().splitlines()
            found.append(RegisteredCheck(ep.name, function, doc[0] if doc else ""))
    return tuple(found)


def run_checks(context: CheckContext) -> CheckOutcome:
    """Run every check; a check that crashes is reported as a failure of its own, never hidden."""
    outcome = CheckOutcome()
    seen_keys: set[str] = set()
    for registered in all_checks():
        outcome.checks_run.append(registered.name)
        try:
            failures = list(registered.function(context))
        except Exception as exc:  # noqa: BLE001 - a broken check must not stop the others
            failures = [
                context.failure(
                    registered.name,
                    f"check {registered.name} crashed: {type(exc).__name__}: {exc}",
                    "Run error",
                    expected="the check to run",
                    seen=f"{type(exc).__name__}: {exc}",
                    fix="report this as an eventpath bug, with the results.json of the run",
                )
            ]
        for failure in failures:
            if failure.key not in seen_keys:
                seen_keys.add(failure.key)
                outcome.failures.append(failure)
    return outcome
