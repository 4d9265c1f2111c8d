#!/usr/bin/env python3
"""Tiny jobs through a running `kiln serve`: how many a second, and where
each one's time goes. Each client submits a job with `Prefer: wait` (or polls
with --poll) and waits for it to end; the job's own timestamps split its
latency into queue wait (created -> started) and run (started -> finished).

    queuebench.py --base http://127.0.0.1:PORT --key KEY --media med_... [--jobs 200] [--clients 16] [--poll]
"""
import argparse
import concurrent.futures
import datetime
import http.client
import json
import statistics
import time
import urllib.parse


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--media", required=True)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--poll", action="store_true", help="poll GET /v1/jobs/{id} every 10 ms instead of Prefer: wait")
    parser.add_argument("--width", type=int, default=16)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.base)
    body = json.dumps({"input": args.media, "reuse": False, "operations": [{"op": "thumbnail", "width": args.width}]}).encode()

    def one(_):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        headers = {"Authorization": "Bearer " + args.key, "Content-Type": "application/json"}
        if not args.poll:
            headers["Prefer"] = "wait=60"
        started = time.time()
        connection.request("POST", "/v1/jobs", body=body, headers=headers)
        job = json.loads(connection.getresponse().read())
        while job["status"] not in ("succeeded", "failed", "canceled"):
            time.sleep(0.01)
            connection.request("GET", "/v1/jobs/" + job["id"], headers={"Authorization": "Bearer " + args.key})
            job = json.loads(connection.getresponse().read())
        ended = time.time()
        connection.close()
        return {
            "status": job["status"], "latency": ended - started,
            "queue": parse_time(job["startedAt"]) - parse_time(job["createdAt"]),
            "run": parse_time(job["finishedAt"]) - parse_time(job["startedAt"]),
        }

    began = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        results = list(pool.map(one, range(args.jobs)))
    elapsed = time.time() - began
    failed = [r for r in results if r["status"] != "succeeded"]
    ms = lambda values, p: round(percentile(values, p) * 1000, 1)
    print(json.dumps({
        "jobs": args.jobs, "clients": args.clients, "mode": "poll" if args.poll else "prefer-wait",
        "jobsPerSecond": round(args.jobs / elapsed, 1), "failed": len(failed),
        "latencyMs": {"p50": ms([r["latency"] for r in results], 50), "p99": ms([r["latency"] for r in results], 99)},
        "queueMs": {"p50": ms([r["queue"] for r in results], 50), "p99": ms([r["queue"] for r in results], 99)},
        "runMs": {"p50": ms([r["run"] for r in results], 50), "p99": ms([r["run"] for r in results], 99)},
    }))


if __name__ == "__main__":
    main()
