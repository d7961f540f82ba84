/*
 * faultfs: a FUSE passthrough file system that injects faults on request.
 *
 * Usage: faultfs BACKING_DIR MOUNTPOINT [FUSE options, e.g. -f]
 *
 * Every operation is passed to BACKING_DIR through *at() system calls on a descriptor opened
 * at start, so the daemon is independent of its working directory. The kernel is told not to
 * cache attributes, entries or negative lookups (overridable with -o), so every stat(), link()
 * and lookup reaches the daemon and an injected fault is seen exactly where it was asked for.
 *
 * Faults are armed at run time by writing lines to the virtual file .faultfs-ctl at the mount
 * root; reading it reports call and fault counters and the armed rules. The file is not listed
 * by readdir and is never counted or faulted itself. Control language (one command a line):
 *
 *   <op>_before <errno> [count [match]]  fail the call with errno, doing nothing
 *   <op>_after <errno> [count [match]]   do the call; if it succeeded, return errno anyway
 *                                        (a lost reply)
 *   delay <op> <ms> [count [match]]      sleep ms before doing the call
 *   clear                                drop every rule
 *   reset                                zero the counters
 *
 * count is a positive number of calls (default 1) or "inf"; match, when given, restricts the
 * rule to calls whose path (either path, for link and rename) contains it. errno is a name such
 * as EIO or a number. Rules are checked in the order they were written; a rule is dropped once
 * its count is used up.
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags fuse3) faultfs.c
 *        $(pkg-config --libs fuse3) -o faultfs
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31

#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define CTL_PATH "/.faultfs-ctl"
#define MAX_RULES 64
#define MAX_MATCH 256
#define MAX_LINE 512
#define REPORT_SIZE 8192

/* The operations that are counted and can be faulted, with their names in the control language. */
#define OPS(X)                                                                                 \
    X(getattr) X(access) X(readlink) X(readdir) X(mknod) X(mkdir) X(unlink) X(rmdir)           \
    X(symlink) X(rename) X(link) X(chmod) X(chown) X(truncate) X(utimens) X(create) X(open)   \
    X(read) X(write) X(flush) X(fsync) X(statfs)

#define OP_ENUM(name) OP_##name,
enum op { OPS(OP_ENUM) OP_COUNT };

#define OP_NAME(name) #name,
static const char *const op_names[OP_COUNT] = {OPS(OP_NAME)};

