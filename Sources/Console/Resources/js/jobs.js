// Jobs, newest first, kept live by the tenant's event stream (GET /v1/events):
// status, a progress bar per output, attempts, errors with their codes, time
// taken; cancel and resubmit; a filter by status.
import { api, el } from "./api.js";
import { stream } from "./sse.js";

const FINAL = new Set(["succeeded", "failed", "canceled"]);

function seconds(job) {
  if (!job.startedAt) return "";
  const end = job.finishedAt ? new Date(job.finishedAt) : new Date();
  return ((end - new Date(job.startedAt)) / 1000).toFixed(1) + " s";
}

export function setUpJobs({ onOpen, onResubmitted }) {
  const list = document.getElementById("job-list");
  const filter = document.getElementById("status-filter");
  const streamStatus = document.getElementById("stream-status");
  const jobs = new Map();
  let connection = null;
  let refreshTimer = null;

  function render(job) {
    const outputs = Object.entries(job.outputs || {}).map(([name, output]) =>
      el("div", { class: "out" },
        el("span", {}, `${name}: ${output.status}`),
        el("progress", { max: "1", value: String(output.progress ?? 0), "aria-label": `${name} progress` }),
        output.error ? el("span", { class: "error" }, `${output.error.code}: ${output.error.message}`) : null));
    const actions = el("div", { class: "job-actions" });
    if (job.status === "succeeded") actions.append(el("button", { type: "button", onclick: () => onOpen(job.id) }, "Show result"));
    if (!FINAL.has(job.status)) {
      actions.append(el("button", { type: "button", class: "danger", onclick: async () => {
        try { update(await api("POST", `/v1/jobs/${job.id}/cancel`)); } catch (error) { alert(error.message); }
      } }, "Cancel"));
    }
    if (FINAL.has(job.status) && job.plan) {
      actions.append(el("button", { type: "button", class: "secondary", onclick: async () => {
        try { onResubmitted(await api("POST", "/v1/jobs", { input: job.input, outputs: job.plan, reuse: false })); } catch (error) { alert(error.message); }
      } }, "Resubmit"));
    }
    return el("li", { "data-job": job.id, "data-status": job.status },
      el("div", { class: "job-head" },
        el("span", { class: `badge ${job.status}` }, job.status),
        el("span", { class: "id" }, job.id),
        el("span", { class: "hint" }, `attempt ${job.attempt}`),
        el("span", { class: "hint" }, seconds(job)),
        job.reusedFrom ? el("span", { class: "hint" }, "reused " + job.reusedFrom) : null,
        el("span", { class: "hint" }, new Date(job.createdAt).toLocaleString())),
      el("progress", { max: "1", value: String(job.progress ?? 0), "aria-label": "Job progress" }),
      el("div", { class: "outputs" }, outputs),
      job.error ? el("p", { class: "error" }, `${job.error.code}: ${job.error.message}`) : null,
      actions);
  }

  function update(job) {
    jobs.set(job.id, job);
    const wanted = !filter.value || filter.value === job.status;
    const existing = list.querySelector(`[data-job="${job.id}"]`);
    if (!wanted) { existing?.remove(); return; }
    const node = render(job);
    if (existing) existing.replaceWith(node);
    else {
      // Newest first: a job not listed yet is newer than every listed one unless it sorts below.
      const after = [...list.children].find((li) => (jobs.get(li.dataset.job)?.createdAt ?? "") < job.createdAt);
      list.insertBefore(node, after ?? null);
    }
  }

  async function load() {
    const query = filter.value ? `?status=${filter.value}&limit=50` : "?limit=50";
    const page = await api("GET", "/v1/jobs" + query);
    list.replaceChildren();
    for (const job of page.data) update(job);
  }

  /** An event names a job; reading the job keeps the list exactly as the API says it is. */
  const pending = new Set();
  function changed(id) {
    pending.add(id);
    if (refreshTimer) return;
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      const ids = [...pending];
      pending.clear();
      for (const jobID of ids) {
        try { update(await api("GET", "/v1/jobs/" + jobID)); } catch { /* deleted meanwhile */ }
      }
    }, 150);
  }

  filter.addEventListener("change", () => load().catch(() => {}));

  return {
    async start() {
      await load();
      connection?.close();
      connection = stream("/v1/events", (type, data) => { if (data.jobId) changed(data.jobId); },
                          (state) => { streamStatus.textContent = state === "live" ? "live" : "reconnecting…"; });
    },
    stop() { connection?.close(); },
    update,
  };
}
