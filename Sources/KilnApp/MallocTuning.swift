import CHeapStats
import Foundation

/// glibc's malloc serves a block of at least the mmap threshold with its own
/// mapping, returned to the system on free, but after each such free it raises
/// the threshold to that block's size (up to 32 MB). In an image worker the
/// next pixel buffers then come from the heap arenas, which keep them: eight
/// product-photo jobs at once peaked at 390 MB with the moving threshold and
/// 268 MB with it fixed at 1 MB. Setting it explicitly turns the adjustment off.
/// `MALLOC_MMAP_THRESHOLD_` in the environment (glibc's own tunable) wins.
public enum MallocTuning {
    public static let mmapThreshold: Int32 = 1 << 20

    public static func apply() {
        guard ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil else { return }
        _ = kiln_set_mmap_threshold(mmapThreshold)
    }

    /// Gives the system back the free memory in every malloc arena. glibc
    /// returns only the top of each heap by itself, so what a job freed in the
    /// middle (the many small buffers of a decode, each thread's arena) stays
    /// resident after it: a supervised worker process calls this when its last running job ends,
    /// the upload inspector after each file (which took its private memory from
    /// 9 MB to 3 MB after a 4K JPEG and a 1080p video). It took 0.1-1.8 ms here.
    public static func returnFreedMemory() {
        _ = kiln_malloc_trim()
    }
}
