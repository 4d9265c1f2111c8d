#define _GNU_SOURCE
#include "kiln_sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// The worker zygote. A process of this binary loads ~225 shared libraries
// (libvips, FFmpeg, OpenCV and theirs), and the dynamic linker's relocations
// write ~12 MB of their pages in every process that loads them. A worker forked
// from one process that already did that shares those pages with it and with
// every other worker instead. The zygote is started as `kiln zygote <room>` (room
// for a child's arguments) with KILN_ZYGOTE_CONTROL naming a SOCK_SEQPACKET socket; this constructor runs
// after every library is loaded and relocated but before Swift's main, while the
// process still has one thread, so fork() is safe. Each request forks a worker
// that returns from here into main, which runs the command KILN_FORKED_ARGUMENTS names.

enum { max_request = 256 * 1024 };

// The zygote's own argv, whose strings a worker overwrites with its command so
// that ps and /proc/<pid>/cmdline show what each child is.
static int zygote_argc;
static char **zygote_argv;

static void retitle(const char *arguments) {
    if (!arguments || zygote_argc < 2) return;
    char *start = zygote_argv[1];
    char *end = zygote_argv[zygote_argc - 1] + strlen(zygote_argv[zygote_argc - 1]);
    size_t room = (size_t)(end - start);
    size_t length = strnlen(arguments, room);
    memcpy(start, arguments, length);
    memset(start + length, 0, room - length + 1);
    for (char *at = start; at < start + length; at++) {
        if (*at == '\x1f') *at = 0;
    }
}

static int thread_count(void) {
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks))) {
        if (entry->d_name[0] != '.') count++;
    }
    closedir(tasks);
    return count;
}

// One request: an environment block ("KEY=VALUE\0" each) and two descriptors,
// the worker's standard input and output.
static ssize_t receive_request(int control, char *buffer, size_t size, int fds[2]) {
    struct iovec io = {.iov_base = buffer, .iov_len = size};
    union {
        char space[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } control_data;
    struct msghdr message = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control_data.space,
                             .msg_controllen = sizeof control_data.space};
    ssize_t received;
    do { received = recvmsg(control, &message, MSG_CMSG_CLOEXEC); } while (received < 0 && errno == EINTR);
    if (received <= 0) return received;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(2 * sizeof(int))) return -1;
    memcpy(fds, CMSG_DATA(header), 2 * sizeof(int));
    return received;
}

// In the worker: its descriptors and environment, then back to main.
static void become_worker(int control, int fds[2], char *environment, size_t length) {
    close(control);
    dup2(fds[0], STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    // Nothing else the zygote holds: above all not the socket by which its own
    // parent learns that it exited (Foundation's Process), which a worker would
    // otherwise keep open, leaving a retired zygote unreaped.
    close_range(STDERR_FILENO + 1, ~0U, 0);
    clearenv();
    for (size_t at = 0; at < length;) {
        size_t entry = strnlen(environment + at, length - at);
        if (entry > 0 && memchr(environment + at, '=', entry)) putenv(strndup(environment + at, entry));
        at += entry + 1;
    }
    retitle(getenv("KILN_FORKED_ARGUMENTS"));
}

// Returns only in a worker; the zygote itself ends when the supervisor closes its end.
static void serve(int control) {
    char *buffer = malloc(max_request + 1);
    char ready = buffer && thread_count() == 1 ? 'R' : 'N';
    if (send(control, &ready, 1, MSG_NOSIGNAL) != 1 || ready != 'R') _exit(ready == 'R' ? 1 : 0);
    for (;;) {
        int fds[2];
        ssize_t length = receive_request(control, buffer, max_request, fds);
        if (length <= 0) _exit(0);
        buffer[length] = 0;
        int report[2];
        pid_t worker = -1;
        if (pipe2(report, O_CLOEXEC) == 0) {
            // Forked twice so the worker is orphaned at once and adopted by the supervisor,
            // its subreaper, which waits for it as for any child of its own.
            pid_t middle = fork();
            if (middle == 0) {
                pid_t child = fork();
                if (child == 0) {
                    close(report[0]);
                    close(report[1]);
                    become_worker(control, fds, buffer, (size_t)length);
                    free(buffer);
                    return;
                }
                ssize_t ignored = write(report[1], &child, sizeof child);
                (void)ignored;
                _exit(0);
            }
            close(report[1]);
            if (middle > 0) {
                if (read(report[0], &worker, sizeof worker) != sizeof worker) worker = -1;
                while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
            }
            close(report[0]);
        }
        close(fds[0]);
        close(fds[1]);
        if (send(control, &worker, sizeof worker, MSG_NOSIGNAL) != sizeof worker) _exit(0);
    }
}

// glibc calls an executable's constructors with main's arguments.
__attribute__((constructor)) static void kiln_zygote_entry(int argc, char **argv, char **envp) {
    (void)envp;
    const char *control = getenv("KILN_ZYGOTE_CONTROL");
    if (!control) return;
    zygote_argc = argc;
    zygote_argv = argv;
    int descriptor = atoi(control);
    unsetenv("KILN_ZYGOTE_CONTROL");
    serve(descriptor);
}

int kiln_zygote_socketpair(int ends[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) == 0 ? 0 : errno;
}

int kiln_zygote_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno;
}

static int wait_readable(int descriptor, int timeout_ms) {
    struct pollfd poller = {.fd = descriptor, .events = POLLIN};
    int ready;
    do { ready = poll(&poller, 1, timeout_ms); } while (ready < 0 && errno == EINTR);
    return ready > 0 ? 0 : ready == 0 ? ETIMEDOUT : errno;
}

int kiln_zygote_await_ready(int control, int timeout_ms) {
    int failed = wait_readable(control, timeout_ms);
    if (failed) return failed;
    char ready = 0;
    ssize_t received = recv(control, &ready, 1, 0);
    if (received != 1) return received < 0 ? errno : EPIPE;
    return ready == 'R' ? 0 : ENOTSUP;
}

int kiln_zygote_fork(int control, const char *environment, size_t length, int input, int output,
                     int timeout_ms, int *pid) {
    *pid = -1;
    if (length > max_request) return E2BIG;
    struct iovec io = {.iov_base = (void *)environment, .iov_len = length};
    union {
        char space[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } control_data;
    memset(&control_data, 0, sizeof control_data);
    struct msghdr message = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control_data.space,
                             .msg_controllen = sizeof control_data.space};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {input, output};
    memcpy(CMSG_DATA(header), fds, sizeof fds);
    ssize_t sent;
    do { sent = sendmsg(control, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)length) return sent < 0 ? errno : EPIPE;
    int failed = wait_readable(control, timeout_ms);
    if (failed) return failed;
    pid_t worker = -1;
    ssize_t received = recv(control, &worker, sizeof worker, 0);
    if (received != sizeof worker) return received < 0 ? errno : EPIPE;
    if (worker <= 0) return ECHILD;
    *pid = worker;
    return 0;
}

int kiln_wait_for_child(int pid, int *status) {
    int result;
    do { result = waitpid(pid, status, 0); } while (result < 0 && errno == EINTR);
    return result == pid ? 0 : errno;
}
