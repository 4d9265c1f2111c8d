#!/usr/bin/env python3
"""Kiln on many hosts, on one machine: every host a Linux network namespace on
a private bridge (10.77.0.0/24; no route anywhere else), joined by veth pairs.

  db      10.77.0.1    PostgreSQL (the queue and the record)
  s3      10.77.0.2    an S3-compatible server (moto, signatures checked), addressed
                       virtual-hosted as AWS is (kiln.s3.cluster, from each host's /etc/hosts)
  api     10.77.0.3    kiln serve --no-workers
  w1..wN  10.77.0.11+  kiln worker, one per host
  client  10.77.0.100  this script's client half: uploads, submits, checks

`cluster.py test` (make test-cluster): 300 mixed jobs (images, video frames,
transcodes, HLS ladders, audio, and identical jobs that are reused across
hosts), one worker host killed midway (its link cut, then its processes
SIGKILLed, as a host that loses power), then checks that every job succeeded,
that no job ever had two live attempts, that each job was finished by exactly
one worker, and that every output file reads back through the API.

`cluster.py bench --kiln BIN` (make bench): jobs a second with 1, 2 and 3
worker hosts; prints JSON. Needs root (namespaces), as CI has.
"""
import argparse
import concurrent.futures
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBNET = "10.77.0"
API_PORT = 8080
KEY = "key-cluster"


def sh(*args, check=True, **kwargs):
    return subprocess.run(list(args), check=check, **kwargs)


