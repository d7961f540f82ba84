/*
 * faultfs: a FUSE passthrough file system that injects faults on request.
 *
 * Usage: faultfs BACKING_DIR MOUNTPOINT [-f] [-s] [-d] [-o FUSE options]
 *
 * Every operation is passed to BACKING_DIR. A node the kernel knows holds an O_PATH descriptor of
 * its backing inode, so it keeps meaning that inode when the file is unlinked or another file
 * takes its name, as a local or NFS file handle does; st_ino is the backing inode's number.
 * Attributes, entries and negative lookups are never cached by the kernel (every timeout is 0),
 * so every stat(), lookup and link() reaches the daemon and an injected fault lands exactly on
 * the call it was armed for.
 *
 * Faults are armed at run time by writing lines to the virtual file .faultfs-ctl at the mount
 * root; reading it reports call and fault counters and the armed rules. The file is not listed
 * by readdir and is never counted or faulted itself. Control language, one command a line:
 *
 *   <op>_before <errno> [count [match]]  fail the call with errno, doing nothing
 *   <op>_after <errno> [count [match]]   do the call; if it succeeded, return errno anyway
 *                                        (a lost reply)
 *   delay <op> <ms> [count [match]]      sleep ms before doing the call
 *   clear                                drop every rule
 *   reset                                zero the counters
 *
 * count is a positive number of calls (default 1) or "inf". match, when given, restricts the
 * rule to calls whose file name contains it: the name looked up, created or removed (either
 * name for link and rename), or for a call on a file (getattr, open, utimens, ...) the name it
 * was last looked up by. errno is a name such as EIO or a number. Rules are checked in the
 * order they were written; a rule is dropped once its count is used up.
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags fuse3) faultfs.c
 *        $(pkg-config --libs fuse3) -o faultfs
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 34

#include <fuse_lowlevel.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define CTL_NAME ".faultfs-ctl"
#define MAX_RULES 64
#define MAX_MATCH 256
#define MAX_LINE 512
#define REPORT_SIZE 8192

/* The operations that are counted and can be faulted, with their names in the control language. */
/* clang-format off */
#define OPS(X)                                                                                     \
    X(lookup) X(getattr) X(readlink) X(opendir) X(mknod) X(mkdir) X(unlink) X(rmdir) X(symlink)    \
    X(rename) X(link) X(chmod) X(chown) X(truncate) X(utimens) X(create) X(open) X(read) X(write)  \
    X(flush) X(fsync) X(statfs)
/* clang-format on */

#define OP_ENUM(name) OP_##name,
enum op { OPS(OP_ENUM) OP_COUNT };

#define OP_NAME(name) #name,
static const char* const op_names[OP_COUNT] = {OPS(OP_NAME)};

