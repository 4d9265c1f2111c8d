#!/usr/bin/env python3
"""PostgreSQL's own floor for one job of the queue, with no Kiln in the way.

pgbench runs, on one connection, what every job costs the database at least:
a queued row inserted, then claimed and finished by Kiln's own prepared
statements (read from Sources/JobStore/PreparedStatements.swift), each its own
transaction as in Kiln, triggers and events included. The insert is a plain
INSERT: the API's insert also locks the input and writes an audit row, so the
figure is a floor. It is measured three ways: as migrated, without the
job-events trigger, and without any trigger, to show what the events cost.
The CPU is every PostgreSQL process's (/proc), over the jobs pgbench made.

  scripts/queuefloor.py --kiln .build/release/kiln --database-url URL --postgres-data DIR
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from servicebench import tree_cpu_seconds  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def statement_sql(name):
    source = open(os.path.join(ROOT, "Sources/JobStore/PreparedStatements.swift")).read()
    start = source.index(f'static let name = "{name}"')
    body = source.index('static let sql = """', start) + len('static let sql = """')
    sql = source[body:source.index('"""', body)]
    lines = [line.split("--")[0] for line in sql.splitlines()]
    return " ".join(" ".join(lines).split())


def pgbench_script():
    insert = ("INSERT INTO jobs (id, tenant, status, input_media_id, input_kind, input_key, input_content_type, plan, outputs, reuse) "
              "VALUES (md5(random()::text), 'tenant', 'queued', 'media_floor', 'image', 'k', 'image/jpeg', "
              "'{\"outputs\": {\"default\": [{\"op\": \"metadata\"}]}}', "
              "'{\"default\": {\"status\": \"queued\", \"progress\": 0, \"files\": [], \"results\": {}}}', false);")
    claim = statement_sql("kiln_claim")
    for parameter, value in (("$1", "'floor-worker'"), ("$2", "30"), ("$3", "'{image,video,audio}'::text[]")):
        claim = claim.replace(parameter, value)
    finish = statement_sql("kiln_finish")
    state = '{"status": "succeeded", "progress": 1, "files": [], "results": {"width": 320}}'
    # The highest-numbered parameter first, so $1 does not rewrite part of a later one.
    for parameter, value in (("$6", ":lease_token"), ("$5", ":id"), ("$4", "NULL"), ("$3", "'succeeded'"),
                             ("$2", f"'{state}'"), ("$1", "'default'")):
        finish = finish.replace(parameter, value)
    if re.search(r"\$\d", claim + finish):
        raise SystemExit("a statement's parameters changed: update scripts/queuefloor.py")
    return f"{insert}\n{claim};\n\\gset\n{finish};\n"


def measure(kiln, database_url, postgres_data, seconds=10):
    """[(variant, ms of PostgreSQL CPU per job, jobs)], one per variant."""
    schema = f"queue_floor_{os.getpid()}"
    env = dict(os.environ, DATABASE_URL=database_url, KILN_DATABASE_SCHEMA=schema)
    subprocess.run([kiln, "migrate"], env=env, check=True, capture_output=True)
    psql = ["psql", database_url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run(psql + [f"INSERT INTO {schema}.media (id, tenant, kind, content_type, size, sha256, storage_key) "
                           "VALUES ('media_floor', 'tenant', 'image', 'image/jpeg', 1, 'x', 'k')"], check=True)
    script = os.path.join("/tmp", f"{schema}.sql")
    with open(script, "w") as f:
        f.write(pgbench_script())
    with open(os.path.join(postgres_data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    variants = (("as migrated (triggers: job events, webhooks)", []),
                ("without the job-events trigger", ["ALTER TABLE jobs DISABLE TRIGGER jobs_record_events"]),
                ("without any trigger", ["ALTER TABLE jobs DISABLE TRIGGER USER"]))
    results = []
    try:
        for what, changes in variants:
            for change in changes:
                subprocess.run(psql + [f"SET search_path = {schema}; {change}"], check=True)
            before = tree_cpu_seconds(postmaster)
            done = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "1", "-T", str(seconds), "-f", script, database_url],
                                  env=dict(os.environ, PGOPTIONS=f"-c search_path={schema}"), capture_output=True, text=True)
            used = tree_cpu_seconds(postmaster) - before
            jobs = int(re.search(r"actually processed: (\d+)", done.stdout).group(1)) if done.returncode == 0 else 0
            if not jobs:
                raise SystemExit(f"pgbench failed: {done.stdout}{done.stderr}")
            results.append((what, used / jobs * 1000, jobs))
    finally:
        subprocess.run(psql + [f"DROP SCHEMA {schema} CASCADE"], capture_output=True)
        os.unlink(script)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--postgres-data", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    print("queue floor: PostgreSQL CPU per job for insert + claim + finish alone (pgbench, 1 connection, no Kiln)")
    for what, ms, jobs in measure(args.kiln, args.database_url, args.postgres_data, args.seconds):
        print(f"  {what}: {ms:.3f} ms over {jobs} jobs")


if __name__ == "__main__":
    main()
