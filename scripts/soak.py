#!/usr/bin/env python3
"""Soak a running `kiln serve`: drive each database-backed route hard and fail
when the server's resident memory keeps what the traffic leaves behind.

Each phase warms up first (pools fill, allocator arenas grow), then records the
server's RSS, runs its load, and records RSS again. A phase fails when RSS grew
by more than --budget-mb. wrk drives the reads (they need tens of thousands of
requests a second); submissions and uploads come from a few threads here.

    soak.py --base http://127.0.0.1:PORT --key KEY --pid PID --fixtures DIR [--reads N] [--jobs N]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no process {pid}")


class Client:
    """One keep-alive connection; one per thread."""

    def __init__(self, base, key):
        url = urllib.parse.urlparse(base)
        self.host, self.port, self.key = url.hostname, url.port, key
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        all_headers = {"Authorization": f"Bearer {self.key}"}
        all_headers.update(headers or {})
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=all_headers)
                response = self.connection.getresponse()
                data = response.read()
                return response.status, data
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise

    def json(self, method, path, body=None, expect=(200,), headers=None):
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if payload else {}
        all_headers.update(headers or {})
        status, data = self.request(method, path, payload, all_headers)
        if status not in expect:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None


WRK_SCRIPT = """
local paths = {}
local headers = {}
local n = 0
init = function(args)
  headers["Authorization"] = "Bearer " .. args[1]
  for i = 2, #args do
    local path, range = args[i]:match("^([^|]+)|?(.*)$")
    table.insert(paths, {path, range})
  end
