#!/usr/bin/env python3
"""Validate omnisync events against the JSON Schemas in proto/.

Reads one event (JSON) per line on stdin: the envelope is checked with
proto/envelope.schema.json, its data with proto/<type>.schema.json, and the
key rules of docs/events.md.  Prints one line per failure
("line N: id ...: reason") and a summary on stderr; exits 1 when anything
failed (or nothing was read with --min), 0 otherwise.

usage: validate-events.py [--proto DIR] [--min N] < events.jsonl
"""
import argparse
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))


def load(proto, name):
    with open(os.path.join(proto, name), encoding="utf-8") as fp:
        schema = json.load(fp)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def where(err):
    path = "".join(
        "[%d]" % p if isinstance(p, int) else ".%s" % p for p in err.absolute_path
    )
    return path or "(root)"


def key_rules(ev):
    t, data, key, store = ev["type"], ev["data"], ev["key"], ev["store"]
    if t == "catalog.product" and key != str(data["product_id"]):
        return "key %r is not data.product_id %r" % (key, data["product_id"])
    if t == "stock.available":
        if store is None:
            return "store is null in a stock.available event"
        if key != "%s:%d" % (store, data["variant_id"]):
            return "key %r is not store:variant_id" % key
    if t == "orders.raw":
        if store is None:
            return "store is null in an orders.raw event"
        if key != "%s:%s" % (store, data["order"]["id"]):
            return "key %r is not store:order id" % key
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proto", default=os.path.join(HERE, "..", "..", "proto"))
    ap.add_argument("--min", type=int, default=0,
                    help="fail when fewer events than this were read")
    args = ap.parse_args()

    envelope = load(args.proto, "envelope.schema.json")
    per_type = {}
    n = bad = 0
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        n += 1
        try:
            ev = json.loads(line)
        except ValueError as e:
            print("line %d: invalid JSON: %s" % (lineno, e))
            bad += 1
            continue
        errs = sorted(envelope.iter_errors(ev), key=lambda e: list(e.path))
        if errs:
            for e in errs:
                print("line %d: envelope %s: %s" % (lineno, where(e), e.message))
            bad += 1
            continue
        t = ev["type"]
        if t not in per_type:
            try:
                per_type[t] = load(args.proto, "%s.schema.json" % t)
            except OSError:
                per_type[t] = None
        if per_type[t] is None:
            print("line %d: id %s: no schema proto/%s.schema.json" % (lineno, ev["id"], t))
            bad += 1
            continue
        errs = sorted(per_type[t].iter_errors(ev["data"]), key=lambda e: list(e.path))
        if errs:
            for e in errs:
                w = where(e)
                print("line %d: id %s: data%s: %s"
                      % (lineno, ev["id"], "" if w == "(root)" else w, e.message))
            bad += 1
            continue
        reason = key_rules(ev)
        if reason:
            print("line %d: id %s: %s" % (lineno, ev["id"], reason))
            bad += 1
    print("validate-events: %d events, %d invalid" % (n, bad), file=sys.stderr)
    if n < args.min:
        print("validate-events: expected at least %d events" % args.min, file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
