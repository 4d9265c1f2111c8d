// A finished job's outputs: pictures painted first from their BlurHash, then
// the real image; metadata and sizes; a download link per file; video played
// from the signed HLS URL; the audio waveform drawn. File URLs come from a job
// link (`/play/{token}/…`), so <img> and <video> need no key.
import { api, el, bytes, local } from "./api.js";
import * as blurhash from "./blurhash.js";
import { player, waveform } from "./player.js";

function facts(file) {
  return el("dl", {},
    el("dt", {}, "type"), el("dd", {}, file.contentType),
    el("dt", {}, "size"), el("dd", {}, bytes(file.size)),
    file.width ? [el("dt", {}, "pixels"), el("dd", {}, `${file.width}×${file.height}`)] : null,
    file.duration ? [el("dt", {}, "duration"), el("dd", {}, file.duration.toFixed(2) + " s")] : null);
}

export async function showResult(jobID) {
  const section = document.getElementById("result");
  const body = document.getElementById("result-body");
  section.hidden = false;
  body.replaceChildren(el("p", { class: "hint" }, "Loading " + jobID + "…"));
  const job = await api("GET", "/v1/jobs/" + jobID);
  const link = await api("POST", `/v1/jobs/${jobID}/links`, { expiresIn: 3600 });
  const base = local(link.url);
  const hash = Object.values(job.outputs).map((o) => o.results?.blurhash).find(Boolean);
  const storyboard = Object.values(job.outputs).flatMap((o) => o.files).find((f) => f.path.endsWith(".vtt"));
  const poster = Object.values(job.outputs).flatMap((o) => o.files).find((f) => f.contentType === "image/jpeg" && !f.path.includes("storyboard"));
  const cards = [];
  // Streams first, then the rest by name (the API's outputs are an object, in no order).
  const entries = Object.entries(job.outputs).sort(([a, x], [b, y]) =>
    (y.results?.playbackUrl ? 1 : 0) - (x.results?.playbackUrl ? 1 : 0) || a.localeCompare(b));
  for (const [name, output] of entries) {
    const card = el("article", { class: "card", "data-output": name }, el("h3", {}, name));
    if (output.results?.playbackUrl) {
      card.append(await player({ playbackUrl: output.results.playbackUrl,
                                 storyboardVTT: storyboard ? base + storyboard.path : null,
                                 poster: poster ? base + poster.path : null }));
    }
    for (const file of output.files) {
      const url = base + file.path;
      if (file.contentType.startsWith("image/") && !output.results?.playbackUrl) {
        const placeholder = hash ? blurhash.canvas(hash, file.width && file.height ? file.width / file.height : 1) : el("canvas", { width: "1", height: "1" });
        const img = el("img", { src: url, alt: `${name}: ${file.path}`, width: file.width, height: file.height, decoding: "async" });
        img.addEventListener("load", () => img.classList.add("loaded"));
        card.append(el("div", { class: "picture" }, placeholder, img));
      } else if (file.contentType.startsWith("audio/") && !output.results?.playbackUrl) {
        card.append(el("audio", { controls: true, src: url, preload: "none", "aria-label": `${name} audio` }));
      } else if (file.contentType === "video/mp4" && !output.results?.playbackUrl) {
        card.append(el("video", { controls: true, src: url, preload: "none", "aria-label": `${name} video` }));
      }
      if (!output.results?.playbackUrl || file.path === output.results.playlist) {
        card.append(facts(file), el("p", {}, el("a", { href: url, download: file.path.split("/").pop() }, "Download " + file.path.split("/").pop())));
      }
    }
    if (output.results?.playbackUrl) card.append(el("p", { class: "hint" }, `${output.files.length} files (playlists and segments)`));
    if (output.results?.waveform) card.append(waveform(output.results.waveform));
    if (output.results?.blurhash) {
      card.append(el("div", { class: "picture" }, blurhash.canvas(output.results.blurhash, 4 / 3)),
                  el("p", { class: "hint" }, "BlurHash ", el("code", {}, output.results.blurhash)));
    }
    const results = { ...output.results };
    delete results.waveform;
    delete results.blurhash;
    delete results.playbackUrl;
    if (Object.keys(results).length) card.append(el("pre", { class: "json" }, JSON.stringify(results, null, 2)));
    cards.push(card);
  }
  body.replaceChildren(el("p", {}, `${job.id} · ${job.status}`, job.reusedFrom ? ` · reused ${job.reusedFrom}` : ""),
                       el("div", { class: "result-grid" }, cards));
  section.scrollIntoView({ behavior: "smooth", block: "start" });
}
