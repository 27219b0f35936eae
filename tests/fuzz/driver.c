/*
 * A libFuzzer stand-in for the trees built with gcc (make test's normal and
 * ASan+UBSan trees): replays every file named on the command line (or in
 * a directory named there), then, with -mutations=N, N deterministic
 * mutations of each (bit flips, interesting bytes, truncation, duplicated
 * and spliced chunks, from a fixed seed), so `make test` smoke-runs every
 * target in a few seconds without clang. Exits non-zero only when a target
 * aborts; the input that did it is then written to ./crash-replay.bin
 * (replay it with the same binary, or with the libFuzzer build).
 *
 * Usage: fuzz_x_replay [-mutations=N] [-seed=S] FILE|DIR...
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define FUZZ_MAX_INPUT (1u << 17)
#define MAX_FILES      4096

struct file {
        uint8_t *data;
        size_t len;
};

static struct file files[MAX_FILES];
static size_t n_files;

static void load(const char *path)
{
        if (n_files == MAX_FILES)
                return;
        FILE *f = fopen(path, "rb");
        if (!f) {
                perror(path);
                exit(2);
        }
        uint8_t *buf = malloc(FUZZ_MAX_INPUT);
        if (!buf)
                exit(2);
        size_t n = fread(buf, 1, FUZZ_MAX_INPUT, f);
        fclose(f);
        files[n_files].data = buf;
        files[n_files].len = n;
        n_files++;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_path(const char *path)
{
        struct stat st;
        if (stat(path, &st) != 0) {
                perror(path);
                exit(2);
        }
        if (!S_ISDIR(st.st_mode)) {
                load(path);
                return;
        }
        DIR *d = opendir(path);
        if (!d) {
                perror(path);
                exit(2);
        }
        char *names[MAX_FILES];
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL && n < MAX_FILES) {
                if (de->d_name[0] == '.')
                        continue;
                size_t len = strlen(path) + strlen(de->d_name) + 2;
                names[n] = malloc(len);
                if (!names[n])
                        exit(2);
                snprintf(names[n], len, "%s/%s", path, de->d_name);
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(names[0]), by_name); /* the same order everywhere */
        for (size_t i = 0; i < n; i++) {
                load(names[i]);
                free(names[i]);
        }
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
        /* xorshift64*: deterministic from -seed. */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 2685821657736338717ull;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
        static const uint8_t interesting[] = { 0,    1,    2,    4,    5,    7,    8,
                                               0x0f, 0x10, 0x20, 0x3f, 0x40, 0x44, 0x45,
                                               0x4f, 0x7f, 0x80, 0x81, 0xfe, 0xff };
        unsigned n = 1 + (unsigned)(rnd() % 4);
        for (unsigned k = 0; k < n; k++) {
                size_t at = len ? (size_t)(rnd() % len) : 0;
                switch (rnd() % 7) {
                case 0: /* flip a bit */
                        if (len)
                                buf[at] ^= (uint8_t)(1u << (rnd() % 8));
                        break;
                case 1: /* an interesting byte */
                        if (len)
                                buf[at] = interesting[rnd() % sizeof(interesting)];
                        break;
                case 2: /* a random byte */
                        if (len)
                                buf[at] = (uint8_t)rnd();
                        break;
                case 3: /* truncate */
                        len = at;
                        break;
                case 4: /* duplicate a chunk after itself */
                        if (len) {
                                size_t m = 1 + (size_t)(rnd() % 64);
                                if (at + m > len)
                                        m = len - at;
                                if (len + m <= cap) {
                                        memmove(buf + at + m, buf + at, len - at);
                                        len += m;
                                }
                        }
                        break;
                case 5: /* splice in a chunk of another corpus file */
                {
                        const struct file *o = &files[rnd() % n_files];
                        if (o->len == 0)
                                break;
                        size_t from = (size_t)(rnd() % o->len);
                        size_t m = 1 + (size_t)(rnd() % 128);
                        if (from + m > o->len)
                                m = o->len - from;
                        if (at + m > cap)
                                m = cap - at;
                        memcpy(buf + at, o->data + from, m);
                        if (at + m > len)
                                len = at + m;
                        break;
                }
                default: /* a 16-bit big-endian field set to an edge value */
                        if (len >= 2) {
                                static const uint16_t edges[] = { 0,      1,      8,     20,
                                                                  576,    1480,   1500,  0x1fff,
                                                                  0x2000, 0x3fff, 65528, 65535 };
                                uint16_t v = edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
                                if (at + 2 > len)
                                        at = len - 2;
                                buf[at] = (uint8_t)(v >> 8);
                                buf[at + 1] = (uint8_t)v;
                        }
                        break;
                }
        }
        return len;
}

static const uint8_t *current;
static size_t current_len;

/* On abort (a FUZZ_CHECK, ASan, UBSan) leaves the input behind. */
static void on_abort(int sig)
{
        int fd = open("crash-replay.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
                ssize_t w = write(fd, current, current_len);
                (void)w;
                close(fd);
        }
        signal(sig, SIG_DFL);
        raise(sig);
}

static void run_one(const uint8_t *data, size_t len)
{
        /* A fresh copy, so a target reading past the input trips ASan. */
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
                exit(2);
        memcpy(copy, data, len);
        current = copy;
        current_len = len;
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
}

int main(int argc, char **argv)
{
        unsigned long mutations = 0;
        rng_state = 0x9e3779b97f4a7c15ull;
        signal(SIGABRT, on_abort);
        signal(SIGSEGV, on_abort);
        for (int i = 1; i < argc; i++) {
                if (strncmp(argv[i], "-mutations=", 11) == 0)
                        mutations = strtoul(argv[i] + 11, NULL, 10);
                else if (strncmp(argv[i], "-seed=", 6) == 0)
                        rng_state = strtoull(argv[i] + 6, NULL, 0) | 1;
                else
                        load_path(argv[i]);
        }
        if (n_files == 0) {
                fprintf(stderr, "usage: %s [-mutations=N] [-seed=S] FILE|DIR...\n", argv[0]);
                return 2;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        uint64_t execs = 0;
        for (size_t i = 0; i < n_files; i++) {
                run_one(files[i].data, files[i].len);
                execs++;
        }
        uint8_t *buf = malloc(FUZZ_MAX_INPUT);
        if (!buf)
                return 2;
        for (size_t i = 0; i < n_files; i++) {
                for (unsigned long m = 0; m < mutations; m++) {
                        size_t len = files[i].len;
                        memcpy(buf, files[i].data, len);
                        len = mutate(buf, len, FUZZ_MAX_INPUT);
                        run_one(buf, len);
                        execs++;
                }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("%s: %zu files, %llu executions in %.2f s\n", argv[0], n_files,
               (unsigned long long)execs, secs);
        free(buf);
        for (size_t i = 0; i < n_files; i++)
                free(files[i].data);
        return 0;
}
