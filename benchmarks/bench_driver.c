/* The command line, the timing and the line protocol shared by every benchmark driver; see
 * bench_driver.h for the protocol. */
#define _GNU_SOURCE
#include "bench_driver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { max_options = 16 };

enum mode { mode_none, mode_cycles, mode_serve, mode_contend };

struct arguments {
    const char* lock_path;
    struct bench_option options[max_options];
    int option_count;
    int64_t timeout_ms;
    enum mode mode;
    uint64_t cycles;
    uint64_t warmup;
    const char* samples_path;
};

static const char* driver_name = "driver";

int64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t timeval_ns(struct timeval tv) {
    return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

int64_t bench_cpu_ns(void) {
    struct rusage self;
    struct rusage children;
    if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0) {
        fprintf(stderr, "%s: getrusage: %s\n", driver_name, strerror(errno));
        exit(1);
    }
    return timeval_ns(self.ru_utime) + timeval_ns(self.ru_stime) + timeval_ns(children.ru_utime) +
           timeval_ns(children.ru_stime);
}

void bench_perror(const char* what, const char* path) {
    fprintf(stderr, "%s: %s %s: %s\n", driver_name, what, path, strerror(errno));
}

const char* bench_option_value(const struct bench_option* options, int count, const char* key,
                               const char* fallback) {
    for (int i = 0; i < count; ++i) {
        if (strcmp(options[i].key, key) == 0)
            return options[i].value;
    }
    return fallback;
}

static int parse_count(const char* text, uint64_t* out) {
    char* end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return -1;
    *out = value;
    return 0;
}

int64_t bench_option_int(const struct bench_option* options, int count, const char* key,
                         int64_t fallback) {
    const char* text = bench_option_value(options, count, key, NULL);
    if (text == NULL)
        return fallback;

    uint64_t value = 0;
    if (parse_count(text, &value) != 0 || value > INT64_MAX) {
        fprintf(stderr, "%s: option %s: not a count: %s\n", driver_name, key, text);
        return -1;
    }
    return (int64_t)value;
}

/* Writes one protocol line and flushes it, because the orchestrator waits for it. */
static void say(const char* format, ...) {
    va_list args;
    va_start(args, format);
    int written = vprintf(format, args);
    va_end(args);
    if (written < 0 || putchar('\n') == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "%s: writing to stdout: %s\n", driver_name, strerror(errno));
        exit(1);
    }
}

static void usage(void) {
    fprintf(stderr,
            "usage: %s --lock PATH [--opt KEY=VALUE]... [--timeout-ms T]\n"
            "       (--cycles N [--warmup W] [--samples FILE] | --serve | --contend M)\n",
            driver_name);
    exit(2);
}

static const char* next_value(int argc, char** argv, int* i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", driver_name, argv[*i]);
        usage();
    }
    *i += 1;
    return argv[*i];
}

static uint64_t next_count(int argc, char** argv, int* i) {
    const char* flag = argv[*i];
    const char* text = next_value(argc, argv, i);
    uint64_t value = 0;
    if (parse_count(text, &value) != 0) {
        fprintf(stderr, "%s: %s: not a count: %s\n", driver_name, flag, text);
        usage();
    }
    return value;
}

static void add_option(struct arguments* args, char* text) {
    char* equals = strchr(text, '=');
    if (equals == NULL || equals == text) {
        fprintf(stderr, "%s: --opt wants KEY=VALUE, got %s\n", driver_name, text);
        usage();
    }
    if (args->option_count == max_options) {
        fprintf(stderr, "%s: more than %d --opt\n", driver_name, max_options);
        usage();
    }
    *equals = '\0';
    args->options[args->option_count].key = text;
    args->options[args->option_count].value = equals + 1;
    args->option_count += 1;
}

static void set_mode(struct arguments* args, enum mode mode) {
    if (args->mode != mode_none) {
        fprintf(stderr, "%s: give one of --cycles, --serve, --contend\n", driver_name);
        usage();
    }
    args->mode = mode;
}

static struct arguments parse_arguments(int argc, char** argv) {
    struct arguments args = {.timeout_ms = 60000};
    for (int i = 1; i < argc; ++i) {
        const char* flag = argv[i];
        if (strcmp(flag, "--lock") == 0) {
            args.lock_path = next_value(argc, argv, &i);
        } else if (strcmp(flag, "--opt") == 0) {
            add_option(&args, (char*)next_value(argc, argv, &i));
        } else if (strcmp(flag, "--timeout-ms") == 0) {
            args.timeout_ms = (int64_t)next_count(argc, argv, &i);
        } else if (strcmp(flag, "--cycles") == 0) {
            set_mode(&args, mode_cycles);
            args.cycles = next_count(argc, argv, &i);
        } else if (strcmp(flag, "--warmup") == 0) {
            args.warmup = next_count(argc, argv, &i);
        } else if (strcmp(flag, "--samples") == 0) {
            args.samples_path = next_value(argc, argv, &i);
        } else if (strcmp(flag, "--serve") == 0) {
            set_mode(&args, mode_serve);
        } else if (strcmp(flag, "--contend") == 0) {
            set_mode(&args, mode_contend);
            args.cycles = next_count(argc, argv, &i);
        } else {
            fprintf(stderr, "%s: unknown argument %s\n", driver_name, flag);
            usage();
        }
    }
    if (args.lock_path == NULL || args.mode == mode_none)
        usage();
    return args;
}

