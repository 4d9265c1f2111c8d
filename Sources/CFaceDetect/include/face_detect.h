#ifndef KILN_FACE_DETECT_H
#define KILN_FACE_DETECT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int x, y, width, height;
} kiln_face;

// Finds frontal faces in an 8-bit grey image (`width` x `height` bytes, row by
// row) with the OpenCV cascade at `cascade_path`. Writes at most `max_faces`
// rectangles and returns how many it found, or -1 if the cascade cannot be
// loaded. Faces smaller than `min_side` pixels are ignored. Thread-safe: each
// thread keeps its own loaded cascade.
int kiln_detect_faces(const unsigned char *grey, int width, int height, const char *cascade_path, int min_side,
                      kiln_face *faces, int max_faces);

#ifdef __cplusplus
}
#endif

#endif
