#define _GNU_SOURCE
#include "kiln_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

static int set_limit(int resource, uint64_t bytes) {
    struct rlimit limit = {.rlim_cur = bytes, .rlim_max = bytes};
    struct rlimit current;
    if (getrlimit(resource, &current) == 0 && current.rlim_max != RLIM_INFINITY && current.rlim_max < bytes) {
        // Never ask for more than the hard limit allows (that fails); keep the lower one.
        limit.rlim_cur = limit.rlim_max = current.rlim_max;
    }
    return setrlimit(resource, &limit) == 0 ? 0 : errno;
}

int kiln_sandbox_limits(uint64_t address_space_bytes, uint64_t file_size_bytes) {
    int failed = set_limit(RLIMIT_CORE, 0);
    if (failed) return failed;
    if (address_space_bytes && (failed = set_limit(RLIMIT_AS, address_space_bytes))) return failed;
    if (file_size_bytes && (failed = set_limit(RLIMIT_FSIZE, file_size_bytes))) return failed;
    signal(SIGXFSZ, SIG_IGN);
    return 0;
}

int kiln_sandbox_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : errno;
}

int kiln_sandbox_seccomp(int *denied) {
    *denied = 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return -ENOMEM;
    // Every thread of the process, not only the caller (Swift's runtime and NIO
    // started theirs before this runs); the kernel then also gives each of them
    // the caller's no_new_privs.
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc) {
        seccomp_release(ctx);
        return rc;
    }
    // A worker decodes, talks to PostgreSQL and the store over TCP or a Unix
    // socket, and writes its scratch directory. It never starts programs,
    // debugs or reads other processes, changes mounts or namespaces, loads
    // kernel code or BPF, or uses the kernel keyring: code that a hostile file
    // managed to run in a codec finds those closed.
    const int closed[] = {
        SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
        SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_getfd), SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
        SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
        SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(bpf),
        SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
        SCMP_SYS(userfaultfd), SCMP_SYS(personality), SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(reboot),
        SCMP_SYS(acct), SCMP_SYS(quotactl), SCMP_SYS(syslog), SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
        SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at), SCMP_SYS(lookup_dcookie), SCMP_SYS(fanotify_init),
        SCMP_SYS(mbind), SCMP_SYS(move_pages), SCMP_SYS(migrate_pages), SCMP_SYS(setuid), SCMP_SYS(setgid),
        SCMP_SYS(setreuid), SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
    };
    for (unsigned i = 0; i < sizeof closed / sizeof closed[0]; i++) {
        // A call this architecture lacks is skipped (libseccomp answers -EDOM or -EINVAL).
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), closed[i], 0) == 0) (*denied)++;
    }
    // clone3 passes its flags in memory, where a filter cannot look: refuse it as
    // unknown so glibc uses clone, and refuse clone with namespace flags.
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) == 0) (*denied)++;
    const unsigned long namespaces = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                                     CLONE_NEWUTS | CLONE_NEWCGROUP;
    for (unsigned bit = 0; bit < 64; bit++) {
        unsigned long flag = 1UL << bit;
        if (!(namespaces & flag)) continue;
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)) == 0)
            (*denied)++;
    }
    // Raw and packet sockets: a worker speaks TCP and Unix sockets only.
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_PACKET)) == 0) (*denied)++;
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)) == 0)
        (*denied)++;
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

int kiln_sandbox_pipe(int ends[2]) {
    return pipe2(ends, O_CLOEXEC) == 0 ? 0 : errno;
}

void kiln_sandbox_crash_segv(void) {
    // Through a volatile pointer, so the compiler cannot prove it and drop it.
    volatile int *nowhere = (volatile int *)0;
    *nowhere = 1;
}
