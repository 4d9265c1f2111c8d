#!/usr/bin/env python3
"""The reference BlurHash encoder (PyPI `blurhash`) on pixels Kiln hands it.
stdin: {"width", "height", "pixels": [r, g, b, ...], "componentsX", "componentsY"}; stdout: the hash."""
import json
import sys

import blurhash

job = json.load(sys.stdin)
w, h, p = job["width"], job["height"], job["pixels"]
rows = [[p[(y * w + x) * 3:(y * w + x) * 3 + 3] for x in range(w)] for y in range(h)]
print(blurhash.encode(rows, job["componentsX"], job["componentsY"]))
