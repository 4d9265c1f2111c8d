// BlurHash decoding (https://github.com/woltapp/blurhash, the algorithm's
// reference), painted into a canvas while the real image loads.
const CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function decode83(text) {
  let value = 0;
  for (const c of text) value = value * 83 + CHARS.indexOf(c);
  return value;
}
const toLinear = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
const toSRGB = (v) => {
  v = Math.max(0, Math.min(1, v));
  return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255);
};
const signPow = (v, e) => Math.sign(v) * Math.pow(Math.abs(v), e);

export function isValid(hash) {
  if (typeof hash !== "string" || hash.length < 6) return false;
  const size = decode83(hash[0]);
  return hash.length === 4 + 2 * ((size % 9) + 1) * (Math.floor(size / 9) + 1);
}

/** RGBA pixels of `hash` at width × height. */
export function decode(hash, width, height, punch = 1) {
  const size = decode83(hash[0]);
  const nx = (size % 9) + 1, ny = Math.floor(size / 9) + 1;
  const maximum = ((decode83(hash[1]) + 1) / 166) * punch;
  const colours = [];
  const dc = decode83(hash.slice(2, 6));
  colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
  for (let i = 1; i < nx * ny; i++) {
    const value = decode83(hash.slice(4 + i * 2, 6 + i * 2));
    const q = [Math.floor(value / (19 * 19)), Math.floor(value / 19) % 19, value % 19];
    colours.push(q.map((v) => signPow((v - 9) / 9, 2) * maximum));
  }
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
          const c = colours[i + j * nx];
          r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
        }
      }
      const p = 4 * (x + y * width);
      pixels[p] = toSRGB(r); pixels[p + 1] = toSRGB(g); pixels[p + 2] = toSRGB(b); pixels[p + 3] = 255;
    }
  }
  return pixels;
}

/** A canvas of the placeholder, 32 px wide, stretched by CSS to the image's box. */
export function canvas(hash, aspect) {
  const width = 32, height = Math.max(1, Math.round(32 / (aspect || 1)));
  const node = document.createElement("canvas");
  node.width = width;
  node.height = height;
  node.setAttribute("aria-hidden", "true");
  if (isValid(hash)) node.getContext("2d").putImageData(new ImageData(decode(hash, width, height), width, height), 0, 0);
  return node;
}