#define ERRNOS(X)                                                                              \
    X(EPERM) X(ENOENT) X(EINTR) X(EIO) X(ENXIO) X(EBADF) X(EAGAIN) X(ENOMEM) X(EACCES)         \
    X(EBUSY) X(EEXIST) X(EXDEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(EFBIG) X(ENOSPC) X(EROFS)     \
    X(EMLINK) X(ENAMETOOLONG) X(ENOLCK) X(ENOTEMPTY) X(ELOOP) X(EOVERFLOW) X(ENOTCONN)         \
    X(ECONNRESET) X(ETIMEDOUT) X(ESTALE) X(EDQUOT) X(EREMOTEIO)

struct errno_name {
    const char *name;
    int value;
};

#define ERRNO_ENTRY(e) {#e, e},
static const struct errno_name errno_names[] = {ERRNOS(ERRNO_ENTRY)};

enum when { BEFORE, AFTER, DELAY };
static const char *const when_names[] = {"before", "after", "delay"};

struct rule {
    enum op op;
    enum when when;
    int err;       /* BEFORE, AFTER: the errno returned */
    unsigned ms;   /* DELAY: the sleep */
    long left;     /* calls still to affect; -1 = until cleared */
    char match[MAX_MATCH];
};

/* A handle on the control file: the report taken at open, and a partial command line. */
struct ctl_handle {
    char report[REPORT_SIZE];
    size_t report_len;
    char line[MAX_LINE];
    size_t line_len;
};

static struct {
    int backing; /* descriptor of BACKING_DIR */
    pthread_mutex_t lock;
    struct rule rules[MAX_RULES];
    size_t nrules;
    unsigned long calls[OP_COUNT];
    unsigned long faults[OP_COUNT];
} fs = {.backing = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- fault rules ------------------------------------------------------------------------ */

static int rule_matches(const struct rule *r, enum op op, enum when when, const char *p1,
                        const char *p2)
{
    if (r->op != op || r->when != when || r->left == 0)
        return 0;
    if (r->match[0] == '\0')
        return 1;
    return (p1 && strstr(p1, r->match)) || (p2 && strstr(p2, r->match));
}

/* Takes one use of the first rule that applies; returns 1 and copies it out if there was one. */
static int take_rule(enum op op, enum when when, const char *p1, const char *p2,
                     struct rule *out)
{
    int found = 0;

    pthread_mutex_lock(&fs.lock);
    for (size_t i = 0; i < fs.nrules; i++) {
        struct rule *r = &fs.rules[i];
        if (!rule_matches(r, op, when, p1, p2))
            continue;
        *out = *r;
        found = 1;
        if (when != DELAY)
            fs.faults[op]++;
        if (r->left > 0 && --r->left == 0) {
            memmove(r, r + 1, (fs.nrules - i - 1) * sizeof *r);
            fs.nrules--;
        }
        break;
    }
    pthread_mutex_unlock(&fs.lock);
    return found;
}

/* Called on entry to every operation: counts it, applies a delay, returns -errno to fail. */
static int fault_before(enum op op, const char *p1, const char *p2)
{
    struct rule r;

    pthread_mutex_lock(&fs.lock);
    fs.calls[op]++;
    pthread_mutex_unlock(&fs.lock);

    if (take_rule(op, DELAY, p1, p2, &r)) {
        struct timespec ts = {.tv_sec = r.ms / 1000, .tv_nsec = (long)(r.ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (take_rule(op, BEFORE, p1, p2, &r))
        return -r.err;
    return 0;
}

/* Called with the result of a done operation (>= 0 is success): replaces a success by -errno. */
static int fault_after(enum op op, const char *p1, const char *p2, int res)
{
    struct rule r;

    if (res >= 0 && take_rule(op, AFTER, p1, p2, &r))
        return -r.err;
    return res;
}

/* ---- control language ------------------------------------------------------------------- */

static int parse_op(const char *s, size_t len, enum op *op)
{
    for (int i = 0; i < OP_COUNT; i++) {
        if (strlen(op_names[i]) == len && strncmp(op_names[i], s, len) == 0) {
            *op = (enum op)i;
            return 0;
        }
    }
    return -1;
}

static int parse_errno(const char *s, int *err)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++) {
        if (strcmp(errno_names[i].name, s) == 0) {
            *err = errno_names[i].value;
            return 0;
        }
    }

    char *end;
    long v = strtol(s, &end, 10);
    /* ENOSYS would make the kernel stop sending the operation for the rest of the mount. */
    if (*s == '\0' || *end != '\0' || v <= 0 || v >= 4096 || v == ENOSYS)
        return -1;
    *err = (int)v;
    return 0;
}

static int parse_count(const char *s, long *count)
{
    if (s == NULL) {
        *count = 1;
        return 0;
    }
    if (strcmp(s, "inf") == 0) {
        *count = -1;
        return 0;
    }

    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return -1;
    *count = v;
    return 0;
}

static const char *errno_name(int err)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].value == err)
            return errno_names[i].name;
    return NULL;
}

/* Splits line into at most max whitespace-separated words; returns their number or -1. */
static int split(char *line, char **words, int max)
{
    int n = 0;

    for (char *save = NULL, *w = strtok_r(line, " \t\r", &save); w != NULL;
         w = strtok_r(NULL, " \t\r", &save)) {
        if (n == max)
            return -1;
        words[n++] = w;
    }
    return n;
}

