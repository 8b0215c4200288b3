"""The values of a pipeline definition, worked out as SageMaker Pipelines does while it runs.

Development tooling for the emulator's pipeline executions. A value in a definition is a
literal, or an object naming a function: `{"Get": "Parameters.Name"}`, `{"Get":
"Execution.PipelineExecutionId"}`, `{"Get": "Steps.Name.Property.Path"}`, `{"Std:Join": {"On",
"Values"}}` and `{"Std:JsonGet": {"PropertyFile" | "S3Uri", "Path"}}`; a Condition step's
conditions compare such values. `unsupported` names whatever else a definition uses, so an
execution refuses it up front instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

JOIN, JSON_GET = "Std:Join", "Std:JsonGet"
EXECUTION_VARIABLES = frozenset(
    {
        "PipelineExecutionId",
        "PipelineExecutionArn",
        "PipelineName",
        "PipelineArn",
        "StartDateTime",
        "CurrentDateTime",
        "TrainingJobName",
        "ProcessingJobName",
    }
)
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}
CONDITIONS = frozenset({*COMPARISONS, "In", "Not", "Or"})
# A property path: names joined by dots, each optionally indexed, as in Outputs['train'] or [0].
_SEGMENT = re.compile(r"([^.\[\]]+)|\[\s*(?:'([^']*)'|\"([^\"]*)\"|(\d+))\s*\]")


class EvaluationError(Exception):
    """A value that cannot be worked out at run time: a missing property, file or JSON path."""


@dataclass(frozen=True)
class Scope:
    """What a value may refer to while one step runs."""

    parameters: dict[str, Any]
    execution: Callable[[str], Any]  # Execution.<Name> -> value
    step: Callable[[str], dict[str, Any]]  # a finished step's properties
    property_file: Callable[[str, str], Any]  # (step, property file name) -> parsed JSON
    json_at: Callable[[str], Any]  # an S3 URI -> parsed JSON (JsonGet's S3Uri form)


def is_function(value: Any) -> bool:
    """Whether a definition value is a function object rather than a structure of arguments."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    name = next(iter(value))
    return name == "Get" or (isinstance(name, str) and name.startswith("Std:"))


def functions(value: Any) -> Iterator[tuple[str, Any]]:
    """Every function object inside a value, outermost first, as (name, argument)."""
    if isinstance(value, list):
        for item in value:
            yield from functions(item)
    elif isinstance(value, dict):
        if is_function(value):
            ((name, argument),) = value.items()
            yield name, argument
            yield from functions(argument)
        else:
            for item in value.values():
                yield from functions(item)


def referenced_steps(value: Any) -> set[str]:
    """The names of the steps whose results a value reads (its data dependencies)."""
    steps = set()
    for name, argument in functions(value):
        if name == "Get" and isinstance(argument, str) and argument.startswith("Steps."):
            steps.add(argument.split(".")[1])
    return steps


def unsupported(value: Any, parameters: set[str], steps: set[str]) -> list[str]:
    """What a value uses that this executor cannot work out, one phrase per problem."""
    problems = []
    for name, argument in functions(value):
        if name not in ("Get", JOIN, JSON_GET):
            problems.append(f"function {name}")
        elif name == "Get":
            problems += _unsupported_get(argument, parameters, steps)
        elif name == JSON_GET and not ({"PropertyFile", "S3Uri"} & set(argument)):
            problems.append(f"{JSON_GET} without a PropertyFile or S3Uri")
    return problems


def _unsupported_get(reference: Any, parameters: set[str], steps: set[str]) -> list[str]:
    if not isinstance(reference, str):
        return [f"Get of {reference!r}"]
    kind, _, rest = reference.partition(".")
    if kind == "Parameters" and rest not in parameters:
        return [f"Get {reference}: no parameter {rest!r}"]
    if kind == "Execution" and rest not in EXECUTION_VARIABLES:
        return [f"Get {reference}: execution variable {rest!r}"]
    if kind == "Steps" and rest.split(".")[0] not in steps:
        return [f"Get {reference}: no step {rest.split('.')[0]!r}"]
    if kind not in ("Parameters", "Execution", "Steps"):
        return [f"Get {reference}"]
    return []


