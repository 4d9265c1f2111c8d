#include "kiln_av_log.h"

#include <libavutil/log.h>
#include <string.h>

static kiln_av_log_sink current_sink = NULL;

static void kiln_av_log_callback(void *avcl, int level, const char *fmt, va_list vl) {
    if (level > av_log_get_level()) return;
    kiln_av_log_sink sink = __atomic_load_n(&current_sink, __ATOMIC_ACQUIRE);
    if (sink == NULL) return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = '\0';
    if (length > 0) sink(level, line);
}

void kiln_av_log_route(kiln_av_log_sink sink) {
    __atomic_store_n(&current_sink, sink, __ATOMIC_RELEASE);
    av_log_set_callback(kiln_av_log_callback);
}
