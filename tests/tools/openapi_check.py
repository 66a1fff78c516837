#!/usr/bin/env python3
"""Check recorded HTTP exchanges against an OpenAPI 3.1 description.

usage: openapi_check.py SPEC.yaml EXCHANGES.jsonl

Each line of EXCHANGES is {"method", "path", "status", "request" (JSON or
null), "response" (JSON)}.  For every exchange: the path and method must be
described, the status must be one of the operation's responses, a request
body (when the exchange is meant to be valid: status 200) must match the
request schema, and the response must match the schema of its status.
The schemas are JSON Schema 2020-12 (python3-jsonschema, Debian); $refs
into components are resolved against the spec itself.  When
openapi_spec_validator is importable the spec itself is validated too.
Exit 0 when everything matches, 1 with one line per mismatch."""
import json
import re
import sys

import jsonschema
import yaml


def operation(spec, method, path):
    path = path.split("?", 1)[0]
    for tmpl, item in spec["paths"].items():
        rx = "^" + re.sub(r"\{[^/}]+\}", "[^/]+", tmpl) + "$"
        if re.match(rx, path) and method.lower() in item:
            return tmpl, item[method.lower()]
    return None, None


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        node = spec
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
    return node


def validator(spec, schema):
    # The schema with the whole spec as its document, so "#/components/..."
    # resolves.
    doc = dict(spec)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["$ref"] = "#/__check"
    doc["__check"] = schema
    return jsonschema.Draft202012Validator(doc)


def check(spec, ex):
    errs = []
    where = "%s %s -> %s" % (ex["method"], ex["path"], ex["status"])
    tmpl, op = operation(spec, ex["method"], ex["path"])
    if not op:
        # An undescribed path may only be answered 404 (with an Error).
        if ex["status"] == 404:
            return [
                "%s: response: %s" % (where, e.message)
                for e in validator(spec, {"$ref": "#/components/schemas/Error"}).iter_errors(ex["response"])
            ]
        return ["%s: not described" % where]
    resp = op.get("responses", {}).get(str(ex["status"]))
    if resp is None:
        return ["%s: status not described for %s" % (where, tmpl)]
    resp = resolve(spec, resp)
    schema = resp.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        for e in validator(spec, schema).iter_errors(ex["response"]):
            errs.append("%s: response: %s at %s" % (where, e.message, list(e.absolute_path)))
    body = op.get("requestBody")
    if body and ex["status"] == 200 and ex.get("request") is not None:
        rs = resolve(spec, body)["content"]["application/json"]["schema"]
        for e in validator(spec, rs).iter_errors(ex["request"]):
            errs.append("%s: request: %s at %s" % (where, e.message, list(e.absolute_path)))
    return errs


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    try:
        from openapi_spec_validator import validate

        validate(spec)
    except ImportError:
        pass
    n = 0
    errs = []
    for line in open(sys.argv[2]):
        if line.strip():
            n += 1
            errs += check(spec, json.loads(line))
    for e in errs:
        print(e)
    print("openapi_check: %d exchanges, %d mismatches" % (n, len(errs)))
    return 1 if errs or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
