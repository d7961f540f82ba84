/* liblockfile, Debian's C dotlock library.
 *
 *   default            acquire: lockfile_create(path, retries, 0); release: lockfile_remove(path).
 *                      Between tries the library sleeps 5 s, then 10 s, ... up to 60 s; 1.17
 *                      exports no way to shorten that (lockfile_create2 is not in the .so).
 *   --opt interval=S   acquire: runs `dotlockfile -l -r RETRIES -i S PATH`, the command-line tool
 *                      of the same package, whose -i sets a fixed pause of S seconds between tries
 *                      (0 means no pause at all: it spins). release: lockfile_remove(path).
 *   --opt retries=N    how many tries after the first (default 0: one try, as in the uncontended
 *                      cycle); the timeout is not used, liblockfile has none.
 */
#define _GNU_SOURCE
#include "bench_driver.h"

#include <errno.h>
#include <inttypes.h>
#include <lockfile.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char** environ;

struct liblockfile_lock {
    const char* lock_path;
    int retries;
    char retries_text[24];
    const char* interval;
    const char* dotlockfile;
};

static const char* create_error_text(int code) {
    switch (code) {
    case L_NAMELEN:
        return "name too long";
    case L_TMPLOCK:
        return "cannot create the temporary lock file";
    case L_TMPWRITE:
        return "cannot write the temporary lock file";
    case L_MAXTRYS:
        return "still locked after the last retry";
    case L_ERROR:
        return "error";
    case L_MANLOCK:
        return "cannot set a mandatory lock";
    case L_ORPHANED:
        return "orphaned";
    case L_RMSTALE:
        return "cannot remove a stale lock";
    default:
        return "unknown result";
    }
}

static void* liblockfile_open(const char* lock_path, const struct bench_option* options,
                              int option_count) {
    int64_t retries = bench_option_int(options, option_count, "retries", 0);
    if (retries < 0)
        return NULL;
    if (retries > 1000000) {
        fprintf(stderr, "liblockfile: retries=%" PRId64 " is too many\n", retries);
        return NULL;
    }

    struct liblockfile_lock* self = calloc(1, sizeof *self);
    if (self == NULL) {
        fprintf(stderr, "liblockfile: no memory for %s\n", lock_path);
        return NULL;
    }
    self->lock_path = lock_path;
    self->retries = (int)retries;
    snprintf(self->retries_text, sizeof self->retries_text, "%d", self->retries);
    self->interval = bench_option_value(options, option_count, "interval", NULL);
    self->dotlockfile = bench_option_value(options, option_count, "dotlockfile", "dotlockfile");
    return self;
}

static int acquire_with_library(struct liblockfile_lock* self) {
    int result = lockfile_create(self->lock_path, self->retries, 0);
    if (result != L_SUCCESS) {
        int saved = errno;
        fprintf(stderr, "liblockfile: lockfile_create %s: %s (%d), errno: %s\n", self->lock_path,
                create_error_text(result), result, strerror(saved));
        return -1;
    }
    return 0;
}

static int acquire_with_tool(struct liblockfile_lock* self) {
    char* argv[8];
    argv[0] = (char*)self->dotlockfile;
    argv[1] = "-l";
    argv[2] = "-r";
    argv[3] = self->retries_text;
    argv[4] = "-i";
    argv[5] = (char*)self->interval;
    argv[6] = (char*)self->lock_path;
    argv[7] = NULL;
    pid_t child = 0;
    int error = posix_spawnp(&child, self->dotlockfile, NULL, NULL, argv, environ);
    if (error != 0) {
        errno = error;
        bench_perror("spawn dotlockfile for", self->lock_path);
        return -1;
    }

    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            bench_perror("waitpid for dotlockfile on", self->lock_path);
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        fprintf(stderr, "liblockfile: dotlockfile -l %s: %s (status %d)\n", self->lock_path,
                create_error_text(code), code);
        return -1;
    }
    return 0;
}

static int liblockfile_acquire(void* opaque, int64_t timeout_ms) {
    struct liblockfile_lock* self = opaque;
    (void)timeout_ms;
    return self->interval != NULL ? acquire_with_tool(self) : acquire_with_library(self);
}

static int liblockfile_release(void* opaque) {
    struct liblockfile_lock* self = opaque;
    if (lockfile_remove(self->lock_path) != 0) {
        bench_perror("lockfile_remove", self->lock_path);
        return -1;
    }
    return 0;
}

static void liblockfile_close(void* opaque) {
    free(opaque);
}

int main(int argc, char** argv) {
    static const struct bench_peer peer = {
        .name = "liblockfile",
        .open = liblockfile_open,
        .acquire = liblockfile_acquire,
        .release = liblockfile_release,
        .close = liblockfile_close,
    };
    return bench_main(argc, argv, &peer);
}