class Network:
    """The namespaces and the bridge that joins them; `destroy` removes every trace."""

    def __init__(self, hosts):
        self.prefix = f"kc{os.getpid()}"
        self.hosts = hosts  # name -> last octet
        self.bridge_ns = f"{self.prefix}-net"

    def ns(self, host):
        return f"{self.prefix}-{host}"

    def address(self, host):
        return f"{SUBNET}.{self.hosts[host]}"

    def create(self):
        sh("ip", "netns", "add", self.bridge_ns)
        sh("ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.bridge_ns, "link", "set", "br0", "up")
        for index, host in enumerate(self.hosts):
            ns = self.ns(host)
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            port = f"p{index}"
            sh("ip", "-n", self.bridge_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "-n", self.bridge_ns, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def pids(self, host):
        out = sh("ip", "netns", "pids", self.ns(host), check=False, capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def cpu_seconds(self, host):
        """CPU time (user + system) of the host's live processes so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids(host):
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                pass
        return total

    def power_off(self, host):
        """The host vanishes: its link goes down first (peers see silence, not resets), then every process dies."""
        sh("ip", "-n", self.ns(host), "link", "set", "eth0", "down", check=False)
        for pid in self.pids(host):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def resolve(self, host, names):
        """/etc/hosts for one host: `ip netns exec` binds /etc/netns/NS/hosts over /etc/hosts."""
        directory = f"/etc/netns/{self.ns(host)}"
        os.makedirs(directory, exist_ok=True)
        with open(f"{directory}/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n" + "".join(f"{address} {' '.join(aliases)}\n" for address, aliases in names.items()))

    def destroy(self):
        for host in self.hosts:
            self.power_off(host)
        for host in list(self.hosts) + ["net"]:
            sh("ip", "netns", "del", f"{self.prefix}-{host}", check=False, stderr=subprocess.DEVNULL)
            shutil.rmtree(f"/etc/netns/{self.prefix}-{host}", ignore_errors=True)


class Cluster:
    def __init__(self, kiln, workers, lease_seconds=6, concurrency=2):
        self.kiln = kiln
        self.workers = [f"w{i + 1}" for i in range(workers)]
        hosts = {"db": 1, "s3": 2, "api": 3, "client": 100}
        hosts.update({w: 11 + i for i, w in enumerate(self.workers)})
        self.net = Network(hosts)
        self.work = tempfile.mkdtemp(prefix="kiln-cluster-")
        os.chmod(self.work, 0o755)
        self.lease_seconds = lease_seconds
        self.concurrency = concurrency
        self.processes = {}
        self.logs = {}

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            # The logs go with the work directory: what each host said, first.
            for host, path in self.logs.items():
                lines = open(path, errors="replace").read().splitlines()[-30:] if os.path.exists(path) else []
                print(f"--- {host}'s log, last lines:", *lines, sep="\n", flush=True)
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.net.create()
        pg = f"{self.work}/pg"
        sh("ip", "netns", "exec", self.net.ns("db"), "env", f"PG_LISTEN={self.net.address('db')}",
           f"PG_TRUST_NETWORK={SUBNET}.0/24", f"{ROOT}/scripts/postgres.sh", "start", f"{pg}/data", f"{pg}/sock", "--throwaway")
        sh("ip", "netns", "exec", self.net.ns("s3"), "env", "S3_BUCKET=kiln",
           f"{ROOT}/scripts/s3server.sh", "start", f"{self.work}/s3", self.net.address("s3"))
        s3 = dict(line.split("=", 1) for line in open(f"{self.work}/s3/env").read().split())
        # The bucket is addressed as AWS addresses it, virtual-hosted (kiln.s3.cluster): every
        # Kiln host resolves those names to the S3 host through its own /etc/hosts.
        port = s3["S3_ENDPOINT"].rsplit(":", 1)[1]
        s3["S3_ENDPOINT"] = f"http://s3.cluster:{port}"
        s3["S3_FORCE_PATH_STYLE"] = "false"
        for host in ["api"] + self.workers:
            self.net.resolve(host, {self.net.address("s3"): ["s3.cluster", "kiln.s3.cluster"]})
        self.env = dict(os.environ, **s3, **{
            "DATABASE_URL": f"postgres://kiln@{self.net.address('db')}:5432/kiln?sslmode=disable",
            "KILN_STORAGE": "s3://kiln/cluster",
            "KILN_API_KEYS": f"cluster:{KEY}",
            "KILN_RATE_LIMIT": "0",
            "KILN_LEASE_SECONDS": str(self.lease_seconds),
            "KILN_REAP_SECONDS": "1",
            "KILN_POLL_SECONDS": "1",
            "KILN_WORKER_CONCURRENCY": str(self.concurrency),
            "KILN_PIPELINES_DIR": f"{ROOT}/Pipelines",
            "LOG_LEVEL": "info",
        })
        self.api = f"http://{self.net.address('api')}:{API_PORT}"
        self.spawn("api", ["serve", "--no-workers"], {
            "KILN_HOST": self.net.address("api"), "KILN_PORT": str(API_PORT), "KILN_PUBLIC_URL": self.api})
        self.client("wait-ready")
        for worker in self.workers:
            self.spawn(worker, ["worker"], {})

    def spawn(self, host, arguments, extra):
        env = dict(self.env, **extra, KILN_DATA_DIR=f"{self.work}/{host}")
        self.logs[host] = f"{self.work}/{host}.log"
        with open(self.logs[host], "w") as log:
            self.processes[host] = subprocess.Popen(
                ["ip", "netns", "exec", self.net.ns(host), self.kiln] + arguments, env=env, stdout=log, stderr=subprocess.STDOUT)

    def worker_pid(self, host):
        """The kiln process of a host (`ip netns exec` execs it, so the Popen pid is kiln's)."""
        return self.processes[host].pid

    def client(self, *arguments, capture=False):
        command = ["ip", "netns", "exec", self.net.ns("client"), sys.executable, os.path.abspath(__file__), "client",
                   "--api", self.api, "--database", f"postgres://kiln@{self.net.address('db')}:5432/kiln"] + list(arguments)
        if capture:
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout
        sh(*command)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
        self.net.destroy()
        shutil.rmtree(self.work, ignore_errors=True)


# ---- the client half, run inside the client namespace ------------------------------------------

def request(api, method, path, body=None, headers=None, timeout=60):
    data = None
    headers = dict(headers or {})
    headers["Authorization"] = f"Bearer {KEY}"
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif body is not None:
        data = body
        headers.setdefault("Content-Type", "application/octet-stream")
    req = urllib.request.Request(api + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(api, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if request(api, "GET", "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the API did not become ready")


def upload(api, name):
    status, body = request(api, "POST", "/v1/uploads", open(f"{ROOT}/Fixtures/{name}", "rb").read())
    if status != 201:
        raise SystemExit(f"upload of {name}: {status} {body[:200]}")
    return json.loads(body)["id"]


def mixed_jobs(media, count):
    """`count` jobs of every kind Kiln runs, each different (so each is real work), but for
    a run of identical ones at the end that must be reused, across hosts."""
    images = [media["photo-exif6.jpg"], media["gradient.webp"], media["alpha.png"], media["astronaut.jpg"]]
    encodes = [lambda q: {"op": "encode", "format": "jpeg", "quality": q}, lambda q: {"op": "encode", "format": "webp", "quality": q},
               lambda q: {"op": "encode", "format": "png"}, lambda q: {"op": "encode", "format": "avif", "quality": q}]
    jobs = []
    for i in range(count - 20):
        kind = i % 10
        if kind < 5:
            jobs.append({"input": images[i % 4], "outputs": {
                "thumb": [{"op": "thumbnail", "width": 24 + i, "height": 24 + i, "fit": "cover"},
                          encodes[i % 4](60 + i % 30)],
                "placeholder": [{"op": "blurhash", "componentsX": 3 + i % 3, "componentsY": 3}]}})
        elif kind < 7:
            jobs.append({"input": media["clip.mp4"], "operations": [
                {"op": "frame", "time": round(0.1 + (i % 25) * 0.1, 2)}, {"op": "thumbnail", "width": 64 + i % 64},
                {"op": "encode", "format": "jpeg"}]})
        elif kind == 7:
            jobs.append({"input": media["clip.mp4"], "operations": [
                {"op": "transcode", "height": 96, "crf": 20 + i % 30, "preset": "veryfast"}]})
        elif kind == 8:
            jobs.append({"input": media["clip.mp4"], "operations": [
                {"op": "hls", "renditions": [{"height": 96 + 2 * (i % 16)}], "segmentSeconds": 1}]})
        else:
            jobs.append({"input": media["tone.mp3"], "operations": [{"op": "audio", "format": "opus", "bitRate": 24 + i % 64}]})
    identical = {"input": images[0], "outputs": {"same": [{"op": "thumbnail", "width": 77}, {"op": "encode", "format": "webp"}]}}
    jobs.append(identical)
    return jobs, [identical] * 19


def signal_all(pids, number):
    for pid in pids:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass


def psql(database, sql):
    return subprocess.run(["psql", database, "-tA", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True).stdout


def final(job):
    return job["status"] in ("succeeded", "failed", "canceled")


def run_test(args):
    api = args.api
    media = {name: upload(api, name) for name in ["photo-exif6.jpg", "gradient.webp", "alpha.png", "astronaut.jpg", "clip.mp4", "tone.mp3"]}
    jobs, identical = mixed_jobs(media, args.jobs)

    def submit(body):
        status, answer = request(api, "POST", "/v1/jobs", body)
        if status != 202:
            raise SystemExit(f"submission refused: {status} {answer[:300]}")
        return json.loads(answer)["id"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(submit, jobs))
    print(f"submitted {len(ids)} jobs", flush=True)

    killed_at = None
    kill_started = None
    held_by_victim = []
    deadline = time.time() + args.timeout
    states = {}
    while True:
        pending = [i for i in ids if i not in states or not final(states[i])]
        for job_id in pending:
            status, body = request(api, "GET", f"/v1/jobs/{job_id}")
            states[job_id] = json.loads(body)
        done = sum(1 for i in ids if final(states[i]))
        if killed_at is None and done >= len(ids) // 3:
            # Kill the victim while it runs a video job (seconds long). It is frozen first, and
            # what it holds read while it cannot change anything (after a moment for statements
            # already sent to settle): read before the kill, a job could end in between.
            held_sql = f"SELECT id FROM jobs WHERE status = 'running' AND lease_owner LIKE '%:{args.victim_pid}'"
            pids = [int(pid) for pid in subprocess.run(["ip", "netns", "pids", args.victim_ns], capture_output=True, text=True).stdout.split()]
            kill_started = time.time()
            signal_all(pids, signal.SIGSTOP)
            time.sleep(0.3)
            if psql(args.database, held_sql + " AND input_kind <> 'image'").split():
                subprocess.run(["ip", "-n", args.victim_ns, "link", "set", "eth0", "down"], check=False)
                signal_all(pids, signal.SIGKILL)
                killed_at = time.time()
                # What it held, read once it is dead (nothing of it can change the record now, and
                # its leases have not expired yet).
                held_by_victim = psql(args.database, held_sql).split()
                print(f"killed host {args.victim_ns} with {done} jobs done, holding {len(held_by_victim)}: {held_by_victim}", flush=True)
            else:
                signal_all(pids, signal.SIGCONT)
        if done == len(ids):
            break
        if time.time() > deadline:
            raise SystemExit(f"jobs not finished after {args.timeout} s: {[i for i in ids if not final(states[i])][:10]}")
        time.sleep(0.5)
    # The identical jobs, submitted once the first is done: each reused its outputs.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        reused_ids = list(pool.map(submit, identical))
    for job_id in reused_ids:
        while True:
            job = json.loads(request(api, "GET", f"/v1/jobs/{job_id}?wait=30")[1])
            if final(job):
                states[job_id] = job
                break
    ids += reused_ids

    problems = []
    if killed_at is None or not held_by_victim:
        problems.append("the victim host was never killed while it held a running job")
    for job_id in ids:
        job = states[job_id]
        if job["status"] != "succeeded":
            problems.append(f"{job_id} {job['status']}: {job.get('error')}")
    for job_id in reused_ids:
        if not states[job_id].get("reusedFrom"):
            problems.append(f"{job_id} identical to an earlier job was not reused")
    for job_id in held_by_victim:
        if states[job_id]["attempt"] < 2:
            problems.append(f"{job_id} was held by the killed host but finished in attempt {states[job_id]['attempt']}")

    # No two live attempts: in the record, each attempt's `running` is followed by its end
    # (queued again, or final) before the next attempt's `running`.
    rows = psql(args.database, "SELECT job_id, data->>'status', data->>'attempt' FROM job_events WHERE type = 'job' ORDER BY id")
    live = {}
    for line in rows.splitlines():
        job_id, status, attempt = line.split("\t")
        if status == "running":
            if live.get(job_id):
                problems.append(f"{job_id}: attempt {attempt} started while attempt {live[job_id]} was live")
            live[job_id] = attempt
        else:
            live[job_id] = None
    # Exactly one worker finished each job (a zombie attempt would log a second success).
    # A job may have no success line at all: the victim's finish committed just as its link
    # went down, so the answer (and the line the worker logs on it) never came. Allowed only
    # for a job whose success was recorded in the moments before the kill.
    succeeded_at = {}
    for line in psql(args.database, "SELECT job_id, extract(epoch FROM created_at) FROM job_events "
                                    "WHERE type = 'job' AND data->>'status' = 'succeeded'").splitlines():
        job_id, at = line.split("\t")
        succeeded_at[job_id] = float(at)
    finishes = {}
    for host, path in args.logs.items():
        for line in open(path, errors="replace"):
            if "job succeeded" in line:
                match = re.search(r"job\.id=(job_\w+)", line)
                if match:
                    finishes.setdefault(match.group(1), []).append(host)
    for job_id in ids:
        finishers = finishes.get(job_id, [])
        cut_off = killed_at is not None and kill_started - 2 <= succeeded_at.get(job_id, 0) <= killed_at
        if len(finishers) > 1 or (not finishers and not cut_off):
            problems.append(f"{job_id} finished by {finishers}")
        elif not finishers:
            print(f"{job_id} succeeded as the victim's link went down; no worker logged it", flush=True)

    # Every output file reads back through the API, whole.
    files = [(job_id, f) for job_id in ids for output in states[job_id]["outputs"].values() for f in output["files"]]

    def fetch(item):
        job_id, file = item
        status, body = request(api, "GET", file["url"].replace(api, ""))
        if status != 200 or len(body) != file["size"]:
            return f"{job_id} {file['path']}: {status}, {len(body)} bytes of {file['size']}"
        return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        problems += [p for p in pool.map(fetch, files) if p]
    hosts = {}
    for job_id in ids:
        for host in finishes.get(job_id, []):
            hosts[host] = hosts.get(host, 0) + 1
    print(json.dumps({"jobs": len(ids), "files": len(files), "finishedBy": hosts, "heldByKilledHost": len(held_by_victim),
                      "problems": len(problems)}), flush=True)
    for problem in problems[:50]:
        print("PROBLEM", problem, flush=True)
    sys.exit(1 if problems else 0)


def run_throughput(args):
    """Jobs a second: `--jobs` thumbnails of `--photo` (each run, not reused), submitted at once, timed to the last end."""
    api = args.api
    status, body = request(api, "POST", "/v1/uploads", open(args.photo, "rb").read())
    photo = json.loads(body)["id"]
    bodies = [{"input": photo, "reuse": False, "operations": [{"op": "thumbnail", "width": 400}, {"op": "encode", "format": "jpeg", "quality": 80}]}
              for _ in range(args.jobs)]
    began = time.time()

    def submit_and_wait(body):
        status, answer = request(api, "POST", "/v1/jobs", body, {"Prefer": "wait=60"}, timeout=120)
        job = json.loads(answer)
        while not final(job):
            job = json.loads(request(api, "GET", f"/v1/jobs/{job['id']}?wait=30")[1])
        return job["status"]

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(submit_and_wait, bodies))
    elapsed = time.time() - began
    print(json.dumps({"jobs": len(bodies), "seconds": round(elapsed, 2), "jobsPerSecond": round(len(bodies) / elapsed, 1),
                      "failed": sum(1 for s in statuses if s != "succeeded")}), flush=True)


def client_main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["wait-ready", "test", "throughput"])
    parser.add_argument("--api", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--photo", default=f"{ROOT}/Fixtures/astronaut.jpg")
    parser.add_argument("--victim-ns")
    parser.add_argument("--victim-pid")
    parser.add_argument("--log", action="append", default=[], help="HOST=PATH of a worker's log")
    args = parser.parse_args(argv)
    args.logs = dict(item.split("=", 1) for item in args.log)
    if args.action == "wait-ready":
        wait_ready(args.api)
    elif args.action == "test":
        run_test(args)
    else:
        run_throughput(args)


# ---- the orchestrator, in the machine's own namespace ------------------------------------------

def default_kiln():
    return os.path.join(ROOT, ".build", "debug", "kiln")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        return client_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["test", "bench"])
    parser.add_argument("--kiln", default=default_kiln())
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--photo", help="bench: the JPEG each job makes a 400 px thumbnail of")
    parser.add_argument("--json", help="bench: also write the figures here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("cluster.py makes network namespaces: run it as root (CI does)")
    if args.mode == "test":
        with Cluster(args.kiln, workers=3) as cluster:
            victim = "w2"
            cluster.client("test", "--jobs", str(args.jobs or 300), "--victim-ns", cluster.net.ns(victim),
                           "--victim-pid", str(cluster.worker_pid(victim)),
                           *[f"--log={w}={cluster.logs[w]}" for w in cluster.workers])
    else:
        results = []
        for workers in (1, 2, 3):
            # One job at a time per worker host: each host adds one core's worth of work, until the machine has none left.
            with Cluster(args.kiln, workers=workers, concurrency=1) as cluster:
                hosts = ["db", "s3", "api"] + cluster.workers
                before = {h: cluster.net.cpu_seconds(h) for h in hosts}
                figure = json.loads(cluster.client("throughput", "--jobs", str(args.jobs or 120), "--photo", args.photo or f"{ROOT}/Fixtures/astronaut.jpg",
                                                   capture=True).strip().splitlines()[-1])
                figure["workerHosts"] = workers
                # Where the machine's CPU went: PostgreSQL, the S3 server, the API host, the workers.
                figure["cpuSeconds"] = {h: round(cluster.net.cpu_seconds(h) - before[h], 2) for h in hosts}
                results.append(figure)
                print(json.dumps(figure), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
