/*
 * Benchmark harness shared by the C stacks (netstack-c, lwIP).
 *
 * Every stack's program has the same command line and output, so that
 * run.sh can alternate between them and compare rows by name:
 *
 *   prog --list                  workload names this stack supports
 *   prog [--reps N] [--seconds S] WORKLOAD...
 *   prog --ops N [--warmup-ops W] WORKLOAD...
 *
 * and prints one JSON object per workload on its own line (see
 * bench/README.md for the keys). Defaults come from NS_BENCH_REPS (5),
 * NS_BENCH_SECONDS (1.0) and NS_BENCH_WARMUP_SECONDS (0.2). With --ops, each
 * row runs W operations (BENCH_WARMUP_OPS unless given) and then exactly N in
 * one call of bench_run_ops(), whatever the time: the fixed count that
 * bench/callgrind.sh counts instructions over.
 */
#ifndef NS_BENCH_HARNESS_H
#define NS_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

struct bench_workload {
        /* Row name, shared by all stacks: "csum-20", "rx-udp", ... */
        const char *name;
        /* Payload bytes one operation processes, for GB/s; 0 if it does not apply. */
        size_t bytes_per_op;
        /* Builds the workload's state; returns NULL on failure. May be NULL. */
        void *(*setup)(void);
        /*
         * Runs the operation `iters` times and returns something derived from
         * every result, so the compiler cannot drop the work.
         */
        uint64_t (*run)(void *ctx, uint64_t iters);
        /*
         * The result of one operation as a number every stack computes the
         * same way (a checksum field in host order, a delivered byte count),
         * printed as "check" so run.sh can tell that stacks agree.
         */
        uint64_t (*check)(void *ctx);
        void (*teardown)(void *ctx);
};

/* Warm-up operations before an --ops run's measured operations. */
#define BENCH_WARMUP_OPS 100

/* Runs the command line above over `workloads`. Returns the exit status. */
int bench_main(const char *stack, const struct bench_workload *workloads, size_t n, int argc,
               char **argv);

/*
 * Runs w->run(ctx, ops) once: the measured operations of an --ops run, kept
 * out of line so that callgrind can count inside it alone.
 */
uint64_t bench_run_ops(const struct bench_workload *w, void *ctx, uint64_t ops);

/*
 * Fills p with the shared test bytes: byte i of the SplitMix64 stream seeded
 * with BENCH_DATA_SEED, eight little-endian bytes per step. bench/gvisor
 * produces the same bytes.
 */
#define BENCH_DATA_SEED 0x6e6574737461636bull
void bench_fill(uint8_t *p, size_t len);

/* Allocates len bytes aligned to 64, filled by bench_fill(); exits on failure. */
uint8_t *bench_data(size_t len);

/*
 * Shared packets. Every stack injects byte-identical packets; the C programs
 * build them here, bench/gvisor/main.go builds the same bytes. Addresses are
 * host-order IPv4 addresses.
 */
#define BENCH_PEER     0xc0000202u /* 192.0.2.2: the remote sender */
#define BENCH_US       0xc0000201u /* 192.0.2.1/24: the stack, NIC 1 */
#define BENCH_US2      0xc6336401u /* 198.51.100.1/24: the stack, NIC 2 (forward) */
#define BENCH_FAR      0xc6336402u /* 198.51.100.2: forward's destination */
#define BENCH_SPORT    40000       /* the peer's UDP port */
#define BENCH_DPORT    5000        /* the bound UDP endpoint's port */
#define BENCH_UDP_LEN  64          /* rx-udp / forward / rx-invalid payload bytes */
#define BENCH_FWD_BIG  1500        /* forward-1500: IPv4 packet bytes (MTU-sized) */
#define BENCH_ECHO_ID  0x4e53
#define BENCH_ECHO_LEN 56 /* echo data bytes: an 84-byte request */

/* The Internet checksum field of p (RFC 1071) seeded with a partial sum. */
uint16_t bench_csum(const void *p, size_t len, uint32_t seed);

