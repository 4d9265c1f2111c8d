#!/usr/bin/env python3
"""OpenCV's own Python package as the oracle for where faces are.
stdin: {"path": IMAGE}; stdout: [[x, y, width, height], ...]."""
import json
import sys

import cv2

job = json.load(sys.stdin)
grey = cv2.cvtColor(cv2.imread(job["path"]), cv2.COLOR_BGR2GRAY)
cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
print(json.dumps([[int(v) for v in face] for face in faces]))
