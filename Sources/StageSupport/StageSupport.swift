// What both stage targets share, so neither imports the other: the adapters
// that turn libvips and FFmpeg failures into a job's errors (`withVips`,
// `withFFmpeg`), the bridge from a decoded video frame to an image
// (`VideoFrameImage`), the output bounds and the resize arithmetic.
@_exported import PipelineEngine
