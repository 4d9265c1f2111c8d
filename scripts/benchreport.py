#!/usr/bin/env python3
"""Writes BENCHMARKS.md from one `make bench` run: the machine's facts, one table
of every figure and ratio (each beside its target where the issues set one),
then each part's own output. Parts that did not run are named as such."""
import argparse
import datetime
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def first_line(*command):
    try:
        out = subprocess.run(list(command), capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not found"


def machine():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    os_name = next((line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release") if line.startswith("PRETTY_NAME")), "?")
    pgbin = sorted(d for d in os.listdir("/usr/lib/postgresql") if d[0].isdigit()) if os.path.isdir("/usr/lib/postgresql") else []
    postgres = first_line(f"/usr/lib/postgresql/{pgbin[-1]}/bin/postgres", "--version") if pgbin else "not found"
    return [
        ("CPU", f"{model}, {os.cpu_count()} cores"),
        ("memory", f"{memory / 1024 / 1024:.0f} GiB"),
        ("system", f"{os_name}, Linux {os.uname().release}"),
        ("Swift", first_line("swift", "--version")),
        ("libvips", first_line("vips", "--version")),
        ("FFmpeg", first_line("ffmpeg", "-version")),
        ("PostgreSQL", postgres),
        ("thumbor", first_line(os.path.join(ROOT, ".kiln/bench/thumbor-venv/bin/thumbor"), "--version")),
        ("Kiln", first_line("git", "-C", ROOT, "log", "-1", "--format=%h %s")[:100]),
    ]


def inprocess_rows(text):
    """`| operation | Kiln | CLI | CLI / Kiln |` rows of kiln-bench's tables."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[3].endswith("x") and cells[0] != "operation":
            rows.append(("in-process", f"{cells[0]}: Kiln {cells[1]}, CLI {cells[2]}", cells[3] + " (CLI / Kiln)", "", None))
    return rows


def soak_rows(text):
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("phase", "---") and not cells[0].startswith("-"):
            failed = "FAIL" in cells[3]
            rows.append(("soak", f"{cells[0]} ({cells[5]}): RSS {cells[1]} -> {cells[2]} MB", cells[3].replace(" FAIL", "") + " MB",
                         "<= +30 MB", not failed))
    return rows


def scaleout_rows(results):
    rows = []
    base = results[0]["jobsPerSecond"] if results else None
    for r in results:
        ratio = f"; {r['jobsPerSecond'] / base:.2f}x one host" if base else ""
        cpu = r.get("cpuSeconds", {})
        workers = sum(v for k, v in cpu.items() if k.startswith("w"))
        split = f"; CPU s: workers {workers:.1f}, S3 server {cpu.get('s3', 0):.1f}, API {cpu.get('api', 0):.1f}, PostgreSQL {cpu.get('db', 0):.1f}" if cpu else ""
        rows.append(("scale-out", f"{r['workerHosts']} worker host(s), one job at a time each: {r['jobs']} 4K → 400 px thumbnails in {r['seconds']} s"
                     f" ({r['failed']} failed{ratio}{split})", f"{r['jobsPerSecond']} jobs/s", "", None))
    return rows


def cell(text):
    return str(text).replace("|", "\\|")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--inprocess")
    parser.add_argument("--service")
    parser.add_argument("--soak")
    parser.add_argument("--scaleout")
    args = parser.parse_args()

    def read(path):
        return open(path).read() if path and os.path.exists(path) else None

    inprocess, soak = read(args.inprocess), read(args.soak)
    service = json.loads(read(args.service)) if read(args.service) else None
    scaleout = json.loads(read(args.scaleout)) if read(args.scaleout) else None

    rows = []
    if inprocess:
        rows += inprocess_rows(inprocess)
    if service:
        rows += [(r["section"], r["what"], r["figure"], r["target"], r["met"]) for r in service]
    if scaleout:
        rows += scaleout_rows(scaleout)
    if soak:
        rows += soak_rows(soak)

    out = ["# Kiln benchmarks", "",
           f"Written by `make bench` on {datetime.date.today().isoformat()}; every figure below comes from that one run on this machine.",
           "Ratios compare with a peer measured in the same run on the same input: the libvips and FFmpeg command-line tools",
           "(in-process), thumbor 7.8 (thumbnails over HTTP), the CPU limit (cores ÷ the CPU time of one in-process thumbnail).", "",
           "| machine | |", "| --- | --- |"]
    out += [f"| {name} | {cell(value)} |" for name, value in machine()]
    out += ["", "## Every figure", "",
            "| part | what | figure | target | met |", "| --- | --- | --- | --- | --- |"]
    for part, what, figure, target, met in rows:
        mark = "" if met is None else ("yes" if met else "**no**")
        out.append(f"| {part} | {cell(what)} | {cell(figure)} | {cell(target)} | {mark} |")
    missing = [name for name, data in [("in-process", inprocess), ("service", service), ("scale-out", scaleout), ("soak", soak)] if not data]
    if missing:
        out += ["", f"Not run this time: {', '.join(missing)}."]
    out += ["", "## How to run it again", "", "```", "make bench                                   # everything, about 15 minutes on 2 cores",
            "KILN_BENCH_PARTS=inprocess,service make bench  # parts: inprocess, service, scaleout, soak",
            "KILN_BENCH_SECTIONS=thumbs,queue make bench    # service sections: thumbs, queue, reads, uploads, memory", "```", "",
            "- **in-process** (`kiln-bench`): Kiln's engine, called in-process, against `vips`/`vipsthumbnail` and `ffmpeg` on the same files; medians.",
            "- **service** (`scripts/servicebench.py`): release `kiln serve` processes on a throwaway PostgreSQL over loopback HTTP; thumbor from PyPI in `.kiln/bench/thumbor-venv`; load from wrk and Python clients.",
            "- **scale-out** (`scripts/cluster.py bench`, as root): the multi-host test's network namespaces (PostgreSQL, an S3 server, an API host) with 1, 2 and 3 worker hosts, each running one job at a time; 400 px JPEG thumbnails of the bench's 4K JPEG (each run, not reused) from 32 clients, each submitted with `Prefer: wait`. All hosts share this machine's cores, so throughput grows with hosts until the CPU is the limit.",
            "- **soak** (`scripts/soak.sh`): 1,000,000 status reads and 10,000 jobs against one server; fails when RSS grows more than 30 MB in a phase."]
    if inprocess:
        out += ["", "## In-process, as kiln-bench printed it", "", inprocess.strip()]
    if soak:
        out += ["", "## Soak, as it printed", "", soak.strip()]
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
