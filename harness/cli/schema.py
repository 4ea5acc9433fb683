"""``eventpath schema``: the JSON Schema of scenario files, for editors' autocompletion."""

from __future__ import annotations

import argparse
import json

from harness.scenario import Scenario

NAME = "schema"
HELP = "print the JSON Schema of *.scenario.yaml files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def scenario_schema() -> dict[str, object]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "eventpath scenario"
    return schema


def run(args: argparse.Namespace) -> int:
    print(json.dumps(scenario_schema(), indent=2))
    return 0
