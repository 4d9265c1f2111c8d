// Run: a named pipeline (with its description) or an operation list on an
// uploaded input. The server validates before anything is queued; its error's
// JSON pointer puts the message beside the field it names.
import { api, el, APIError } from "./api.js";

const UPLOADS = "kiln.uploads";

export function rememberedUploads() {
  return JSON.parse(sessionStorage.getItem(UPLOADS) || "[]");
}

export function setUpRun({ onSubmitted }) {
  const form = document.getElementById("run-form");
  const input = document.getElementById("run-input");
  const pipeline = document.getElementById("run-pipeline");
  const description = document.getElementById("pipeline-description");
  const operations = document.getElementById("run-operations");
  const errors = {
    input: document.getElementById("error-input"),
    pipeline: document.getElementById("error-pipeline"),
    operations: document.getElementById("error-operations"),
    run: document.getElementById("error-run"),
  };
  let pipelines = [];

  function renderInputs(selected) {
    const uploads = rememberedUploads();
    input.replaceChildren(...(uploads.length ? uploads : [{ id: "", label: "Upload a file first" }])
      .map((u) => el("option", { value: u.id }, u.label || u.id)));
    if (selected) input.value = selected;
  }

  function mode() {
    return form.querySelector("input[name=mode]:checked").value;
  }

  function showMode() {
    document.getElementById("pipeline-field").hidden = mode() !== "pipeline";
    document.getElementById("operations-field").hidden = mode() !== "operations";
  }

  function describe() {
    const chosen = pipelines.find((p) => p.name === pipeline.value);
    description.textContent = chosen ? chosen.description : "";
  }

  function clearErrors() {
    for (const node of Object.values(errors)) node.textContent = "";
    operations.removeAttribute("aria-invalid");
  }

  /** The field a pointer names: /input, /pipeline, or anything under /operations or /outputs. */
  function show(error) {
    const pointer = error.pointer || "";
    const top = pointer.split("/")[1] || "";
    const where = top === "input" ? "input" : top === "pipeline" ? "pipeline" : ["operations", "outputs"].includes(top) ? "operations" : "run";
    errors[where].textContent = (where === "operations" && pointer ? pointer + ": " : "") + error.message + (error.code ? ` (${error.code})` : "");
    if (where === "operations") {
      operations.setAttribute("aria-invalid", "true");
      operations.focus();
    }
  }

  async function loadPipelines() {
    try {
      pipelines = (await api("GET", "/v1/pipelines")).data;
      pipeline.replaceChildren(...pipelines.map((p) => el("option", { value: p.name }, p.name)));
      describe();
    } catch (error) {
      errors.pipeline.textContent = "Could not load pipelines: " + error.message;
    }
  }

  form.addEventListener("change", (e) => {
    if (e.target.name === "mode") showMode();
    if (e.target === pipeline) describe();
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const body = { input: input.value };
    if (mode() === "pipeline") {
      body.pipeline = pipeline.value;
    } else {
      let parsed;
      try {
        parsed = JSON.parse(operations.value);
      } catch (error) {
        show({ pointer: "/operations", message: "Not JSON: " + error.message, code: "malformed_json" });
        return;
      }
      if (Array.isArray(parsed)) body.operations = parsed;
      else body.outputs = parsed;
    }
    const button = document.getElementById("run-submit");
    button.disabled = true;
    try {
      const job = await api("POST", "/v1/jobs", body);
      onSubmitted(job);
    } catch (error) {
      if (error instanceof APIError) show(error);
      else errors.run.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });

  return {
    loadPipelines,
    addUpload(media, name) {
      const uploads = rememberedUploads().filter((u) => u.id !== media.id);
      uploads.unshift({ id: media.id, kind: media.kind, label: `${name} (${media.kind}, ${media.id})` });
      sessionStorage.setItem(UPLOADS, JSON.stringify(uploads.slice(0, 50)));
      renderInputs(media.id);
      // A sensible pipeline for what was uploaded.
      const preferred = media.kind === "video" ? "video-feed" : media.kind === "image" ? "feed-image" : null;
      if (preferred && pipelines.some((p) => p.name === preferred)) { pipeline.value = preferred; describe(); }
    },
    renderInputs,
  };
}
