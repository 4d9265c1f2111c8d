// OpenCV's cascade face detector behind one plain C function, so Swift needs
// no C++ interop. Detection runs on whatever the caller hands in: Kiln passes
// a small downscale, so it costs milliseconds.
#include "face_detect.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <string>
#include <vector>

namespace {
struct LoadedCascade {
    std::string path;
    cv::CascadeClassifier classifier;
};

// A classifier is not safe to share between threads; parsing the XML costs
// tens of milliseconds, so each thread loads it once.
thread_local LoadedCascade cascade;
}  // namespace

extern "C" int kiln_detect_faces(const unsigned char *grey, int width, int height, const char *cascade_path, int min_side,
                                 kiln_face *faces, int max_faces) {
    try {
        if (cascade.path != cascade_path || cascade.classifier.empty()) {
            cascade.classifier = cv::CascadeClassifier();
            if (!cascade.classifier.load(cascade_path)) return -1;
            cascade.path = cascade_path;
        }
        cv::Mat image(height, width, CV_8UC1, const_cast<unsigned char *>(grey));
        cv::Mat equalised;
        cv::equalizeHist(image, equalised);
        std::vector<cv::Rect> found;
        cascade.classifier.detectMultiScale(equalised, found, 1.1, 5, 0, cv::Size(min_side, min_side));
        int count = 0;
        for (const auto &rect : found) {
            if (count == max_faces) break;
            faces[count++] = kiln_face{rect.x, rect.y, rect.width, rect.height};
        }
        return count;
    } catch (...) {
        return -1;
    }
}
