// Video outputs: the signed HLS URL in a <video>, a rendition picker from the
// master playlist, and a seek bar whose hover (or keyboard focus) shows the
// storyboard's tile for that moment (its WebVTT names sprite regions).
import { el, local } from "./api.js";

function parseMaster(text, base) {
  const variants = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("#EXT-X-STREAM-INF:")) continue;
    const resolution = /RESOLUTION=(\d+)x(\d+)/.exec(lines[i]);
    const bandwidth = /BANDWIDTH=(\d+)/.exec(lines[i]);
    const uri = lines.slice(i + 1).find((l) => l && !l.startsWith("#"));
    if (uri) variants.push({ height: resolution ? Number(resolution[2]) : 0, bandwidth: bandwidth ? Number(bandwidth[1]) : 0, url: new URL(uri, base).href });
  }
  return variants.sort((a, b) => b.height - a.height);
}

function parseTime(text) {
  const parts = text.trim().split(":").map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** Cues of a storyboard WebVTT: [{start, end, image, x, y, w, h}]. */
export function parseStoryboard(text, base) {
  const cues = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter(Boolean);
    const timing = lines.findIndex((l) => l.includes("-->"));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [start, end] = lines[timing].split("-->").map(parseTime);
    const [file, fragment] = lines[timing + 1].split("#xywh=");
    const [x, y, w, h] = (fragment || "0,0,0,0").split(",").map(Number);
    cues.push({ start, end, image: new URL(file, base).href, x, y, w, h });
  }
  return cues;
}

export function canPlayHLS() {
  return document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";
}

export async function player({ playbackUrl, storyboardVTT, poster }) {
  const master = local(playbackUrl);
  const video = el("video", { controls: true, playsinline: true, preload: "metadata", poster: poster || null, "aria-label": "Video output" });
  const picker = el("select", { "aria-label": "Rendition" }, el("option", { value: master }, "auto"));
  const box = el("div", { class: "player" }, video);
  if (!canPlayHLS()) {
    box.append(el("p", { class: "error" }, "This browser cannot play HLS by itself; open the stream in a player that can."));
    return box;
  }
  video.src = master;
  try {
    const text = await (await fetch(master)).text();
    for (const variant of parseMaster(text, new URL(master, location.href))) {
      picker.append(el("option", { value: local(variant.url) }, `${variant.height}p · ${(variant.bandwidth / 1000).toFixed(0)} kb/s`));
    }
  } catch { /* the picker keeps "auto" */ }
  picker.addEventListener("change", () => {
    const at = video.currentTime, playing = !video.paused;
    video.src = picker.value;
    video.addEventListener("loadedmetadata", () => { video.currentTime = at; if (playing) video.play(); }, { once: true });
  });
  const controls = el("div", { class: "toolbar" }, el("label", {}, "Rendition ", picker));
  box.append(controls);

  if (storyboardVTT) {
    const cues = parseStoryboard(await (await fetch(local(storyboardVTT))).text(), new URL(local(storyboardVTT), location.href));
    const range = el("input", { type: "range", min: "0", max: "1000", value: "0", step: "1", "aria-label": "Seek (shows a preview)" });
    const preview = el("div", { class: "preview", hidden: true, "aria-hidden": "true" });
    const scrub = el("div", { class: "scrub" }, preview, range);
    const show = (fraction) => {
      const time = fraction * (video.duration || cues.at(-1)?.end || 0);
      const cue = cues.find((c) => time >= c.start && time < c.end) || cues.at(-1);
      if (!cue) return;
      Object.assign(preview.style, {
        width: cue.w + "px", height: cue.h + "px", backgroundImage: `url("${local(cue.image)}")`,
        backgroundPosition: `-${cue.x}px -${cue.y}px`,
        left: Math.max(0, Math.min(range.clientWidth - cue.w, fraction * range.clientWidth - cue.w / 2)) + "px",
      });
      preview.hidden = false;
    };
    range.addEventListener("pointermove", (e) => show(Math.max(0, Math.min(1, e.offsetX / range.clientWidth))));
    range.addEventListener("pointerleave", () => { preview.hidden = true; });
    range.addEventListener("input", () => { show(range.value / 1000); if (video.duration) video.currentTime = (range.value / 1000) * video.duration; });
    range.addEventListener("blur", () => { preview.hidden = true; });
    video.addEventListener("timeupdate", () => { if (document.activeElement !== range && video.duration) range.value = String(Math.round((video.currentTime / video.duration) * 1000)); });
    box.append(scrub);
  }
  return box;
}

/** The waveform output (min/max peaks, 8 bits) drawn across a canvas. */
export function waveform(data) {
  const canvas = el("canvas", { class: "waveform", width: "800", height: "80", role: "img", "aria-label": "Waveform" });
  const ctx = canvas.getContext("2d");
  const points = data.data.length / 2;
  ctx.fillStyle = "#1f5fbf";
  for (let i = 0; i < points; i++) {
    const x = (i / points) * canvas.width;
    const min = data.data[2 * i] / 128, max = data.data[2 * i + 1] / 128;
    const top = (1 - max) * canvas.height / 2, bottom = (1 - min) * canvas.height / 2;
    ctx.fillRect(x, top, Math.max(1, canvas.width / points), Math.max(1, bottom - top));
  }
  return canvas;
}