/* Executes one command line; returns 0 or -EINVAL. */
static int run_command(char *line)
{
    char *w[6];
    int n = split(line, w, 6);
    struct rule r = {0};

    if (n == 0 || (n > 0 && w[0][0] == '#'))
        return 0;
    if (n < 0)
        return -EINVAL;

    if (n == 1 && strcmp(w[0], "clear") == 0) {
        pthread_mutex_lock(&fs.lock);
        fs.nrules = 0;
        pthread_mutex_unlock(&fs.lock);
        return 0;
    }
    if (n == 1 && strcmp(w[0], "reset") == 0) {
        pthread_mutex_lock(&fs.lock);
        memset(fs.calls, 0, sizeof fs.calls);
        memset(fs.faults, 0, sizeof fs.faults);
        pthread_mutex_unlock(&fs.lock);
        return 0;
    }

    const char *count;
    const char *match;
    if (strcmp(w[0], "delay") == 0) {
        char *end;
        unsigned long ms;
        if (n < 3 || n > 5 || parse_op(w[1], strlen(w[1]), &r.op) != 0)
            return -EINVAL;
        ms = strtoul(w[2], &end, 10);
        if (*w[2] == '\0' || *w[2] == '-' || *end != '\0' || ms > 3600000)
            return -EINVAL;
        r.when = DELAY;
        r.ms = (unsigned)ms;
        count = n > 3 ? w[3] : NULL;
        match = n > 4 ? w[4] : NULL;
    } else {
        const char *sep = strrchr(w[0], '_');
        if (n < 2 || n > 4 || sep == NULL || parse_op(w[0], (size_t)(sep - w[0]), &r.op) != 0)
            return -EINVAL;
        if (strcmp(sep + 1, "before") == 0)
            r.when = BEFORE;
        else if (strcmp(sep + 1, "after") == 0)
            r.when = AFTER;
        else
            return -EINVAL;
        if (parse_errno(w[1], &r.err) != 0)
            return -EINVAL;
        count = n > 2 ? w[2] : NULL;
        match = n > 3 ? w[3] : NULL;
    }
    if (parse_count(count, &r.left) != 0)
        return -EINVAL;
    if (match != NULL) {
        if (strlen(match) >= sizeof r.match)
            return -EINVAL;
        strcpy(r.match, match);
    }

    int res = 0;
    pthread_mutex_lock(&fs.lock);
    if (fs.nrules == MAX_RULES)
        res = -ENOSPC;
    else
        fs.rules[fs.nrules++] = r;
    pthread_mutex_unlock(&fs.lock);
    return res;
}

/* Runs every complete line in the handle's buffer; keeps a trailing partial line. */
static int run_lines(struct ctl_handle *h, int flush_partial)
{
    int res = 0;
    char *start = h->line;
    char *nl;

    while ((nl = memchr(start, '\n', h->line_len - (size_t)(start - h->line))) != NULL) {
        *nl = '\0';
        if (res == 0)
            res = run_command(start);
        start = nl + 1;
    }
    h->line_len -= (size_t)(start - h->line);
    memmove(h->line, start, h->line_len);

    if (flush_partial && h->line_len > 0) {
        h->line[h->line_len] = '\0';
        if (res == 0)
            res = run_command(h->line);
        h->line_len = 0;
    }
    return res;
}