end
request = function()
  n = n + 1
  local entry = paths[(n % #paths) + 1]
  local h = {["Authorization"] = headers["Authorization"]}
  if entry[2] ~= "" then h["Range"] = entry[2] end
  return wrk.format("GET", entry[1], h)
end
"""


def wrk(base, key, paths, total, connections=32, chunk_seconds=10, pid=None):
    """Runs wrk in chunks until `total` requests were made; returns (count, non2xx, rate)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    done, bad, seconds = 0, 0, 0.0
    try:
        while done < total:
            out = subprocess.run(
                ["wrk", "-t2", f"-c{connections}", f"-d{chunk_seconds}s", "-s", script.name, base, "--", key, *paths],
                check=True, capture_output=True, text=True).stdout
            match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
            done += int(match.group(1))
            seconds += float(match.group(2)) * (60 if match.group(3) == "m" else 1)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            bad += int(non2xx.group(1)) if non2xx else 0
            errors = re.search(r"Socket errors: .*", out)
            if errors:
                print(f"    wrk: {errors.group(0)}")
            if pid:
                print(f"    {done} requests, RSS {rss_mb(pid):.1f} MB", flush=True)
    finally:
        os.unlink(script.name)
    return done, bad, done / seconds if seconds else 0


class Soak:
    def __init__(self, options):
        self.options = options
        self.client = Client(options.base, options.key)
        self.failures = []
        self.rows = []

    def phase(self, name, warmup, load):
        """warmup() then load(); reports RSS around load()."""
        warmup()
        before = rss_mb(self.options.pid)
        started = time.time()
        detail = load()
        after = rss_mb(self.options.pid)
        grew = after - before
        ok = grew <= self.options.budget_mb
        self.rows.append((name, before, after, grew, time.time() - started, detail, ok))
        print(f"  {name}: RSS {before:.1f} -> {after:.1f} MB ({grew:+.1f} MB) in {time.time() - started:.0f} s; {detail}"
              f"{'' if ok else '  <-- FAIL'}", flush=True)
        if not ok:
            self.failures.append(name)

    def upload(self, client, path):
        with open(path, "rb") as f:
            status, data = client.request("POST", "/v1/uploads", f.read(), {"Content-Type": "application/octet-stream"})
        if status != 201:
            raise RuntimeError(f"upload: {status} {data[:200]!r}")
        return json.loads(data)

    def wait_finished(self, job_ids, timeout):
        """Polls the job list until every id in job_ids has ended."""
        deadline = time.time() + timeout
        pending = set(job_ids)
        while pending and time.time() < deadline:
            for job_id in list(pending)[:200]:
                job = self.client.json("GET", f"/v1/jobs/{job_id}")
                if job["status"] in ("succeeded", "failed", "canceled"):
                    if job["status"] != "succeeded":
                        raise RuntimeError(f"{job_id} ended {job['status']}: {job.get('error')}")
                    pending.discard(job_id)
            if pending:
                time.sleep(0.5)
        if pending:
            raise RuntimeError(f"{len(pending)} jobs still unfinished after {timeout} s")

    def submit_many(self, count, body, threads=8):
        local = threading.local()

        def submit(_):
            if not hasattr(local, "client"):
                local.client = Client(self.options.base, self.options.key)
            return local.client.json("POST", "/v1/jobs", body, expect=(202,))["id"]

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            return list(pool.map(submit, range(count)))

    def run(self):
        o = self.options
        photo = os.path.join(o.fixtures, "photo-exif6.jpg")
        media = self.upload(self.client, photo)
        job_body = {"input": media["id"], "reuse": False, "outputs": {"thumb": [{"op": "thumbnail", "width": 64}, {"op": "encode", "format": "jpeg"}]}}
        job = self.client.json("POST", "/v1/jobs", job_body, expect=(202,))
        self.wait_finished([job["id"]], 60)
        job = self.client.json("GET", f"/v1/jobs/{job['id']}")
        file_path = job["outputs"]["thumb"]["files"][0]["path"]
        print(f"soak: server pid {o.pid}, job {job['id']}, media {media['id']}", flush=True)

        reads = [f"/v1/jobs/{job['id']}", f"/v1/media/{media['id']}"]
        warm = lambda paths: (lambda: wrk(o.base, o.key, paths, o.warmup, chunk_seconds=3))

        def reads_load(paths, total):
            def load():
                count, bad, rate = wrk(o.base, o.key, paths, total, pid=o.pid)
                if bad:
                    self.failures.append(f"{bad} non-2xx responses")
                return f"{count} requests, {rate:.0f}/s, {bad} non-2xx"
            return load

        self.phase("job + media reads", warm(reads), reads_load(reads, o.reads))
        if o.only_reads:
            return
        listing = ["/v1/jobs?limit=20", f"/v1/jobs?status=succeeded&limit=5"]
        self.phase("job listing", warm(listing), reads_load(listing, o.reads // 5))
        ranged = [f"/v1/jobs/{job['id']}/files/{file_path}|bytes=0-99", f"/v1/media/{media['id']}/content|bytes=100-"]
        self.phase("files with Range", warm(ranged), reads_load(ranged, o.reads // 5))

        def uploads(count):
            def load():
                local = threading.local()

                def one(_):
                    if not hasattr(local, "client"):
                        local.client = Client(o.base, o.key)
                    self.upload(local.client, photo)

                with concurrent.futures.ThreadPoolExecutor(8) as pool:
                    list(pool.map(one, range(count)))
                return f"{count} uploads"
            return load

        self.phase("uploads", uploads(max(200, o.jobs // 20)), uploads(o.jobs))

        def jobs(count):
            def load():
                started = time.time()
                ids = self.submit_many(count, job_body)
                submitted = time.time() - started
                self.wait_finished(ids, timeout=max(600, count))
                return f"{count} jobs submitted in {submitted:.0f} s, all succeeded"
            return load

        self.phase("job submissions + worker", jobs(max(200, o.jobs // 20)), jobs(o.jobs))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--budget-mb", type=float, default=30)
    parser.add_argument("--only-reads", action="store_true")
    options = parser.parse_args()
    soak = Soak(options)
    try:
        soak.run()
    except Exception as error:  # report what ran, then fail
        soak.failures.append(f"error: {error}")
        print(f"soak: {error}", file=sys.stderr)
    print("\n| phase | RSS before (MB) | RSS after (MB) | growth (MB) | seconds | load |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, before, after, grew, seconds, detail, ok in soak.rows:
        print(f"| {name} | {before:.1f} | {after:.1f} | {grew:+.1f}{'' if ok else ' FAIL'} | {seconds:.0f} | {detail} |")
    if soak.failures:
        print(f"\nsoak FAILED: {', '.join(soak.failures)} (budget {options.budget_mb:.0f} MB per phase)")
        sys.exit(1)
    print(f"\nsoak passed: every phase within {options.budget_mb:.0f} MB")


if __name__ == "__main__":
    main()
