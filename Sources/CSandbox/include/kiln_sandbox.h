#ifndef KILN_SANDBOX_H
#define KILN_SANDBOX_H
#include <stddef.h>
#include <stdint.h>

// What a supervised worker process does to itself before it takes work.
// prctl is variadic and the seccomp rules are macros, so they live in C.

// Sets RLIMIT_AS (0: unchanged), RLIMIT_FSIZE (0: unchanged) and RLIMIT_CORE to 0,
// and ignores SIGXFSZ, so a write past the file-size limit fails with EFBIG instead of killing the process.
// Returns 0, or the errno of the first call that failed.
int kiln_sandbox_limits(uint64_t address_space_bytes, uint64_t file_size_bytes);

// PR_SET_NO_NEW_PRIVS: neither this process nor anything it could exec gains privileges.
int kiln_sandbox_no_new_privs(void);

// Installs the seccomp filter: everything is allowed but the calls listed in
// sandbox.c, which fail with EPERM (clone3 with ENOSYS, so glibc falls back to
// clone, whose namespace flags are then checked). Returns 0, or a negative errno.
// `denied` receives the number of rules installed.
int kiln_sandbox_seccomp(int *denied);

// A pipe whose two ends are close-on-exec (pipe2 needs _GNU_SOURCE, which Swift's Glibc lacks).
int kiln_sandbox_pipe(int ends[2]);

// The worker zygote (zygote.c): a process started with KILN_ZYGOTE_CONTROL=<fd>
// in its environment forks workers on request instead of running main.

// A close-on-exec SOCK_SEQPACKET pair for a zygote's control socket.
int kiln_zygote_socketpair(int ends[2]);
// PR_SET_CHILD_SUBREAPER: orphaned descendants (the zygote's workers) become this process's children.
int kiln_zygote_become_subreaper(void);
// Waits for the zygote's first word: 0 when it can fork (it has one thread), ENOTSUP when it cannot.
int kiln_zygote_await_ready(int control, int timeout_ms);
// Asks the zygote for a worker with this environment ("KEY=VALUE\0" each) and these
// descriptors as its standard input and output; `pid` receives the worker's.
int kiln_zygote_fork(int control, const char *environment, size_t length, int input, int output,
                     int timeout_ms, int *pid);
// waitpid(pid) to the end, through EINTR; 0, or the errno.
int kiln_wait_for_child(int pid, int *status);

// Test-only crashes (the `crash` operation, which exists only when KILN_TEST_OPERATIONS names it).
void kiln_sandbox_crash_segv(void);
#endif
