#!/usr/bin/env python3
"""Validates switch configuration files against specs/switch/switch.schema.json.

    tools/check-switch-schema.py FILE...  [--schema PATH]

Prints `file:line:column: error: message` for every problem, `file: ok` for a valid file, and exits
1 when any file has a problem or cannot be read or parsed, 2 when a dependency is missing.

It reads YAML the way editors do (YAML 1.2 core types: `off`, `yes` and `no` are text, not
booleans; only decimal digits are integers), which is what the schema is written for. The schema
checks shape, keys and value forms; `payswitch config check FILE` also reads the rule file,
dialects and every cross-reference (unique names, rule channels), which no schema can.

Needs PyYAML and jsonschema (4.x, for draft 2020-12). Without them:

    python3 -m venv .venv-schema && .venv-schema/bin/pip install pyyaml jsonschema
    .venv-schema/bin/python tools/check-switch-schema.py specs/switch/example.yaml
"""

import argparse
import json
import pathlib
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as missing:
    sys.stderr.write(f"check-switch-schema: {missing}; install pyyaml and jsonschema (see the header of this script)\n")
    sys.exit(2)

DEFAULT_SCHEMA = pathlib.Path(__file__).resolve().parent.parent / "specs" / "switch" / "switch.schema.json"


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars instead of YAML 1.1's; refuses what the switch refuses
    (aliases, a key twice)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not supported in spec files", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key '{key}' appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Drop YAML 1.1's implicit booleans (yes/no/on/off), sexagesimal and octal numbers, and timestamps.
CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                           "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CoreLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
CoreLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))
CoreLoader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node), 10))


def load(text):
    """The document and its node tree (for positions)."""
    loader = CoreLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def locate(node, path):
    """The node at a JSON path, or the deepest node found on it."""
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == step), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            break
    return node


def message(error):
    """jsonschema's message, said the way an operator needs it."""
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "not" and error.validator_value == {}:
        return description or f"'{error.path[-1]}' is not allowed here"
    if error.validator == "pattern":
        return f"{error.instance!r} is not valid: {description or 'it must match ' + error.validator_value}"
    if error.validator in ("anyOf", "oneOf") and description:
        return f"{error.instance!r} is not valid: {description}"
    return error.message


def problems(error, root):
    """(line, column, text) for an error; unknown keys each at the key itself."""
    where = "/".join(str(step) for step in error.absolute_path) or "(top)"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        mapping = locate(root, error.absolute_path)
        keys = {key.value: key for key, _ in mapping.value} if isinstance(mapping, yaml.MappingNode) else {}
        found = []
        for name in error.instance:
            if name in known:
                continue
            mark = keys[name].start_mark if name in keys else mapping.start_mark
            found.append((mark.line + 1, mark.column + 1,
                          f"{where}: unknown key '{name}'; known keys: {', '.join(sorted(known))}"))
        if found:
            return found
    node = locate(root, error.absolute_path)
    return [(node.start_mark.line + 1, node.start_mark.column + 1, f"{where}: {message(error)}")]


def check(path, validator):
    """Prints each problem in the file; returns how many there were."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as error:
        print(f"{path}:0:0: error: cannot read the file: {error.strerror}")
        return 1
    try:
        document, root = load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        print(f"{path}:{line}:{column}: error: YAML: {error.problem}")
        return 1
    if root is None:
        print(f"{path}:1:1: error: the file is empty")
        return 1
    found = sorted(problem for error in validator.iter_errors(document) for problem in problems(error, root))
    for line, column, text in found:
        print(f"{path}:{line}:{column}: error: {text}")
    return len(found)


def main():
    parser = argparse.ArgumentParser(description="Validate payswitch configuration files against the JSON Schema.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--schema", default=str(DEFAULT_SCHEMA), help="the schema (default: specs/switch/switch.schema.json)")
    arguments = parser.parse_args()
    schema = json.loads(pathlib.Path(arguments.schema).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failed = 0
    for path in arguments.files:
        problems = check(path, validator)
        if problems:
            failed += 1
        else:
            print(f"{path}: ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
