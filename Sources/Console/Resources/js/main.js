// The console: a page of Kiln's own public API. Nothing here talks to
// anything but this server; the key stays in this tab's session storage.
import { key, api } from "./api.js";
import { setUpUploads } from "./upload.js";
import { setUpRun } from "./run.js";
import { setUpJobs } from "./jobs.js";
import { showResult } from "./results.js";
import { setUpOperations } from "./ops.js";

const form = document.getElementById("key-form");
const keyInput = document.getElementById("api-key");
const keyStatus = document.getElementById("key-status");
const forget = document.getElementById("forget-key");

const run = setUpRun({ onSubmitted: (job) => { jobs.update(job); document.getElementById("jobs").scrollIntoView({ behavior: "smooth" }); } });
const jobs = setUpJobs({
  onOpen: (id) => showResult(id).catch((error) => alert(error.message)),
  onResubmitted: (job) => jobs.update(job),
});
setUpUploads({ onUploaded: (media, name) => run.addUpload(media, name) });
setUpOperations();

async function start() {
  try {
    await api("GET", "/v1/jobs?limit=1");
  } catch (error) {
    keyStatus.textContent = error.status === 401 ? "That key was not accepted." : "The server did not answer: " + error.message;
    return;
  }
  keyStatus.textContent = "Key accepted.";
  forget.hidden = false;
  run.renderInputs();
  await run.loadPipelines();
  await jobs.start();
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  key.set(keyInput.value.trim());
  keyInput.value = "";
  start();
});
forget.addEventListener("click", () => {
  key.clear();
  jobs.stop();
  forget.hidden = true;
  keyStatus.textContent = "Key forgotten.";
});

if (key.get()) start();