def resolve(value: Any, scope: Scope) -> Any:
    """The value with every function in it worked out, as the step that uses it receives it."""
    if isinstance(value, list):
        return [resolve(item, scope) for item in value]
    if not isinstance(value, dict):
        return value
    if not is_function(value):
        return {key: resolve(item, scope) for key, item in value.items()}
    ((name, argument),) = value.items()
    if name == "Get":
        return _get(argument, scope)
    if name == JOIN:
        values = resolve(argument.get("Values", []), scope)
        return str(argument.get("On", "")).join(text(item) for item in values)
    if name == JSON_GET:
        return _json_get(argument, scope)
    raise EvaluationError(f"function {name} is not supported")


def _get(reference: str, scope: Scope) -> Any:
    kind, _, rest = reference.partition(".")
    if kind == "Parameters":
        return scope.parameters[rest]
    if kind == "Execution":
        return scope.execution(rest)
    step, _, path = rest.partition(".")
    return lookup(scope.step(step), path, f"step {step}")


def lookup(properties: Any, path: str, owner: str) -> Any:
    """The value at a property (or JsonGet) path such as `A.B['name'].C` or `a.b[0].c`."""
    value = properties
    for match in _SEGMENT.finditer(path):
        name, quoted, double_quoted, index = match.groups()
        key = name if name is not None else quoted if quoted is not None else double_quoted
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                raise EvaluationError(f"{owner} has no [{index}] in {path!r}")
            value = value[int(index)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and (named := _named(value, key)) is not None:
            value = named  # Outputs['train']: the item whose *Name is 'train'
        else:
            raise EvaluationError(f"{owner} has no {key!r} in {path!r}")
    return value


def _named(items: list[Any], name: str | None) -> Any:
    for item in items:
        if isinstance(item, dict) and any(
            key.endswith("Name") and value == name for key, value in item.items()
        ):
            return item
    return None


def _json_get(argument: dict[str, Any], scope: Scope) -> Any:
    path = argument["Path"]
    if "PropertyFile" in argument:
        reference = argument["PropertyFile"]
        target = reference.get("Get", "") if isinstance(reference, dict) else str(reference)
        # "Steps.<step>.PropertyFiles.<name>"
        parts = target.split(".")
        if len(parts) != 4 or parts[0] != "Steps" or parts[2] != "PropertyFiles":
            raise EvaluationError(f"{JSON_GET}: {target!r} is not a step's property file")
        step, name = parts[1], parts[3]
        return lookup(scope.property_file(step, name), path, f"property file {name} of {step}")
    uri = text(resolve(argument["S3Uri"], scope))
    return lookup(scope.json_at(uri), path, uri)


def evaluate(condition: dict[str, Any], scope: Scope) -> bool:
    """Whether one of a Condition step's conditions holds."""
    kind = condition.get("Type")
    if kind in COMPARISONS:
        left = resolve(condition["LeftValue"], scope)
        right = resolve(condition["RightValue"], scope)
        left, right = _comparable(left, right, kind)
        return COMPARISONS[kind](left, right)
    if kind == "In":
        query = resolve(condition["QueryValue"], scope)
        return any(query == resolve(item, scope) for item in condition["Values"])
    if kind == "Not":
        return not evaluate(condition["Condition"], scope)
    if kind == "Or":
        return any(evaluate(item, scope) for item in condition["Conditions"])
    raise EvaluationError(f"condition type {kind!r} is not supported")


def _comparable(left: Any, right: Any, kind: str) -> tuple[Any, Any]:
    numbers = (int, float)
    if all(isinstance(v, numbers) and not isinstance(v, bool) for v in (left, right)):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if kind == "Equals":
        return left, right
    raise EvaluationError(f"{kind}: cannot compare {left!r} with {right!r}")


def text(value: Any) -> str:
    """How Std:Join writes a value: booleans in lower case, like the definition's JSON."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
