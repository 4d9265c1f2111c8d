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
#endif
