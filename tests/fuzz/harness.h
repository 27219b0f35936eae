/*
 * Shared by the fuzz targets: stacks to feed, checksum fix-up so mutated
 * packets get past validation (as lwIP's OSS-Fuzz harness does), and an
 * oracle over everything the stack sends.
 *
 * Each input gets a fresh stack (a crash reproduces from its input alone);
 * fuzz_env_finish() runs the timers out and aborts unless every packet
 * went back to the pool, so a leak of packets is a crash too, and
 * LeakSanitizer catches any other memory.
 */
#ifndef NS_FUZZ_HARNESS_H
#define NS_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/netstack.h>
#include <netstack/channel.h>
#include <netstack/eth.h>

/* libFuzzer's entry point, also called by driver.c in the normal trees. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when cond is false (a finding, not a test failure). */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* Addresses of the fuzz stacks (RFC 5737 documentation ranges). */
#define FUZZ_OUR1     NS_IP4(192, 0, 2, 1)    /* NIC 1 */
#define FUZZ_PEER1    NS_IP4(192, 0, 2, 2)    /* NIC 1's router, static ARP */
#define FUZZ_OUR2     NS_IP4(198, 51, 100, 1) /* NIC 2 */
#define FUZZ_PEER2    NS_IP4(198, 51, 100, 2) /* static ARP on NIC 2 */
#define FUZZ_FAR      NS_IP4(203, 0, 113, 0)  /* /24 via 198.51.100.3, resolved by ARP */
#define FUZZ_GROUP    NS_IP4(239, 1, 2, 3)    /* joined on NIC 1 */
#define FUZZ_UDP_PORT 7                       /* echo endpoint */

enum fuzz_env_kind {
        /* One channel NIC (raw IPv4) at FUZZ_OUR1/24, default route via FUZZ_PEER1. */
        FUZZ_ENV_IP,
        /* Two Ethernet NICs with ARP, forwarding on, the group joined. */
        FUZZ_ENV_ETH2,
};

struct fuzz_env {
        enum fuzz_env_kind kind;
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        struct ns_stack *s;
        struct ns_channel *ch;          /* FUZZ_ENV_IP */
        struct ns_frame_channel *fc[3]; /* FUZZ_ENV_ETH2, index = NIC id */
        struct ns_eth *eth[3];
        struct ns_udp_ep *udp;
        uint64_t udp_received;
        uint64_t sent_checked;
};

/* The MACs of NIC 1 and 2, and the peers'. */
extern const uint8_t fuzz_mac_our[3][6];
extern const uint8_t fuzz_mac_peer[3][6];

/* Builds a stack of the given kind; aborts if it cannot. */
void fuzz_env_init(struct fuzz_env *e, enum fuzz_env_kind kind);

/* Injects one IPv4 packet (FUZZ_ENV_IP) or Ethernet frame on nic (ETH2). */
void fuzz_env_inject(struct fuzz_env *e, uint32_t nic, const uint8_t *p, size_t len);

/* Advances the clock, polls, and checks what was sent. */
void fuzz_env_advance(struct fuzz_env *e, int64_t ns);

/* Reads every packet sent so far, checks each with the oracle, frees it. */
void fuzz_env_check_output(struct fuzz_env *e);

/*
 * Runs every timer out (ARP, reassembly, IGMP), checks the output, aborts
 * unless the pool's in-use count is back to zero, and destroys everything.
 */
void fuzz_env_finish(struct fuzz_env *e);

/*
 * Makes the IPv4 packet at ip (len bytes) pass the checksums it can: the
 * header checksum when the header fits, and for an unfragmented or first
 * fragment the ICMP, IGMP or UDP checksum over what Total Length covers.
 * Lengths are left as they are.
 */
void fuzz_fix_ipv4(uint8_t *ip, size_t len);

/*
 * The oracle for one IPv4 packet the stack sent (len bytes, link padding
 * allowed when padded): a valid header with a right checksum and no
 * loopback source, and for packets it originated (source ours) a right
 * ICMP/UDP/IGMP checksum.
 */
void fuzz_check_sent_ipv4(const uint8_t *ip, size_t len, bool padded);

/* A little-endian reader over the fuzz input that yields zeros at the end. */
struct fuzz_in {
        const uint8_t *p;
        size_t len;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
/* Takes up to n bytes; sets *got to how many there were. */
const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got);

/*
 * Builds, into out (cap bytes), an IPv4 packet of protocol proto around
 * the rest of the input, steered by its first bytes: a control byte (bit 0:
 * leave the checksums as they are; bits 1-2: destination FUZZ_OUR1, subnet
 * broadcast, limited broadcast, or multicast (FUZZ_GROUP for IGMP, else
 * 224.0.0.1); bits 3-5: words of options taken from the input next; bit 6:
 * source off-subnet; bit 7: DF), then the TTL. Returns the length.
 */
size_t fuzz_wrap_l4(struct fuzz_in *in, uint8_t proto, uint8_t *out, size_t cap);

/* The time steps a fuzz input picks from with a 3-bit selector. */
int64_t fuzz_time_step(unsigned sel);

#endif
