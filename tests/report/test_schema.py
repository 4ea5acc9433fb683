"""SCHEMA.md documents every field results.json can hold."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

import harness.report
from harness.results import SuiteResult

SCHEMA = Path(harness.report.__file__).parent / "SCHEMA.md"


def models_under(model: type[BaseModel], found: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    found[model.__name__] = model
    for info in model.model_fields.values():
        pending = [info.annotation]
        while pending:
            kind = pending.pop()
            pending.extend(typing.get_args(kind))
            if isinstance(kind, type) and not issubclass(kind, BaseModel):
                pending.extend(getattr(kind, "__orig_bases__", ()))  # RunList is a Sequence[ScenarioRun]
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind.__name__ not in found:
                models_under(kind, found)
    return found


def test_schema_names_every_model_and_field() -> None:
    text = SCHEMA.read_text(encoding="utf-8")
    models = models_under(SuiteResult, {})
    assert len(models) >= 14  # the walk really reached the nested models
    missing = [
        f"{name}.{field}"
        for name, model in models.items()
        for field in model.model_fields
        if f"`{field}`" not in text
    ]
    assert missing == []
    assert [name for name in models if f"`{name}`" not in text] == []
    assert "`schema_version` 1" in text