/*
 * Writes a 20-byte IPv4 header (TTL 64, no DF) for an IP payload of
 * payload_len bytes at flags/offset `frag` (NS-style: MF 0x2000 | offset/8)
 * with a valid checksum.
 */
void bench_ipv4_hdr(uint8_t *h, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                    uint16_t frag, size_t payload_len);

/*
 * Writes a UDP datagram of payload_len bench_fill() bytes from BENCH_SPORT to
 * BENCH_DPORT with a valid checksum into u; returns 8 + payload_len.
 */
size_t bench_udp(uint8_t *u, uint32_t src, uint32_t dst, size_t payload_len);

/* IPv4 + UDP packet (ID 1): 20 + 8 + payload_len bytes, returned. */
size_t bench_ipv4_udp(uint8_t *buf, uint32_t src, uint32_t dst, size_t payload_len);

/* ICMP echo request (ID 1, echo id BENCH_ECHO_ID, seq 1, bench_fill data): 84 bytes. */
size_t bench_icmp_echo(uint8_t *buf);

/* Fragment orders. */
enum bench_order { BENCH_IN_ORDER, BENCH_REVERSED, BENCH_SHUFFLED };

/*
 * A UDP datagram of udp_len bytes (header + bench_fill payload, PEER to US)
 * cut into IPv4 fragments of `piece` bytes of IP payload, in `order` (the
 * shuffle is a fixed xorshift64 Fisher-Yates that main.go repeats).
 */
#define BENCH_MAX_FRAGS 500
struct bench_frags {
        uint8_t *wire[BENCH_MAX_FRAGS];
        uint32_t len[BENCH_MAX_FRAGS];
        uint32_t n;
        uint16_t id;
};
void bench_frags_make(struct bench_frags *f, size_t udp_len, size_t piece, enum bench_order order);
/* Gives every fragment the next IP ID (and a fresh header checksum): one per operation. */
void bench_frags_next_id(struct bench_frags *f);
void bench_frags_free(struct bench_frags *f);

/*
 * Result checks shared by the C programs; each calls bench_fail() on a
 * mismatch and returns a hash of what every stack must produce alike.
 * bench_check_echo_reply: an 84-byte reply to `req` (IPv4 header with a
 * valid checksum from US to PEER, echo reply with the request's id, sequence
 * and data); returns the hash of its ICMP message.
 * bench_check_forwarded: `in` with TTL-1 and a valid header checksum;
 * returns the hash of the packet.
 * bench_check_tx_frags: fragments of one 65000-byte UDP datagram from US to
 * PEER (<= 1500 bytes, valid header checksums, one ID, offsets that tile it,
 * valid UDP checksum); returns the hash of the reassembled datagram.
 */
uint64_t bench_check_echo_reply(const uint8_t *r, size_t len, const uint8_t *req);
uint64_t bench_check_forwarded(const uint8_t *r, size_t len, const uint8_t *in, size_t in_len);
uint64_t bench_check_tx_frags(const uint8_t *const *frag, const size_t *len, uint32_t n);

/* FNV-1a 64 over p, continuing from h (start with BENCH_FNV_INIT). */
#define BENCH_FNV_INIT 0xcbf29ce484222325ull
uint64_t bench_fnv(uint64_t h, const void *p, size_t len);

/*
 * Records that a row computed a wrong result; the row's JSON line carries
 * "error" and run.sh prints FAIL instead of its time. The first message wins.
 */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Keeps a value alive and stops the compiler from hoisting loads across it. */
static inline void bench_keep(const void *p)
{
        __asm__ volatile("" : : "r"(p) : "memory");
}

/* The checksum rows' data: the same bytes (bench_data) for every stack. */
struct bench_csum_ctx {
        uint8_t *data;
        size_t len;
};
void *bench_csum_setup_20(void);
void *bench_csum_setup_1500(void);
void *bench_csum_setup_64k(void);
void bench_csum_teardown(void *ctx);

#endif
