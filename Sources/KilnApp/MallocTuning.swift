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
}
