#ifndef KILN_AV_LOG_H
#define KILN_AV_LOG_H

// av_log_set_callback hands its callback a va_list, which Swift cannot take;
// this C file formats each line and passes plain text on.

/// Receives one formatted FFmpeg log line (no trailing newline) and its AV_LOG_* level.
typedef void (*kiln_av_log_sink)(int level, const char *line);

/// Routes FFmpeg's log to `sink` (NULL drops it). Lines above av_log_get_level() are skipped.
void kiln_av_log_route(kiln_av_log_sink sink);

#endif
