// Server-Sent Events over fetch: EventSource cannot send the Authorization
// header. Reconnects with Last-Event-ID after `retry` milliseconds.
import { headers } from "./api.js";

export function stream(path, onEvent, onState = () => {}) {
  let lastID = null;
  let retry = 2000;
  let stopped = false;
  let controller = null;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const extra = lastID ? { "Last-Event-ID": lastID } : {};
        const response = await fetch(path, { headers: headers(extra), signal: controller.signal });
        if (!response.ok) throw new Error("HTTP " + response.status);
        onState("live");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            dispatch(frame);
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
  }

  function dispatch(frame) {
    let type = "message", data = "", id = null;
    for (const line of frame.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = value;
      else if (field === "data") data += (data ? "\n" : "") + value;
      else if (field === "id") id = value;
      else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
    }
    if (id) lastID = id;
    if (data) onEvent(type, JSON.parse(data));
  }

  connect();
  return { close() { stopped = true; controller?.abort(); } };
}
