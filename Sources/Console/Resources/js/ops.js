// Operations: queue depth, jobs by state and stage timings, read from the
// same numbers /metrics gives Prometheus. Histograms there count since the
// server started; the page keeps its readings for an hour and shows the
// difference between the newest and the oldest, so timings are for the last
// hour (or since the page opened, if that is sooner).
import { el } from "./api.js";

/** Prometheus text format → [{name, labels, value}]. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[3] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

function table(caption, head, rows) {
  return el("table", {},
    el("caption", { class: "hint" }, caption),
    el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { class: i ? "num" : null, scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c, i) => el("td", { class: i ? "num" : null }, c))))
                                : el("tr", {}, el("td", { colspan: String(head.length) }, "none yet"))));
}

export function setUpOperations() {
  const body = document.getElementById("ops-body");
  const readings = [];

  async function read() {
    let samples;
    try {
      samples = parseMetrics(await (await fetch("/metrics")).text());
    } catch {
      return;
    }
    const now = Date.now();
    readings.push({ at: now, samples });
    while (readings.length > 1 && now - readings[0].at > 3600_000) readings.shift();
    const value = (name, labels = {}) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;
    const depth = value("kiln_queue_depth");
    const oldest = value("kiln_queue_oldest_seconds");
    const byStatus = samples.filter((s) => s.name === "kiln_jobs").map((s) => [s.labels.status, String(s.value)]);
    // Stage timings: the change in each op's histogram sum and count over the window; with
    // one reading only, the window starts at zero, which is since the server started.
    const baseline = readings.length > 1 ? readings[0].samples : [];
    const stat = (list, op, suffix) => list.find((s) => s.name === "kiln_stage_seconds" + suffix && s.labels.op === op)?.value ?? 0;
    const ops = [...new Set(samples.filter((s) => s.name === "kiln_stage_seconds_count").map((s) => s.labels.op))].sort();
    const stages = ops.map((op) => {
      const count = stat(samples, op, "_count") - stat(baseline, op, "_count");
      const sum = stat(samples, op, "_sum") - stat(baseline, op, "_sum");
      return [op, String(count), count ? (sum / count * 1000).toFixed(1) + " ms" : "–"];
    }).filter((row) => row[1] !== "0");
    const minutes = Math.max(1, Math.round((now - readings[0].at) / 60000));
    body.replaceChildren(
      table("Queue", ["", "value"], [["jobs waiting", String(depth)], ["oldest waiting", oldest.toFixed(1) + " s"]]),
      table("Jobs by state", ["state", "jobs"], byStatus),
      table(readings.length > 1 ? `Stages, last ${minutes} min (this server's workers)` : "Stages since the server started (this server's workers)",
            ["operation", "runs", "mean"], stages));
  }

  read();
  setInterval(read, 10_000);
}
