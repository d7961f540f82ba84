/* flock(2), the kernel's queued file lock: the floor for a hand-off, since a waiter sleeps in the
 * kernel and is woken by the release itself. flock(1) makes the same call. Not NFS-safe across
 * hosts, so it is a reference, not a peer for the same job.
 *
 * The lock file is opened once; acquire is flock(LOCK_EX), release is flock(LOCK_UN). A wait has no
 * timeout (flock(2) has none). */
#define _GNU_SOURCE
#include "bench_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

struct flock_lock {
    const char* lock_path;
    int fd;
};

static void* flock_open(const char* lock_path, const struct bench_option* options,
                        int option_count) {
    (void)options;
    (void)option_count;

    struct flock_lock* self = calloc(1, sizeof *self);
    if (self == NULL) {
        fprintf(stderr, "flock: no memory for %s\n", lock_path);
        return NULL;
    }
    self->lock_path = lock_path;
    self->fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (self->fd < 0) {
        bench_perror("open", lock_path);
        free(self);
        return NULL;
    }
    return self;
}

static int lock_operation(struct flock_lock* self, int operation, const char* name) {
    while (flock(self->fd, operation) != 0) {
        if (errno != EINTR) {
            bench_perror(name, self->lock_path);
            return -1;
        }
    }
    return 0;
}

static int flock_acquire(void* opaque, int64_t timeout_ms) {
    (void)timeout_ms;
    return lock_operation(opaque, LOCK_EX, "flock(LOCK_EX)");
}

static int flock_release(void* opaque) {
    return lock_operation(opaque, LOCK_UN, "flock(LOCK_UN)");
}

static void flock_close(void* opaque) {
    struct flock_lock* self = opaque;
    if (close(self->fd) != 0)
        bench_perror("close", self->lock_path);
    free(self);
}

int main(int argc, char** argv) {
    static const struct bench_peer peer = {
        .name = "flock",
        .open = flock_open,
        .acquire = flock_acquire,
        .release = flock_release,
        .close = flock_close,
    };
    return bench_main(argc, argv, &peer);
}
