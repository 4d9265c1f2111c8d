// Uploads: many files at once, a progress bar each. Small files go in one
// POST /v1/uploads (XHR: fetch cannot report upload progress); files above
// 8 MiB go through tus, in 4 MiB PATCHes, resuming from the server's offset
// after a dropped connection (and after a reload: the upload URL is kept).
import { el, bytes, headers, key } from "./api.js";

const TUS_ABOVE = 8 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

function post(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/uploads");
    xhr.setRequestHeader("Authorization", "Bearer " + key.get());
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      const body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      if (xhr.status === 201) resolve(body);
      else reject(new Error(body?.error?.message || "HTTP " + xhr.status));
    };
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(file);
  });
}

function patch(url, chunk, offset, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PATCH", url);
    xhr.setRequestHeader("Authorization", "Bearer " + key.get());
    xhr.setRequestHeader("Tus-Resumable", "1.0.0");
    xhr.setRequestHeader("Upload-Offset", String(offset));
    xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
    xhr.upload.onprogress = (e) => onProgress(offset + e.loaded);
    xhr.onload = () => (xhr.status === 204 ? resolve({ offset: Number(xhr.getResponseHeader("Upload-Offset")), media: xhr.getResponseHeader("Kiln-Media-Id") })
                                           : reject(new Error("HTTP " + xhr.status)));
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(chunk);
  });
}

async function uploadOffset(url) {
  const head = await fetch(url, { method: "HEAD", headers: headers({ "Tus-Resumable": "1.0.0" }) });
  if (!head.ok) throw new Error("the upload is gone: HTTP " + head.status);
  return { offset: Number(head.headers.get("Upload-Offset")), media: head.headers.get("Kiln-Media-Id") };
}

async function tus(file, onProgress, onResume) {
  const remembered = "kiln.tus." + [file.name, file.size, file.lastModified].join(":");
  let url = sessionStorage.getItem(remembered);
  let offset = 0;
  if (url) {
    try { offset = (await uploadOffset(url)).offset; } catch { url = null; }
  }
  if (!url) {
    const meta = "filename " + btoa(unescape(encodeURIComponent(file.name)));
    const created = await fetch("/v1/uploads/tus", { method: "POST", headers: headers({
      "Tus-Resumable": "1.0.0", "Upload-Length": String(file.size), "Upload-Metadata": meta }) });
    if (created.status !== 201) throw new Error("could not start the upload: HTTP " + created.status);
    url = new URL(created.headers.get("Location"), location.href).pathname;
    sessionStorage.setItem(remembered, url);
  }
  let failures = 0;
  let media = null;
  while (offset < file.size) {
    try {
      const answer = await patch(url, file.slice(offset, offset + CHUNK), offset, (sent) => onProgress(sent / file.size));
      offset = answer.offset;
      media = answer.media || media;
      failures = 0;
    } catch (error) {
      // The connection dropped (or the offset was stale): ask the server what it kept, resume from there.
      if (++failures > 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * failures, 4000)));
      try {
        offset = (await uploadOffset(url)).offset;
        onResume(offset);
      } catch { /* still unreachable: the next round asks again */ }
    }
  }
  sessionStorage.removeItem(remembered);
  media = media || (await uploadOffset(url)).media;
  const response = await fetch("/v1/media/" + media, { headers: headers() });
  return response.json();
}

export function setUpUploads({ onUploaded }) {
  const zone = document.getElementById("drop-zone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");

  async function send(file) {
    const bar = el("progress", { max: "1", value: "0", "aria-label": "Upload of " + file.name });
    const status = el("span", { class: "hint" }, bytes(file.size));
    const row = el("li", { class: "upload" }, el("span", { class: "name" }, file.name), status, el("div", { class: "full" }, bar));
    list.prepend(row);
    try {
      let resumes = 0;
      const media = await (file.size > TUS_ABOVE ? tus : post)(file, (fraction) => { bar.value = fraction; }, (offset) => {
        row.dataset.resumes = String(++resumes);
        row.dataset.resumedAt = String(offset);
        status.textContent = `connection dropped; resumed at ${bytes(offset)}`;
      });
      bar.value = 1;
      status.textContent = (resumes ? `resumed ${resumes}× · ` : "") + `${media.kind} ${media.width ? media.width + "×" + media.height : ""} ${media.duration ? media.duration.toFixed(1) + " s" : ""} · ${media.id}`;
      row.dataset.media = media.id;
      onUploaded(media, file.name);
    } catch (error) {
      status.textContent = "failed: " + error.message;
      status.className = "error";
    }
  }

  const choose = () => input.click();
  zone.addEventListener("click", choose);
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
  input.addEventListener("change", () => { [...input.files].forEach(send); input.value = ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); [...e.dataTransfer.files].forEach(send); });
}
