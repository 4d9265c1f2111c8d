#ifndef KILN_HEAP_STATS_H
#define KILN_HEAP_STATS_H
#include <malloc.h>
#include <stddef.h>

// Bytes the process has allocated and not freed, across every malloc arena.
// Swift's Glibc module does not import <malloc.h>.
static inline size_t kiln_live_heap_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

// Fixes glibc's mmap threshold (which also turns off its dynamic adjustment).
static inline int kiln_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

// malloc_trim(0): returns the free pages of every arena to the system.
static inline int kiln_malloc_trim(void) {
    return malloc_trim(0);
}
#endif