static void append(struct ctl_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void append(struct ctl_handle *h, const char *fmt, ...)
{
    size_t room = sizeof h->report - h->report_len;
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(h->report + h->report_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        h->report_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void take_report(struct ctl_handle *h)
{
    unsigned long total = 0;

    pthread_mutex_lock(&fs.lock);
    for (int i = 0; i < OP_COUNT; i++)
        total += fs.faults[i];
    append(h, "faults %lu\n", total);
    for (int i = 0; i < OP_COUNT; i++)
        append(h, "op %s calls %lu faults %lu\n", op_names[i], fs.calls[i], fs.faults[i]);
    for (size_t i = 0; i < fs.nrules; i++) {
        const struct rule *r = &fs.rules[i];
        char left[24];
        if (r->left < 0)
            strcpy(left, "inf");
        else
            snprintf(left, sizeof left, "%ld", r->left);
        if (r->when == DELAY) {
            append(h, "rule delay %s %u %s%s%s\n", op_names[r->op], r->ms, left,
                   r->match[0] ? " " : "", r->match);
        } else {
            const char *name = errno_name(r->err);
            char num[16];
            if (name == NULL) {
                snprintf(num, sizeof num, "%d", r->err);
                name = num;
            }
            append(h, "rule %s_%s %s %s%s%s\n", op_names[r->op], when_names[r->when], name,
                   left, r->match[0] ? " " : "", r->match);
        }
    }
    pthread_mutex_unlock(&fs.lock);
}

/* What fi->fh points to: a backing file's descriptor, or the state of an open control file. */
struct handle {
    int fd;                 /* -1 for the control file */
    struct ctl_handle *ctl; /* NULL for a backing file */
};

static struct handle *handle_of(const struct fuse_file_info *fi)
{
    return (struct handle *)(uintptr_t)fi->fh;
}

/* True when a call is about the control file, known by its handle or its path. */
static int is_ctl(const char *path, const struct fuse_file_info *fi)
{
    if (fi != NULL)
        return handle_of(fi)->ctl != NULL;
    return path != NULL && strcmp(path, CTL_PATH) == 0;
}

static int new_handle(struct fuse_file_info *fi, int fd, struct ctl_handle *ctl)
{
    struct handle *h = malloc(sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    h->fd = fd;
    h->ctl = ctl;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static void free_handle(struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);
    if (h->fd >= 0)
        close(h->fd);
    free(h->ctl);
    free(h);
}

/* ---- passthrough ------------------------------------------------------------------------ */

/*
 * Paths are relative to the mount root and start with "/"; they are NULL for calls on an open
 * file (nullpath_ok), which then use the handle's descriptor.
 */
static const char *rel(const char *path)
{
    return path[1] == '\0' ? "." : path + 1;
}

static int check(int res)
{
    return res < 0 ? -errno : res;
}

static void *ffs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->use_ino = 1;     /* real inode numbers: lock code compares them */
    cfg->hard_remove = 1; /* no .fuse_hidden files in lock directories */
    cfg->nullpath_ok = 1; /* an unlinked open file stays usable through its descriptor */
    return NULL;
}

static int ffs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    if (is_ctl(path, fi)) {
        memset(st, 0, sizeof *st);
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        st->st_uid = getuid();
        st->st_gid = getgid();
        return 0;
    }

    int res = fault_before(OP_getattr, path, NULL);
    if (res == 0) {
        if (fi != NULL)
            res = check(fstat(handle_of(fi)->fd, st));
        else
            res = check(fstatat(fs.backing, rel(path), st, AT_SYMLINK_NOFOLLOW));
    }
    return fault_after(OP_getattr, path, NULL, res);
}

static int ffs_access(const char *path, int mask)
{
    if (is_ctl(path, NULL))
        return 0;

    int res = fault_before(OP_access, path, NULL);
    if (res == 0)
        res = check(faccessat(fs.backing, rel(path), mask, 0));
    return fault_after(OP_access, path, NULL, res);
}

static int ffs_readlink(const char *path, char *buf, size_t size)
{
    int res = fault_before(OP_readlink, path, NULL);
    if (res == 0) {
        ssize_t n = readlinkat(fs.backing, rel(path), buf, size - 1);
        if (n < 0)
            res = -errno;
        else
            buf[n] = '\0';
    }
    return fault_after(OP_readlink, path, NULL, res);
}

static int ffs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    (void)fi;
    (void)flags;

    int res = fault_before(OP_readdir, path, NULL);
    if (res != 0)
        return res;

    int fd = openat(fs.backing, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        res = -errno;
        close(fd);
        return res;
    }

    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        struct stat st = {.st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type)};
        if (fill(buf, de->d_name, &st, 0, 0) != 0)
            break;
    }
    closedir(dir);
    return fault_after(OP_readdir, path, NULL, 0);
}

static int ffs_mknod(const char *path, mode_t mode, dev_t rdev)
{
    int res = fault_before(OP_mknod, path, NULL);
    if (res == 0)
        res = check(mknodat(fs.backing, rel(path), mode, rdev));
    return fault_after(OP_mknod, path, NULL, res);
}

static int ffs_mkdir(const char *path, mode_t mode)
{
    int res = fault_before(OP_mkdir, path, NULL);
    if (res == 0)
        res = check(mkdirat(fs.backing, rel(path), mode));
    return fault_after(OP_mkdir, path, NULL, res);
}

static int ffs_unlink(const char *path)
{
    if (is_ctl(path, NULL))
        return -EPERM;

    int res = fault_before(OP_unlink, path, NULL);
    if (res == 0)
        res = check(unlinkat(fs.backing, rel(path), 0));
    return fault_after(OP_unlink, path, NULL, res);
}