static int run_cycles(const struct bench_peer* peer, void* self, uint64_t n, int64_t timeout_ms,
                      int64_t* samples_ns) {
    if (peer->run_cycles != NULL)
        return peer->run_cycles(self, n, timeout_ms, samples_ns);

    for (uint64_t i = 0; i < n; ++i) {
        int64_t start = bench_now_ns();
        if (peer->acquire(self, timeout_ms) != 0 || peer->release(self) != 0)
            return -1;
        if (samples_ns != NULL)
            samples_ns[i] = bench_now_ns() - start;
    }
    return 0;
}

static int write_samples(const char* path, const int64_t* samples_ns, uint64_t n) {
    FILE* file = fopen(path, "w");
    if (file == NULL) {
        bench_perror("open", path);
        return -1;
    }
    for (uint64_t i = 0; i < n; ++i) {
        if (fprintf(file, "%" PRId64 "\n", samples_ns[i]) < 0) {
            bench_perror("write", path);
            fclose(file);
            return -1;
        }
    }
    if (fclose(file) != 0) {
        bench_perror("close", path);
        return -1;
    }
    return 0;
}

static int cycles_mode(const struct bench_peer* peer, void* self, const struct arguments* args) {
    int64_t* samples = calloc(args->cycles > 0 ? args->cycles : 1, sizeof *samples);
    if (samples == NULL) {
        fprintf(stderr, "%s: no memory for %" PRIu64 " samples\n", driver_name, args->cycles);
        return -1;
    }
    if (run_cycles(peer, self, args->warmup, args->timeout_ms, NULL) != 0) {
        free(samples);
        return -1;
    }

    int64_t cpu_start = bench_cpu_ns();
    int64_t start = bench_now_ns();
    int failed = run_cycles(peer, self, args->cycles, args->timeout_ms, samples);
    int64_t wall = bench_now_ns() - start;
    int64_t cpu = bench_cpu_ns() - cpu_start;

    if (failed == 0 && args->samples_path != NULL)
        failed = write_samples(args->samples_path, samples, args->cycles);
    free(samples);
    if (failed != 0)
        return -1;

    say("cycles %" PRIu64 " %" PRId64 " %" PRId64, args->cycles, wall, cpu);
    return 0;
}

static int serve_mode(const struct bench_peer* peer, void* self, const struct arguments* args) {
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "acquire") == 0) {
            int64_t cpu_start = bench_cpu_ns();
            say("waiting %" PRId64, bench_now_ns());
            if (peer->acquire(self, args->timeout_ms) != 0)
                return -1;
            int64_t acquired = bench_now_ns();
            say("acquired %" PRId64 " %" PRId64, acquired, bench_cpu_ns() - cpu_start);
        } else if (strcmp(line, "release") == 0) {
            int64_t start = bench_now_ns();
            if (peer->release(self) != 0)
                return -1;
            int64_t end = bench_now_ns();
            say("released %" PRId64 " %" PRId64, start, end);
        } else if (strcmp(line, "quit") == 0) {
            return 0;
        } else {
            fprintf(stderr, "%s: unknown command: %s\n", driver_name, line);
            return -1;
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "%s: reading stdin: %s\n", driver_name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Sleeps until the CLOCK_MONOTONIC instant start_ns, so that every contender starts at once. */
static void sleep_until(int64_t start_ns) {
    struct timespec until = {.tv_sec = start_ns / 1000000000, .tv_nsec = start_ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
    }
}

static int contend_mode(const struct bench_peer* peer, void* self, const struct arguments* args) {
    char line[64];
    long long start_at = 0;
    say("ready");
    if (fgets(line, sizeof line, stdin) == NULL || sscanf(line, "go %lld", &start_at) != 1) {
        fprintf(stderr, "%s: expected \"go START_NS\" on stdin\n", driver_name);
        return -1;
    }
    sleep_until((int64_t)start_at);

    int64_t cpu_start = bench_cpu_ns();
    int64_t start = bench_now_ns();
    if (run_cycles(peer, self, args->cycles, args->timeout_ms, NULL) != 0)
        return -1;
    int64_t end = bench_now_ns();

    say("done %" PRId64 " %" PRId64 " %" PRId64, start, end, bench_cpu_ns() - cpu_start);
    return 0;
}

int bench_main(int argc, char** argv, const struct bench_peer* peer) {
    driver_name = peer->name;
    struct arguments args = parse_arguments(argc, argv);

    void* self = peer->open(args.lock_path, args.options, args.option_count);
    if (self == NULL)
        return 1;

    int failed = 0;
    if (args.mode == mode_cycles)
        failed = cycles_mode(peer, self, &args);
    else if (args.mode == mode_serve)
        failed = serve_mode(peer, self, &args);
    else
        failed = contend_mode(peer, self, &args);

    peer->close(self);
    return failed == 0 ? 0 : 1;
}
