/*
 * The host's clock and random source (<netstack/sys.h>). This file and the
 * TAP/TUN driver are the only places below tools/ that make system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <netstack/sys.h>

static int64_t read_clock(clockid_t id)
{
        struct timespec ts;
        /* clock_gettime cannot fail for these two clocks on Linux. */
        if (clock_gettime(id, &ts) != 0)
                return 0;
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t sys_now(void *ctx)
{
        (void)ctx;
        return read_clock(CLOCK_MONOTONIC);
}

static int64_t sys_wall(void *ctx)
{
        (void)ctx;
        return read_clock(CLOCK_REALTIME);
}

struct ns_clock ns_system_clock(void)
{
        struct ns_clock c = { .now_ns = sys_now, .wall_ns = sys_wall, .ctx = NULL };
        return c;
}

/* For kernels older than 3.17, which lack getrandom(2). Returns false if
 * the device cannot be read either. */
static bool fill_from_urandom(uint8_t *out, size_t len)
{
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        while (len > 0) {
                ssize_t n = read(fd, out, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        close(fd);
                        return false;
                }
                out += n;
                len -= (size_t)n;
        }
        close(fd);
        return true;
}

static void sys_fill(void *ctx, void *buf, size_t len)
{
        uint8_t *out = buf;
        (void)ctx;

        while (len > 0) {
                /* Requests above 256 bytes may return short; loop. */
                ssize_t n = getrandom(out, len, 0);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        if (errno == ENOSYS && fill_from_urandom(out, len))
                                return;
                        /* No randomness at all: continuing would hand out
                         * predictable IP IDs and hash keys, so stop. */
                        abort();
                }
                out += n;
                len -= (size_t)n;
        }
}

struct ns_rng ns_system_rng(void)
{
        struct ns_rng r = { .fill = sys_fill, .ctx = NULL };
        return r;
}
