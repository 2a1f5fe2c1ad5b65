"""openapi.yaml as data: JSON pointers into it, its schemas as validators, and why a real response does not conform;
for the tests that check the document and the answers against it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
SPEC_TEXT = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
SPEC = yaml.safe_load(SPEC_TEXT)
BASE = "urn:agno-session:openapi"
REGISTRY = Registry().with_resource(BASE, Resource(contents=SPEC, specification=DRAFT202012))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str) -> str:
    """The JSON pointer naming these keys, escaped."""
    return "".join("/" + _escape(str(t)) for t in tokens)


def at(ptr: str) -> Any:
    """The document node a JSON pointer names."""
    node: Any = SPEC
    for token in ptr.split("/")[1:]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def deref(obj: dict, ptr: str) -> tuple[dict, str]:
    """Follow OpenAPI `$ref`s (responses, parameters) to the object and its pointer."""
    while "$ref" in obj:
        ptr = obj["$ref"][1:]
        obj = at(ptr)
    return obj, ptr


def validator(schema_ptr: str) -> Draft202012Validator:
    """A 2020-12 validator for the schema at `schema_ptr`, resolving its `#/components/...` refs in the document."""
    return Draft202012Validator({"$ref": BASE + "#" + schema_ptr}, registry=REGISTRY,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(schema_ptr: str, value: Any) -> list[str]:
    """Why `value` fails the schema at `schema_ptr` (empty when it passes)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator(schema_ptr).iter_errors(value)]


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join(
        (".+" if p == "{storage_key}" else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts
    )
    return re.compile(f"^{body}$")


PATH_PATTERNS = [(template, _template_regex(template)) for template in SPEC["paths"]]


def path_template(path: str) -> str:
    """The one documented path template a concrete path matches (a concrete path wins over a templated one, as
    OpenAPI says: `/sessions/-/archive` over `/sessions/{session_id}/archive`)."""
    matches = [t for t, rx in PATH_PATTERNS if rx.match(path)]
    if path in matches:
        return path
    assert len(matches) == 1, f"{path} matches {matches}"
    return matches[0]


def operations() -> set[tuple[str, str]]:
    """Every documented (METHOD, path template)."""
    return {(m.upper(), t) for t, item in SPEC["paths"].items() for m in item if m in METHODS}


def served_operations() -> set[tuple[str, str]]:
    """The documented operations the service's app serves: a path item with `servers` of its own belongs to another
    process of the project (`serve-events`)."""
    return {(m.upper(), t) for t, item in SPEC["paths"].items() if "servers" not in item for m in item if m in METHODS}


def media_types(node: Any, ptr: str = "") -> list[tuple[str, dict]]:
    """Every Media Type Object in the document (under a `content` map), with its pointer; a schema's property
    named `content` (under `properties`) is a property, not a map."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "content" and isinstance(value, dict) and not ptr.endswith("/properties"):
                found += [(f"{ptr}/content/{_escape(mt)}", obj) for mt, obj in value.items()]
            else:
                found += media_types(value, ptr + "/" + _escape(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += media_types(value, f"{ptr}/{i}")
    return found


def conformance_problems(method: str, path: str, response: Any) -> list[str]:
    """Why a real response does not match the document (empty when it does)."""
    status = str(response.status_code)
    template = path_template(path.split("?")[0])
    operation = SPEC["paths"][template].get(method.lower())
    if operation is None:
        if status != "405":
            return [f"undocumented method answered {status}"]
        documented, ptr = deref({"$ref": "#/components/responses/MethodNotAllowed"}, "")
    else:
        responses = operation["responses"]
        if status not in responses:
            return [f"status {status} not documented (documented: {sorted(responses)})"]
        documented, ptr = deref(responses[status], pointer("paths", template, method.lower(), "responses", status))
    problems = [f"header {name} missing" for name, spec in documented.get("headers", {}).items()
                if name not in response.headers and deref(spec, ptr)[0].get("required", True)]
    content = documented.get("content")
    if method == "HEAD":
        return problems + ([] if response.data == b"" else ["HEAD answer has a body"])
    if not content:
        return problems + ([] if response.data == b"" else [f"undocumented body {response.data[:200]!r}"])
    if response.mimetype not in content:
        return problems + [f"content type {response.mimetype} not in {sorted(content)}"]
    if response.mimetype in ("text/plain", "application/x-ndjson"):  # /metrics, checked in test_metrics; bundles
        return problems + schema_errors(f"{ptr}/content/{_escape(response.mimetype)}/schema",
                                        response.get_data(as_text=True))
    try:
        body = json.loads(response.data)
    except ValueError:
        return problems + [f"body is not JSON: {response.data[:200]!r}"]
    schema_ptr = f"{ptr}/content/{_escape(response.mimetype)}/schema"
    return problems + schema_errors(schema_ptr, body)


def answer_problems(client: Any, requests: list[tuple[str, str, dict, int]], db_id: str) -> list[str]:
    """Send each (method, url, kwargs, expected status) through a Flask test client ({db} in the url is `db_id`):
    every unexpected status and every way an answer departs from the document."""
    failures = []
    for method, url, kwargs, expected in requests:
        url = url.replace("{db}", db_id)
        response = client.open(url, method=method, **kwargs)
        label = f"{method} {url} → {response.status_code}"
        if response.status_code != expected:
            failures.append(f"{label}: expected {expected}, body {response.data[:300]!r}")
            continue
        failures += [f"{label}: {problem}" for problem in conformance_problems(method, url, response)]
    return failures