/* clang-format off */
#define ERRNOS(X)                                                                                  \
    X(EPERM) X(ENOENT) X(EINTR) X(EIO) X(ENXIO) X(EBADF) X(EAGAIN) X(ENOMEM) X(EACCES) X(EBUSY)    \
    X(EEXIST) X(EXDEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(EFBIG) X(ENOSPC) X(EROFS) X(EMLINK)        \
    X(ENAMETOOLONG) X(ENOLCK) X(ENOTEMPTY) X(ELOOP) X(EOVERFLOW) X(ENOTCONN) X(ECONNRESET)         \
    X(ETIMEDOUT) X(ESTALE) X(EDQUOT) X(EREMOTEIO)
/* clang-format on */

struct errno_name {
    const char* name;
    int value;
};

#define ERRNO_ENTRY(e) {#e, e},
static const struct errno_name errno_names[] = {ERRNOS(ERRNO_ENTRY)};

enum when { BEFORE, AFTER, DELAY };
static const char* const when_names[] = {"before", "after", "delay"};

struct rule {
    enum op op;
    enum when when;
    int err;     /* BEFORE, AFTER: the errno returned */
    unsigned ms; /* DELAY: the sleep */
    long left;   /* calls still to affect; -1 = until cleared */
    char match[MAX_MATCH];
};

/* A handle on the control file: the report taken at open, and a partial command line. */
struct ctl_handle {
    char report[REPORT_SIZE];
    size_t report_len;
    char line[MAX_LINE];
    size_t line_len;
};

/*
 * A file the kernel knows (has looked up and not yet forgotten). Its O_PATH descriptor pins the
 * backing inode, so the node keeps meaning that inode even after it is unlinked or another file
 * takes its name, just as a local or NFS file handle does.
 */
struct inode {
    int fd; /* O_PATH | O_NOFOLLOW */
    dev_t dev;
    ino_t ino;
    uint64_t nlookup;          /* the kernel's references */
    char name[NAME_MAX + 1];   /* the name it was last looked up by, for rule matching */
    struct inode *prev, *next; /* the table: a ring through the root */
};

static struct {
    struct inode root;    /* BACKING_DIR, node FUSE_ROOT_ID */
    struct inode ctl;     /* the control file (its fd is -1) */
    pthread_mutex_t lock; /* guards the inode table, the rules and the counters */
    struct rule rules[MAX_RULES];
    size_t nrules;
    unsigned long calls[OP_COUNT];
    unsigned long faults[OP_COUNT];
} fs = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- fault rules ------------------------------------------------------------------------ */

static int rule_matches(const struct rule* r, enum op op, enum when when, const char* p1,
                        const char* p2) {
    if (r->op != op || r->when != when || r->left == 0)
        return 0;
    if (r->match[0] == '\0')
        return 1;
    return (p1 && strstr(p1, r->match)) || (p2 && strstr(p2, r->match));
}

/* Takes one use of the first rule that applies; returns 1 and copies it out if there was one. */
static int take_rule(enum op op, enum when when, const char* p1, const char* p2, struct rule* out) {
    int found = 0;

    pthread_mutex_lock(&fs.lock);
    for (size_t i = 0; i < fs.nrules; i++) {
        struct rule* r = &fs.rules[i];
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
static int fault_before(enum op op, const char* p1, const char* p2) {
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
static int fault_after(enum op op, const char* p1, const char* p2, int res) {
    struct rule r;

    if (res >= 0 && take_rule(op, AFTER, p1, p2, &r))
        return -r.err;
    return res;
}

/* ---- control language ------------------------------------------------------------------- */

static int parse_op(const char* s, size_t len, enum op* op) {
    for (int i = 0; i < OP_COUNT; i++) {
        if (strlen(op_names[i]) == len && strncmp(op_names[i], s, len) == 0) {
            *op = (enum op)i;
            return 0;
        }
    }
    return -1;
}

static int parse_errno(const char* s, int* err) {
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++) {
        if (strcmp(errno_names[i].name, s) == 0) {
            *err = errno_names[i].value;
            return 0;
        }
    }

    char* end;
    long v = strtol(s, &end, 10);
    /* ENOSYS would make the kernel stop sending the operation for the rest of the mount. */
    if (*s == '\0' || *end != '\0' || v <= 0 || v >= 4096 || v == ENOSYS)
        return -1;
    *err = (int)v;
    return 0;
}

static int parse_count(const char* s, long* count) {
    if (s == NULL) {
        *count = 1;
        return 0;
    }
    if (strcmp(s, "inf") == 0) {
        *count = -1;
        return 0;
    }

    char* end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return -1;
    *count = v;
    return 0;
}

static const char* errno_name(int err) {
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].value == err)
            return errno_names[i].name;
    return NULL;
}

/* Splits line into at most max whitespace-separated words; returns their number or -1. */
static int split(char* line, char** words, int max) {
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
static int run_command(char* line) {
    char* w[6];
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

    const char* count;
    const char* match;
    if (strcmp(w[0], "delay") == 0) {
        char* end;
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
        const char* sep = strrchr(w[0], '_');
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
static int run_lines(struct ctl_handle* h, int flush_partial) {
    int res = 0;
    char* start = h->line;
    char* nl;

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

/* Takes written bytes; runs each command line as soon as it is complete. */
static int write_ctl(struct ctl_handle* c, const char* buf, size_t size) {
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

static void append(struct ctl_handle* h, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void append(struct ctl_handle* h, const char* fmt, ...) {
    size_t room = sizeof h->report - h->report_len;
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(h->report + h->report_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        h->report_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void take_report(struct ctl_handle* h) {
    unsigned long total = 0;

    pthread_mutex_lock(&fs.lock);
    for (int i = 0; i < OP_COUNT; i++)
        total += fs.faults[i];
    append(h, "faults %lu\n", total);
    for (int i = 0; i < OP_COUNT; i++)
        append(h, "op %s calls %lu faults %lu\n", op_names[i], fs.calls[i], fs.faults[i]);
    for (size_t i = 0; i < fs.nrules; i++) {
        const struct rule* r = &fs.rules[i];
        char left[24];
        if (r->left < 0)
            strcpy(left, "inf");
        else
            snprintf(left, sizeof left, "%ld", r->left);
        if (r->when == DELAY) {
            append(h, "rule delay %s %u %s%s%s\n", op_names[r->op], r->ms, left,
                   r->match[0] ? " " : "", r->match);
        } else {
            const char* name = errno_name(r->err);
            char num[16];
            if (name == NULL) {
                snprintf(num, sizeof num, "%d", r->err);
                name = num;
            }
            append(h, "rule %s_%s %s %s%s%s\n", op_names[r->op], when_names[r->when], name, left,
                   r->match[0] ? " " : "", r->match);
        }
    }
    pthread_mutex_unlock(&fs.lock);
}

/* ---- open files ------------------------------------------------------------------------- */

/* What fi->fh points to: an open backing file or directory, or an open control file. */
struct handle {
    int fd;                 /* -1 for the control file */
    DIR* dir;               /* a directory opened for listing; owns fd */
    struct ctl_handle* ctl; /* the control file's state */
};

static struct handle* handle_of(const struct fuse_file_info* fi) {
    return (struct handle*)(uintptr_t)fi->fh;
}

static int new_handle(struct fuse_file_info* fi, int fd, DIR* dir, struct ctl_handle* ctl) {
    struct handle* h = malloc(sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    h->fd = fd;
    h->dir = dir;
    h->ctl = ctl;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static void free_handle(struct fuse_file_info* fi) {
    struct handle* h = handle_of(fi);
    if (h->dir != NULL)
        closedir(h->dir);
    else if (h->fd >= 0)
        close(h->fd);
    free(h->ctl);
    free(h);
}

/* ---- inodes ----------------------------------------------------------------------------- */

static struct inode* inode_of(fuse_ino_t node) {
    return node == FUSE_ROOT_ID ? &fs.root : (struct inode*)(uintptr_t)node;
}

static fuse_ino_t node_of(struct inode* in) {
    return in == &fs.root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

static int is_ctl(fuse_ino_t node) {
    return inode_of(node) == &fs.ctl;
}

static int is_ctl_name(fuse_ino_t parent, const char* name) {
    return parent == FUSE_ROOT_ID && strcmp(name, CTL_NAME) == 0;
}

/* Copies the name an inode was last looked up by (for rule matching). */
static void name_of(fuse_ino_t node, char name[NAME_MAX + 1]) {
    pthread_mutex_lock(&fs.lock);
    memcpy(name, inode_of(node)->name, NAME_MAX + 1);
    pthread_mutex_unlock(&fs.lock);
}

static void ctl_attr(struct stat* st) {
    memset(st, 0, sizeof *st);
    st->st_ino = 1;
    st->st_mode = S_IFREG | 0600;
    st->st_nlink = 1;
    st->st_uid = getuid();
    st->st_gid = getgid();
}

static int stat_inode(struct inode* in, struct stat* st) {
    return fstatat(in->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

/* A path that reopens an inode through its O_PATH descriptor. */
static void proc_path(struct inode* in, char buf[64]) {
    snprintf(buf, 64, "/proc/self/fd/%d", in->fd);
}

/* Looks NAME up in PARENT and takes a kernel reference on its inode, filling e. */
static int make_entry(fuse_ino_t parent, const char* name, struct fuse_entry_param* e) {
    memset(e, 0, sizeof *e);
    int fd = openat(inode_of(parent)->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
        int res = -errno;
        close(fd);
        return res;
    }

    pthread_mutex_lock(&fs.lock);
    struct inode* in = &fs.root;
    if (in->ino != e->attr.st_ino || in->dev != e->attr.st_dev) {
        for (in = fs.root.next; in != &fs.root; in = in->next)
            if (in->ino == e->attr.st_ino && in->dev == e->attr.st_dev)
                break;
    }
    if (in == &fs.root && (in->ino != e->attr.st_ino || in->dev != e->attr.st_dev)) {
        in = calloc(1, sizeof *in);
        if (in == NULL) {
            pthread_mutex_unlock(&fs.lock);
            close(fd);
            return -ENOMEM;
        }
        in->fd = fd;
        in->dev = e->attr.st_dev;
        in->ino = e->attr.st_ino;
        in->next = fs.root.next;
        in->prev = &fs.root;
        fs.root.next->prev = in;
        fs.root.next = in;
        fd = -1;
    }
    in->nlookup++;
    snprintf(in->name, sizeof in->name, "%s", name);
    pthread_mutex_unlock(&fs.lock);

    if (fd >= 0)
        close(fd);
    e->ino = node_of(in);
    return 0;
}

static void forget_inode(fuse_ino_t node, uint64_t n) {
    struct inode* in = inode_of(node);
    if (in == &fs.root || in == &fs.ctl)
        return;

    pthread_mutex_lock(&fs.lock);
    in->nlookup -= n;
    int gone = in->nlookup == 0;
    if (gone) {
        in->prev->next = in->next;
        in->next->prev = in->prev;
    }
    pthread_mutex_unlock(&fs.lock);

    if (gone) {
        close(in->fd);
        free(in);
    }
}

/* Replies to a call that made NAME in PARENT, res being its result: with the new entry, or
   with the error of a lost reply. m1 and m2 are the names rules match. */
static void reply_made(fuse_req_t req, enum op op, int res, fuse_ino_t parent, const char* name,
                       const char* m1, const char* m2) {
    struct fuse_entry_param e;

    res = fault_after(op, m1, m2, res);
    if (res == 0)
        res = make_entry(parent, name, &e);
    if (res == 0)
        fuse_reply_entry(req, &e);
    else
        fuse_reply_err(req, -res);
}

static int check(int res) {
    return res < 0 ? -errno : res;
}

/* ---- operations ------------------------------------------------------------------------- */

static void ffs_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    struct fuse_entry_param e;

    if (is_ctl_name(parent, name)) {
        memset(&e, 0, sizeof e);
        e.ino = node_of(&fs.ctl);
        ctl_attr(&e.attr);
        fuse_reply_entry(req, &e);
        return;
    }

    int res = fault_before(OP_lookup, name, NULL);
    if (res == 0)
        res = make_entry(parent, name, &e);
    int final = fault_after(OP_lookup, name, NULL, res);
    if (final != res)
        forget_inode(e.ino, 1); /* the kernel will not know of this lookup */
    if (final == 0)
        fuse_reply_entry(req, &e);
    else
        fuse_reply_err(req, -final);
}

static void ffs_forget(fuse_req_t req, fuse_ino_t node, uint64_t nlookup) {
    forget_inode(node, nlookup);
    fuse_reply_none(req);
}

static void ffs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets) {
    for (size_t i = 0; i < count; i++)
        forget_inode(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

static void ffs_getattr(fuse_req_t req, fuse_ino_t node, struct fuse_file_info* fi) {
    struct stat st;
    char name[NAME_MAX + 1];
    (void)fi;

    if (is_ctl(node)) {
        ctl_attr(&st);
        fuse_reply_attr(req, &st, 0);
        return;
    }

    name_of(node, name);
    int res = fault_before(OP_getattr, name, NULL);
    if (res == 0)
        res = stat_inode(inode_of(node), &st);
    res = fault_after(OP_getattr, name, NULL, res);
    if (res == 0)
        fuse_reply_attr(req, &st, 0);
    else
        fuse_reply_err(req, -res);
}

/* One part of a setattr call (chmod, chown, truncate or utimens), faulted as that call. */
#define SETATTR_STEP(op, call)                                                                     \
    do {                                                                                           \
        if (res == 0) {                                                                            \
            res = fault_before(op, name, NULL);                                                    \
            if (res == 0)                                                                          \
                res = check(call);                                                                 \
            res = fault_after(op, name, NULL, res);                                                \
        }                                                                                          \
    } while (0)

static void ffs_setattr(fuse_req_t req, fuse_ino_t node, struct stat* attr, int valid,
                        struct fuse_file_info* fi) {
    struct stat st;
    char name[NAME_MAX + 1];
    char proc[64];

    if (is_ctl(node)) { /* "echo cmd > .faultfs-ctl" truncates first */
        ctl_attr(&st);
        fuse_reply_attr(req, &st, 0);
        return;
    }

    struct inode* in = inode_of(node);
    int fd = fi != NULL ? handle_of(fi)->fd : -1;
    int res = 0;
    name_of(node, name);
    proc_path(in, proc);

    if (valid & FUSE_SET_ATTR_MODE)
        SETATTR_STEP(OP_chmod, fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(proc, attr->st_mode));
    if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
        gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
        SETATTR_STEP(OP_chown, fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
    }
    if (valid & FUSE_SET_ATTR_SIZE)
        SETATTR_STEP(OP_truncate,
                     fd >= 0 ? ftruncate(fd, attr->st_size) : truncate(proc, attr->st_size));
    if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
        if (valid & FUSE_SET_ATTR_ATIME_NOW)
            ts[0].tv_nsec = UTIME_NOW;
        else if (valid & FUSE_SET_ATTR_ATIME)
            ts[0] = attr->st_atim;
        if (valid & FUSE_SET_ATTR_MTIME_NOW)
            ts[1].tv_nsec = UTIME_NOW;
        else if (valid & FUSE_SET_ATTR_MTIME)
            ts[1] = attr->st_mtim;
        SETATTR_STEP(OP_utimens, fd >= 0 ? futimens(fd, ts) : utimensat(AT_FDCWD, proc, ts, 0));
    }

    if (res == 0)
        res = stat_inode(in, &st);
    if (res == 0)
        fuse_reply_attr(req, &st, 0);
    else
        fuse_reply_err(req, -res);
}

static void ffs_readlink(fuse_req_t req, fuse_ino_t node) {
    char name[NAME_MAX + 1];
    char buf[PATH_MAX + 1];

    name_of(node, name);
    int res = fault_before(OP_readlink, name, NULL);
    if (res == 0) {
        ssize_t n = readlinkat(inode_of(node)->fd, "", buf, sizeof buf - 1);
        if (n < 0)
            res = -errno;
        else
            buf[n] = '\0';
    }
    res = fault_after(OP_readlink, name, NULL, res);
    if (res == 0)
        fuse_reply_readlink(req, buf);
    else
        fuse_reply_err(req, -res);
}

static void ffs_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                      dev_t rdev) {
    int res = fault_before(OP_mknod, name, NULL);
    if (res == 0)
        res = check(mknodat(inode_of(parent)->fd, name, mode, rdev));
    reply_made(req, OP_mknod, res, parent, name, name, NULL);
}

static void ffs_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
    int res = fault_before(OP_mkdir, name, NULL);
    if (res == 0)
        res = check(mkdirat(inode_of(parent)->fd, name, mode));
    reply_made(req, OP_mkdir, res, parent, name, name, NULL);
}

static void ffs_symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
    int res = fault_before(OP_symlink, name, NULL);
    if (res == 0)
        res = check(symlinkat(target, inode_of(parent)->fd, name));
    reply_made(req, OP_symlink, res, parent, name, name, NULL);
}

static void ffs_link(fuse_req_t req, fuse_ino_t node, fuse_ino_t parent, const char* name) {
    char old[NAME_MAX + 1];

    if (is_ctl(node) || is_ctl_name(parent, name)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    name_of(node, old);
    int res = fault_before(OP_link, old, name);
    if (res == 0)
        res = check(linkat(inode_of(node)->fd, "", inode_of(parent)->fd, name, AT_EMPTY_PATH));
    reply_made(req, OP_link, res, parent, name, old, name);
}

static void remove_entry(fuse_req_t req, enum op op, fuse_ino_t parent, const char* name,
                         int flags) {
    if (is_ctl_name(parent, name)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    int res = fault_before(op, name, NULL);
    if (res == 0)
        res = check(unlinkat(inode_of(parent)->fd, name, flags));
    fuse_reply_err(req, -fault_after(op, name, NULL, res));
}

static void ffs_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    remove_entry(req, OP_unlink, parent, name, 0);
}

static void ffs_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
    remove_entry(req, OP_rmdir, parent, name, AT_REMOVEDIR);
}

static void ffs_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                       const char* newname, unsigned int flags) {
    if (is_ctl_name(parent, name) || is_ctl_name(newparent, newname)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    int res = fault_before(OP_rename, name, newname);
    if (res == 0)
        res = check(renameat2(inode_of(parent)->fd, name, inode_of(newparent)->fd, newname, flags));
    fuse_reply_err(req, -fault_after(OP_rename, name, newname, res));
}

static void ffs_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                       struct fuse_file_info* fi) {
    struct fuse_entry_param e;

    int res = fault_before(OP_create, name, NULL);
    if (res != 0) {
        fuse_reply_err(req, -res);
        return;
    }
    int fd = openat(inode_of(parent)->fd, name, fi->flags | O_CREAT | O_CLOEXEC, mode);
    res = fault_after(OP_create, name, NULL, fd < 0 ? -errno : 0);
    if (res == 0)
        res = make_entry(parent, name, &e);
    if (res == 0 && (res = new_handle(fi, fd, NULL, NULL)) != 0)
        forget_inode(e.ino, 1);
    if (res == 0) {
        fuse_reply_create(req, &e, fi);
        return;
    }
    if (fd >= 0)
        close(fd); /* after an injected fault the file exists, the reply is lost */
    fuse_reply_err(req, -res);
}

static void ffs_open(fuse_req_t req, fuse_ino_t node, struct fuse_file_info* fi) {
    char name[NAME_MAX + 1];
    char proc[64];

    if (is_ctl(node)) {
        struct ctl_handle* ctl = calloc(1, sizeof *ctl);
        if (ctl == NULL || new_handle(fi, -1, NULL, ctl) != 0) {
            free(ctl);
            fuse_reply_err(req, ENOMEM);
            return;
        }
        take_report(ctl);
        fi->direct_io = 1; /* the report is generated: its size is not st_size */
        fi->nonseekable = 1;
        fuse_reply_open(req, fi);
        return;
    }

    name_of(node, name);
    int res = fault_before(OP_open, name, NULL);
    if (res != 0) {
        fuse_reply_err(req, -res);
        return;
    }
    proc_path(inode_of(node), proc);
    int fd = open(proc, (fi->flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC);
    res = fault_after(OP_open, name, NULL, fd < 0 ? -errno : 0);
    if (res == 0)
        res = new_handle(fi, fd, NULL, NULL);
    if (res == 0) {
        fuse_reply_open(req, fi);
        return;
    }
    if (fd >= 0)
        close(fd);
    fuse_reply_err(req, -res);
}

static void ffs_read(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
                     struct fuse_file_info* fi) {
    struct handle* h = handle_of(fi);
    char name[NAME_MAX + 1];

    if (h->ctl != NULL) {
        struct ctl_handle* c = h->ctl;
        size_t start = (size_t)off < c->report_len ? (size_t)off : c->report_len;
        size_t n = c->report_len - start < size ? c->report_len - start : size;
        fuse_reply_buf(req, c->report + start, n);
        return;
    }

    char* buf = malloc(size ? size : 1);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    name_of(node, name);
    int res = fault_before(OP_read, name, NULL);
    if (res == 0)
        res = check((int)pread(h->fd, buf, size, off));
    res = fault_after(OP_read, name, NULL, res);
    if (res >= 0)
        fuse_reply_buf(req, buf, (size_t)res);
    else
        fuse_reply_err(req, -res);
    free(buf);
}

static void ffs_write(fuse_req_t req, fuse_ino_t node, const char* buf, size_t size, off_t off,
                      struct fuse_file_info* fi) {
    struct handle* h = handle_of(fi);
    char name[NAME_MAX + 1];
    int res;

    if (h->ctl != NULL) {
        res = write_ctl(h->ctl, buf, size);
    } else {
        name_of(node, name);
        res = fault_before(OP_write, name, NULL);
        if (res == 0)
            res = check((int)pwrite(h->fd, buf, size, off));
        res = fault_after(OP_write, name, NULL, res);
    }
    if (res >= 0)
        fuse_reply_write(req, (size_t)res);
    else
        fuse_reply_err(req, -res);
}

static void ffs_flush(fuse_req_t req, fuse_ino_t node, struct fuse_file_info* fi) {
    struct handle* h = handle_of(fi);
    char name[NAME_MAX + 1];

    if (h->ctl != NULL) {
        fuse_reply_err(req, -run_lines(h->ctl, 1));
        return;
    }
    /* Writes go straight to the backing file; flush exists so that close() can be faulted. */
    name_of(node, name);
    int res = fault_before(OP_flush, name, NULL);
    fuse_reply_err(req, -fault_after(OP_flush, name, NULL, res));
}

static void ffs_fsync(fuse_req_t req, fuse_ino_t node, int datasync, struct fuse_file_info* fi) {
    struct handle* h = handle_of(fi);
    char name[NAME_MAX + 1];

    if (h->ctl != NULL) {
        fuse_reply_err(req, 0);
        return;
    }
    name_of(node, name);
    int res = fault_before(OP_fsync, name, NULL);
    if (res == 0)
        res = check(datasync ? fdatasync(h->fd) : fsync(h->fd));
    fuse_reply_err(req, -fault_after(OP_fsync, name, NULL, res));
}

static void ffs_release(fuse_req_t req, fuse_ino_t node, struct fuse_file_info* fi) {
    (void)node;
    free_handle(fi);
    fuse_reply_err(req, 0);
}

static void ffs_opendir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info* fi) {
    char name[NAME_MAX + 1];

    name_of(node, name);
    int res = fault_before(OP_opendir, name, NULL);
    if (res != 0) {
        fuse_reply_err(req, -res);
        return;
    }
    DIR* dir = NULL;
    int fd = openat(inode_of(node)->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && (dir = fdopendir(fd)) == NULL) {
        res = -errno;
        close(fd);
    } else if (fd < 0) {
        res = -errno;
    }
    res = fault_after(OP_opendir, name, NULL, res);
    if (res == 0)
        res = new_handle(fi, fd, dir, NULL);
    if (res == 0) {
        fuse_reply_open(req, fi);
        return;
    }
    if (dir != NULL)
        closedir(dir);
    fuse_reply_err(req, -res);
}

static void ffs_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
                        struct fuse_file_info* fi) {
    DIR* dir = handle_of(fi)->dir;
    char* buf = malloc(size ? size : 1);
    size_t used = 0;

    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    if (off == 0)
        rewinddir(dir);
    else
        seekdir(dir, off);

    struct dirent* de;
    while ((de = readdir(dir)) != NULL) {
        if (node == FUSE_ROOT_ID && strcmp(de->d_name, CTL_NAME) == 0)
            continue;
        struct stat st = {.st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type)};
        size_t n = fuse_add_direntry(req, buf + used, size - used, de->d_name, &st, de->d_off);
        if (n > size - used)
            break; /* the next call starts again at this entry's offset */
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void ffs_releasedir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info* fi) {
    (void)node;
    free_handle(fi);
    fuse_reply_err(req, 0);
}

static void ffs_statfs(fuse_req_t req, fuse_ino_t node) {
    struct statvfs st;
    (void)node;

    int res = fault_before(OP_statfs, NULL, NULL);
    if (res == 0)
        res = check(fstatvfs(fs.root.fd, &st));
    res = fault_after(OP_statfs, NULL, NULL, res);
    if (res == 0)
        fuse_reply_statfs(req, &st);
    else
        fuse_reply_err(req, -res);
}

static const struct fuse_lowlevel_ops ffs_ops = {
    .lookup = ffs_lookup,
    .forget = ffs_forget,
    .forget_multi = ffs_forget_multi,
    .getattr = ffs_getattr,
    .setattr = ffs_setattr,
    .readlink = ffs_readlink,
    .mknod = ffs_mknod,
    .mkdir = ffs_mkdir,
    .symlink = ffs_symlink,
    .link = ffs_link,
    .unlink = ffs_unlink,
    .rmdir = ffs_rmdir,
    .rename = ffs_rename,
    .create = ffs_create,
    .open = ffs_open,
    .read = ffs_read,
    .write = ffs_write,
    .flush = ffs_flush,
    .fsync = ffs_fsync,
    .release = ffs_release,
    .opendir = ffs_opendir,
    .readdir = ffs_readdir,
    .releasedir = ffs_releasedir,
    .statfs = ffs_statfs,
};

static int usage(const char* prog) {
    fprintf(stderr, "usage: %s BACKING_DIR MOUNTPOINT [-f] [-s] [-d] [-o FUSE options]\n", prog);
    return 2;
}

int main(int argc, char* argv[]) {
    struct stat st;

    if (argc < 3 || argv[1][0] == '-')
        return usage(argv[0]);
    fs.root.fd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fs.root.fd < 0 || fstat(fs.root.fd, &st) != 0) {
        fprintf(stderr, "faultfs: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    fs.root.dev = st.st_dev;
    fs.root.ino = st.st_ino;
    fs.root.next = fs.root.prev = &fs.root;
    fs.ctl.fd = -1;

    char** args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL)
        return 1;
    int n = 0;
    args[n++] = argv[0];
    args[n++] = "-o";
    args[n++] = "fsname=faultfs,subtype=faultfs";
    for (int i = 2; i < argc; i++)
        args[n++] = argv[i];

    struct fuse_args fargs = FUSE_ARGS_INIT(n, args);
    struct fuse_cmdline_opts opts;
    if (fuse_parse_cmdline(&fargs, &opts) != 0)
        return 1;
    if (opts.show_help || opts.mountpoint == NULL)
        return usage(argv[0]);

    int res = 1;
    struct fuse_session* se = fuse_session_new(&fargs, &ffs_ops, sizeof ffs_ops, NULL);
    if (se == NULL)
        goto out;
    if (fuse_set_signal_handlers(se) != 0)
        goto out_session;
    if (fuse_session_mount(se, opts.mountpoint) != 0)
        goto out_signals;

    fuse_daemonize(opts.foreground);
    if (opts.singlethread) {
        res = fuse_session_loop(se);
    } else {
        struct fuse_loop_config loop = {
            .clone_fd = opts.clone_fd,
            .max_idle_threads = opts.max_idle_threads <= 100 ? opts.max_idle_threads : 10,
        };
        res = fuse_session_loop_mt(se, &loop);
    }
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out_session:
    fuse_session_destroy(se);
out:
    free(opts.mountpoint);
    fuse_opt_free_args(&fargs);
    free(args);
    return res ? 1 : 0;
}
