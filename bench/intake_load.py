#!/usr/bin/env python3
"""Load generator of bench/intake.sh (stdlib only).

  intake_load.py http URL TOKEN PHASES OUTLETS SKUS PREFIX
      PHASES: "rate:seconds:per_request,..." — requests of per_request
      sale movements at `rate` movements/s for `seconds`; prints one JSON
      line {"sent", "applied", "seconds", "lat_p50_ms", "lat_p95_ms",
      "errors"}.
  intake_load.py httpmax URL TOKEN TOTAL BATCH WORKERS OUTLETS SKUS PREFIX
      TOTAL movements in batches of BATCH from WORKERS threads, as fast as
      the API answers; prints {"movements", "seconds", "rate", ...}.
  intake_load.py kafka PHASES OUTLETS SKUS PREFIX
      writes till receipts (one sale line each) as "KEY\\tVALUE" lines to
      stdout, paced by PHASES ("rate:seconds"), for kcat -K'\\t'.
"""
import json
import random
import sys
import threading
import time
import urllib.request

random.seed(7)


def outlet(i):
    return "R%03d" % (1 + i % OUTLETS)


def sale(key):
    return {"key": key, "kind": "sale", "location": outlet(random.randrange(OUTLETS)),
            "sku": random.choice(SKUS), "qty": 1}


def post(url, token, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            out = json.load(r)
            return time.monotonic() - t0, out.get("applied", 0), None
    except Exception as e:  # noqa: BLE001 (counted and reported)
        return time.monotonic() - t0, 0, str(e)


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] * 1000 if v else 0.0


def http(url, token, phases):
    lat, errs, sent, applied = [], [], 0, 0
    lock = threading.Lock()
    threads = []
    t_start = time.monotonic()
    n = 0

    def one(body):
        nonlocal applied
        d, a, e = post(url, token, body)
        with lock:
            lat.append(d)
            applied += a
            if e:
                errs.append(e)

    for ph in phases.split(","):
        rate, secs, per = (float(x) for x in ph.split(":"))
        reqs = rate / per
        t0 = time.monotonic()
        k = 0
        while time.monotonic() - t0 < secs:
            due = t0 + k / reqs
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            body = {"movements": [sale("%s-%d" % (PREFIX, n + j)) for j in range(int(per))]}
            n += int(per)
            sent += int(per)
            th = threading.Thread(target=one, args=(body,))
            th.start()
            threads.append(th)
            k += 1
    for th in threads:
        th.join()
    print(json.dumps({"sent": sent, "applied": applied,
                      "seconds": round(time.monotonic() - t_start, 2),
                      "lat_p50_ms": round(pct(lat, 0.5), 1),
                      "lat_p95_ms": round(pct(lat, 0.95), 1),
                      "errors": len(errs), "first_error": errs[0] if errs else None}))


def httpmax(url, token, total, batch, workers):
    lat, applied, errs = [], [0], []
    lock = threading.Lock()
    todo = list(range(0, total, batch))

    def work():
        while True:
            with lock:
                if not todo:
                    return
                start = todo.pop()
            body = {"movements": [sale("%s-%d" % (PREFIX, start + j))
                                  for j in range(min(batch, total - start))]}
            d, a, e = post(url, token, body)
            with lock:
                lat.append(d)
                applied[0] += a
                if e:
                    errs.append(e)

    t0 = time.monotonic()
    ths = [threading.Thread(target=work) for _ in range(workers)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    secs = time.monotonic() - t0
    print(json.dumps({"movements": applied[0], "seconds": round(secs, 2),
                      "rate": round(applied[0] / secs, 1),
                      "batch_p50_ms": round(pct(lat, 0.5), 1),
                      "batch_p95_ms": round(pct(lat, 0.95), 1),
                      "errors": len(errs), "first_error": errs[0] if errs else None}))


def kafka(phases):
    n = 0
    out = sys.stdout
    for ph in phases.split(","):
        rate, secs = (float(x) for x in ph.split(":")[:2])
        t0 = time.monotonic()
        k = 0
        while time.monotonic() - t0 < secs:
            due = t0 + k / rate
            now = time.monotonic()
            if due > now:
                out.flush()
                time.sleep(due - now)
            o = outlet(random.randrange(OUTLETS))
            rec = {"receipt": "%s-%d" % (PREFIX, n), "outlet": o,
                   "lines": [{"sku": random.choice(SKUS), "qty": 1}]}
            out.write("%s\t%s\n" % (o, json.dumps(rec, separators=(",", ":"))))
            n += 1
            k += 1
    out.flush()


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "http":
        OUTLETS, SKUS, PREFIX = int(a[5]), a[6].split(","), a[7]
        http(a[2], a[3], a[4])
    elif a[1] == "httpmax":
        OUTLETS, SKUS, PREFIX = int(a[7]), a[8].split(","), a[9]
        httpmax(a[2], a[3], int(a[4]), int(a[5]), int(a[6]))
    else:
        OUTLETS, SKUS, PREFIX = int(a[3]), a[4].split(","), a[5]
        kafka(a[2])
