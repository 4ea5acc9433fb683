"""Finding and reading scenario files, with errors that name file, line, field and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from harness.errors import BadInput
from harness.scenario import STEP_KINDS, Scenario

SCENARIO_SUFFIX = ".scenario.yaml"


class ScenarioFileError(BadInput):
    """A scenario file that cannot be used; raised before any browser starts."""

    def __init__(self, path: Path, line: int | None, field: str | None, message: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")
        self.path, self.line, self.field = path, line, field


def is_scenario_file(path: Path) -> bool:
    return path.name.endswith(SCENARIO_SUFFIX)


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files named by ``paths`` (files, or folders searched recursively), sorted, once each."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{SCENARIO_SUFFIX}") if p.is_file()))
        elif path.is_file():
            if not is_scenario_file(path):
                raise BadInput(f"{path}: not a scenario file (scenario files end in {SCENARIO_SUFFIX})")
            found.append(path)
        else:
            raise BadInput(f"{path}: no such file or folder")
    unique: dict[Path, None] = dict.fromkeys(p.resolve() for p in found)
    return list(unique)


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Each mapping key and sequence item's path -> its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines.update(_line_index(value_node, (*path, key)))
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, index)))
    return lines


def _locate(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> tuple[int | None, str]:
    """Follow a pydantic error location through the YAML tree (skipping union tags that are not keys)."""
    # A step's union tag ("fill") sits in the location before the failing field; it is not a path.
    loc = tuple(
        part
        for i, part in enumerate(loc)
        if not (i >= 2 and loc[i - 2] == "steps" and part in STEP_KINDS and i + 1 < len(loc))
    )
    matched: tuple[Any, ...] = ()
    for part in loc:
        if (*matched, part) in lines:
            matched = (*matched, part)
    field = ""
    for part in matched:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    extra = [p for p in loc if p not in matched and not isinstance(p, int)]
    # A missing field is not in the file: name it after the object that lacks it.
    if extra and extra[-1] not in matched:
        field = f"{field}.{extra[-1]}" if field else str(extra[-1])
    return lines.get(matched), field


def _explain(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; `eventpath schema` lists every field)"
    message = error["msg"] or "invalid value"
    return message.removeprefix("Value error, ")


def parse_scenario(text: str, path: Path) -> Scenario:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ScenarioFileError(path, line, None, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # the reader's: a character YAML does not allow (a binary file, a stray NUL)
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        character = getattr(exc, "character", None)
        what = f"the character U+{character:04X}" if isinstance(character, int) else "a character"
        raise ScenarioFileError(
            path, line, None, f"not valid YAML: {what} is not allowed in YAML (is this a text file?)"
        ) from None
    if node is None or data is None:
        raise ScenarioFileError(path, None, None, "the file is empty: a scenario needs at least name and ad_click")
    if not isinstance(data, dict):
        raise ScenarioFileError(path, 1, None, "a scenario file must be a mapping (name: ..., ad_click: ...)")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        line, field = _locate(tuple(first["loc"]), _line_index(node))
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ScenarioFileError(path, line, field or None, _explain(first) + more) from None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(path, None, None, f"cannot be read: {exc}") from None
    return parse_scenario(text, path)


def load_all(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Every scenario named by ``paths``; the first bad file stops the suite before a browser starts."""
    loaded = [(p, load_scenario(p)) for p in discover(paths)]
    seen: dict[str, Path] = {}
    for path, scenario in loaded:
        if scenario.name in seen:
            raise ScenarioFileError(path, None, "name", f"{scenario.name!r} is also the name in {seen[scenario.name]}")
        seen[scenario.name] = path
    return loaded