static int ffs_rmdir(const char *path)
{
    int res = fault_before(OP_rmdir, path, NULL);
    if (res == 0)
        res = check(unlinkat(fs.backing, rel(path), AT_REMOVEDIR));
    return fault_after(OP_rmdir, path, NULL, res);
}

static int ffs_symlink(const char *target, const char *path)
{
    int res = fault_before(OP_symlink, path, NULL);
    if (res == 0)
        res = check(symlinkat(target, fs.backing, rel(path)));
    return fault_after(OP_symlink, path, NULL, res);
}

static int ffs_rename(const char *from, const char *to, unsigned int flags)
{
    if (is_ctl(from, NULL) || is_ctl(to, NULL))
        return -EPERM;

    int res = fault_before(OP_rename, from, to);
    if (res == 0)
        res = check(renameat2(fs.backing, rel(from), fs.backing, rel(to), flags));
    return fault_after(OP_rename, from, to, res);
}

static int ffs_link(const char *from, const char *to)
{
    if (is_ctl(from, NULL) || is_ctl(to, NULL))
        return -EPERM;

    int res = fault_before(OP_link, from, to);
    if (res == 0)
        res = check(linkat(fs.backing, rel(from), fs.backing, rel(to), 0));
    return fault_after(OP_link, from, to, res);
}

static int ffs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    if (is_ctl(path, fi))
        return -EPERM;

    int res = fault_before(OP_chmod, path, NULL);
    if (res == 0) {
        if (fi != NULL)
            res = check(fchmod(handle_of(fi)->fd, mode));
        else
            res = check(fchmodat(fs.backing, rel(path), mode, 0));
    }
    return fault_after(OP_chmod, path, NULL, res);
}

static int ffs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    if (is_ctl(path, fi))
        return -EPERM;

    int res = fault_before(OP_chown, path, NULL);
    if (res == 0) {
        if (fi != NULL)
            res = check(fchown(handle_of(fi)->fd, uid, gid));
        else
            res = check(fchownat(fs.backing, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
    }
    return fault_after(OP_chown, path, NULL, res);
}

static int ffs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (is_ctl(path, fi))
        return 0; /* "echo cmd > .faultfs-ctl" truncates first */

    int res = fault_before(OP_truncate, path, NULL);
    if (res == 0) {
        if (fi != NULL) {
            res = check(ftruncate(handle_of(fi)->fd, size));
        } else {
            int fd = openat(fs.backing, rel(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
            res = fd < 0 ? -errno : 0;
            if (fd >= 0) {
                res = check(ftruncate(fd, size));
                close(fd);
            }
        }
    }
    return fault_after(OP_truncate, path, NULL, res);
}

static int ffs_utimens(const char *path, const struct timespec ts[2], struct fuse_file_info *fi)
{
    if (is_ctl(path, fi))
        return 0;

    int res = fault_before(OP_utimens, path, NULL);
    if (res == 0) {
        if (fi != NULL)
            res = check(futimens(handle_of(fi)->fd, ts));
        else
            res = check(utimensat(fs.backing, rel(path), ts, AT_SYMLINK_NOFOLLOW));
    }
    return fault_after(OP_utimens, path, NULL, res);
}

/* Opens (or creates, with O_CREAT in flags) a backing file and gives it a handle. */
static int open_backing(enum op op, const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int res = fault_before(op, path, NULL);
    if (res != 0)
        return res;

    int fd = openat(fs.backing, rel(path), fi->flags | O_CLOEXEC, mode);
    if (fd < 0)
        return fault_after(op, path, NULL, -errno);

    res = fault_after(op, path, NULL, 0);
    if (res == 0)
        res = new_handle(fi, fd, NULL);
    if (res != 0)
        close(fd); /* on an injected fault, the file is open(ed) and the reply lost */
    return res;
}

static int ffs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return open_backing(OP_create, path, mode, fi);
}

static int ffs_open(const char *path, struct fuse_file_info *fi)
{
    if (!is_ctl(path, NULL))
        return open_backing(OP_open, path, 0, fi);

    struct ctl_handle *ctl = calloc(1, sizeof *ctl);
    if (ctl == NULL)
        return -ENOMEM;
    take_report(ctl);
    int res = new_handle(fi, -1, ctl);
    if (res != 0) {
        free(ctl);
        return res;
    }
    fi->direct_io = 1; /* the report is generated: its size is not st_size */
    fi->nonseekable = 1;
    return 0;
}

static int ffs_read(const char *path, char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);

    if (h->ctl != NULL) {
        struct ctl_handle *c = h->ctl;
        if ((size_t)off >= c->report_len)
            return 0;
        size_t n = c->report_len - (size_t)off < size ? c->report_len - (size_t)off : size;
        memcpy(buf, c->report + off, n);
        return (int)n;
    }

    int res = fault_before(OP_read, path, NULL);
    if (res == 0)
        res = check((int)pread(h->fd, buf, size, off));
    return fault_after(OP_read, path, NULL, res);
}

