/* The floor: the fewest system calls an uncontended cycle of the link protocol can make, with no
 * verification, no waiting and no breaking. Two variants (--opt claim=fresh|reused):
 *
 *   fresh   acquire: open(claim, O_CREAT|O_EXCL), write(claim path), futimens(expiry), close,
 *                    link(claim, lock)
 *           release: unlink(lock), unlink(claim)
 *   reused  the claim is created once and kept open;
 *           acquire: futimens(expiry), link(claim, lock)
 *           release: unlink(lock)
 *
 * The claim is named like a locknix/flufl.lock claim: "<lock>|<host>|<pid>|<random>". A lock that
 * is already held is an error: the floor only measures uncontended cycles. */
#define _GNU_SOURCE
#include "bench_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct floor_lock {
    char lock_path[PATH_MAX];
    char claim_path[PATH_MAX];
    size_t claim_length;
    int reuse_claim;
    int claim_fd;
    int64_t lifetime_s;
};

static int make_claim_path(struct floor_lock* self) {
    char host[256];
    if (gethostname(host, sizeof host) != 0) {
        bench_perror("gethostname for", self->lock_path);
        return -1;
    }
    host[sizeof host - 1] = '\0';

    uint32_t random_part = 0;
    if (getrandom(&random_part, sizeof random_part, 0) != (ssize_t)sizeof random_part) {
        bench_perror("getrandom for", self->lock_path);
        return -1;
    }

    int length = snprintf(self->claim_path, sizeof self->claim_path, "%s|%s|%ld|%" PRIu32,
                          self->lock_path, host, (long)getpid(), random_part);
    if (length < 0 || (size_t)length >= sizeof self->claim_path) {
        fprintf(stderr, "floor: claim path too long for %s\n", self->lock_path);
        return -1;
    }
    self->claim_length = (size_t)length;
    return 0;
}

static int stamp_expiry(struct floor_lock* self) {
    struct timespec times[2];
    if (clock_gettime(CLOCK_REALTIME, &times[0]) != 0) {
        bench_perror("clock_gettime for", self->claim_path);
        return -1;
    }
    times[0].tv_sec += self->lifetime_s;
    times[1] = times[0];
    if (futimens(self->claim_fd, times) != 0) {
        bench_perror("futimens", self->claim_path);
        return -1;
    }
    return 0;
}

/* Creates the claim file, writes its own path into it and leaves it open in claim_fd. */
static int create_claim(struct floor_lock* self) {
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    self->claim_fd = open(self->claim_path, flags, 0644);
    if (self->claim_fd < 0) {
        bench_perror("open", self->claim_path);
        return -1;
    }

    ssize_t written = write(self->claim_fd, self->claim_path, self->claim_length);
    if (written != (ssize_t)self->claim_length) {
        if (written >= 0)
            errno = EIO;
        bench_perror("write", self->claim_path);
        close(self->claim_fd);
        self->claim_fd = -1;
        return -1;
    }
    return 0;
}

static int close_claim(struct floor_lock* self) {
    int result = close(self->claim_fd);
    self->claim_fd = -1;
    if (result != 0) {
        bench_perror("close", self->claim_path);
        return -1;
    }
    return 0;
}

static int link_lock(struct floor_lock* self) {
    if (link(self->claim_path, self->lock_path) != 0) {
        bench_perror("link to", self->lock_path);
        return -1;
    }
    return 0;
}

static int unlink_path(const char* path) {
    if (unlink(path) != 0) {
        bench_perror("unlink", path);
        return -1;
    }
    return 0;
}

static void* floor_open(const char* lock_path, const struct bench_option* options,
                        int option_count) {
    const char* claim = bench_option_value(options, option_count, "claim", "reused");
    int64_t lifetime_s = bench_option_int(options, option_count, "lifetime_s", 30);
    if (lifetime_s < 0)
        return NULL;
    if (strcmp(claim, "fresh") != 0 && strcmp(claim, "reused") != 0) {
        fprintf(stderr, "floor: --opt claim=fresh or claim=reused, not %s\n", claim);
        return NULL;
    }

    struct floor_lock* self = calloc(1, sizeof *self);
    if (self == NULL) {
        fprintf(stderr, "floor: no memory for %s\n", lock_path);
        return NULL;
    }
    self->reuse_claim = strcmp(claim, "reused") == 0;
    self->claim_fd = -1;
    self->lifetime_s = lifetime_s;
    if (strlen(lock_path) >= sizeof self->lock_path) {
        fprintf(stderr, "floor: lock path too long: %s\n", lock_path);
        free(self);
        return NULL;
    }
    strcpy(self->lock_path, lock_path);

    if (make_claim_path(self) != 0 || (self->reuse_claim && create_claim(self) != 0)) {
        free(self);
        return NULL;
    }
    return self;
}

static int floor_acquire(void* opaque, int64_t timeout_ms) {
    struct floor_lock* self = opaque;
    (void)timeout_ms;

    if (self->reuse_claim)
        return stamp_expiry(self) == 0 && link_lock(self) == 0 ? 0 : -1;

    if (create_claim(self) != 0)
        return -1;
    if (stamp_expiry(self) != 0) {
        close_claim(self);
        return -1;
    }
    if (close_claim(self) != 0)
        return -1;
    return link_lock(self);
}

static int floor_release(void* opaque) {
    struct floor_lock* self = opaque;
    if (unlink_path(self->lock_path) != 0)
        return -1;
    if (!self->reuse_claim)
        return unlink_path(self->claim_path);
    return 0;
}

static void floor_close(void* opaque) {
    struct floor_lock* self = opaque;
    if (self->reuse_claim && self->claim_fd >= 0) {
        close_claim(self);
        unlink_path(self->claim_path);
    }
    free(self);
}

int main(int argc, char** argv) {
    static const struct bench_peer peer = {
        .name = "floor",
        .open = floor_open,
        .acquire = floor_acquire,
        .release = floor_release,
        .close = floor_close,
    };
    return bench_main(argc, argv, &peer);
}