static int write_ctl(struct ctl_handle *c, const char *buf, size_t size)
{
    size_t done = 0;

    while (done < size) {
        size_t n = size - done;
        if (n > sizeof c->line - 1 - c->line_len)
            n = sizeof c->line - 1 - c->line_len;
        if (n == 0) {
            c->line_len = 0; /* a line longer than any command */
            return -EINVAL;
        }
        memcpy(c->line + c->line_len, buf + done, n);
        c->line_len += n;
        done += n;
        int res = run_lines(c, 0);
        if (res != 0)
            return res;
    }
    return (int)size;
}

static int ffs_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);

    if (h->ctl != NULL)
        return write_ctl(h->ctl, buf, size);

    int res = fault_before(OP_write, path, NULL);
    if (res == 0)
        res = check((int)pwrite(h->fd, buf, size, off));
    return fault_after(OP_write, path, NULL, res);
}

static int ffs_flush(const char *path, struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);

    if (h->ctl != NULL)
        return run_lines(h->ctl, 1);

    /* Writes go straight to the backing file; flush exists so that close() can be faulted. */
    int res = fault_before(OP_flush, path, NULL);
    return fault_after(OP_flush, path, NULL, res);
}

static int ffs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);

    if (h->ctl != NULL)
        return 0;

    int res = fault_before(OP_fsync, path, NULL);
    if (res == 0)
        res = check(datasync ? fdatasync(h->fd) : fsync(h->fd));
    return fault_after(OP_fsync, path, NULL, res);
}

static int ffs_statfs(const char *path, struct statvfs *st)
{
    int res = fault_before(OP_statfs, path, NULL);
    if (res == 0)
        res = check(fstatvfs(fs.backing, st));
    return fault_after(OP_statfs, path, NULL, res);
}

static int ffs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    free_handle(fi);
    return 0;
}

static const struct fuse_operations ffs_ops = {
    .init = ffs_init,
    .getattr = ffs_getattr,
    .access = ffs_access,
    .readlink = ffs_readlink,
    .readdir = ffs_readdir,
    .mknod = ffs_mknod,
    .mkdir = ffs_mkdir,
    .unlink = ffs_unlink,
    .rmdir = ffs_rmdir,
    .symlink = ffs_symlink,
    .rename = ffs_rename,
    .link = ffs_link,
    .chmod = ffs_chmod,
    .chown = ffs_chown,
    .truncate = ffs_truncate,
    .utimens = ffs_utimens,
    .create = ffs_create,
    .open = ffs_open,
    .read = ffs_read,
    .write = ffs_write,
    .flush = ffs_flush,
    .fsync = ffs_fsync,
    .statfs = ffs_statfs,
    .release = ffs_release,
};

int main(int argc, char *argv[])
{
    if (argc < 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s BACKING_DIR MOUNTPOINT [FUSE options]\n", argv[0]);
        return 2;
    }

    fs.backing = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs.backing < 0) {
        fprintf(stderr, "faultfs: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }

    /* No caching by default; options given on the command line come later and win. */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL)
        return 1;
    int n = 0;
    args[n++] = argv[0];
    args[n++] = "-o";
    args[n++] = "attr_timeout=0,entry_timeout=0,negative_timeout=0,max_threads=16,"
                "fsname=faultfs,subtype=faultfs";
    for (int i = 2; i < argc; i++)
        args[n++] = argv[i];

    int res = fuse_main(n, args, &ffs_ops, NULL);
    free(args);
    return res;
}
