/*
 * replay_stats: feed a capture of Ethernet frames through a stack and print
 * the counters that moved. No device and no privilege: the frames go in
 * through an in-memory frame device, on a manual clock that follows the
 * capture's timestamps and a seeded RNG, so the same capture always prints
 * the same counters.
 *
 *   ./replay_stats tests/data/demo.pcap 192.0.2.2/24
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netstack/netstack.h>

/* A pcap file header field, in the byte order its magic number says. */
static uint32_t field(const uint8_t *p, int swapped)
{
        uint32_t v;
        memcpy(&v, p, 4);
        return swapped ? __builtin_bswap32(v) : v;
}

static void print_moved(const char *group, const char *name, const char *mib, uint64_t value,
                        void *ctx)
{
        char dotted[64];
        (void)ctx;
        snprintf(dotted, sizeof dotted, "%s.%s", group, name);
        if (value != 0)
                printf("  %-44s %10llu  %s\n", dotted, (unsigned long long)value, mib);
}

int main(int argc, char **argv)
{
        struct ns_ip4_prefix addr;
        char *slash = argc > 2 ? strchr(argv[2], '/') : NULL;
        FILE *f = argc > 2 ? fopen(argv[1], "rb") : NULL;
        uint8_t hdr[24], rec[16];
        if (!slash || !f || fread(hdr, 1, sizeof hdr, f) != sizeof hdr) {
                fprintf(stderr, "usage: replay_stats CAPTURE.pcap ADDRESS/PREFIX\n");
                return 2;
        }
        *slash = '\0';
        addr.prefix_len = (uint8_t)atoi(slash + 1);
        if (!ns_ip4_parse(argv[2], &addr.addr))
                return 2;
        /* Magic: microsecond or nanosecond stamps, in either byte order. */
        uint32_t magic = field(hdr, 0);
        int swapped = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
        int64_t frac_ns = (magic == 0xa1b23c4d || magic == 0x4d3cb2a1) ? 1 : 1000;
        if (!swapped && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
                fprintf(stderr, "replay_stats: %s is not a pcap file\n", argv[1]);
                return 1;
        }
        if (field(hdr + 20, swapped) != 1) {
                fprintf(stderr, "replay_stats: %s is not an Ethernet capture\n", argv[1]);
                return 1;
        }

        /* A deterministic stack: manual clock, seeded RNG, the usual modules. */
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        ns_manual_clock_init(&clock, 1000000000, 0);
        ns_seeded_rng_init(&rng, 1);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&clock);
        cfg.rng = ns_seeded_rng_as_rng(&rng);
        const struct ns_module *const modules[] = { &ns_module_ipv4, &ns_module_arp, &ns_module_udp,
                                                    NULL };
        cfg.modules = modules;
        struct ns_stack *s;
        if (ns_stack_create(&cfg, &s) != 0)
                return 1;

        /* Frames in through a frame channel under an Ethernet link; the
         * capture was made with another MAC, so the link is promiscuous. */
        const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
        struct ns_frame_channel *fc = ns_frame_channel_create(NULL, 1500, 0);
        struct ns_eth *eth = fc ? ns_eth_create(NULL, ns_frame_channel_dev(fc), mac) : NULL;
        if (!eth || ns_nic_create(s, 1, ns_eth_link(eth), NULL) != 0 ||
            ns_nic_add_address(s, 1, addr) != 0)
                return 1;
        ns_eth_set_promiscuous(eth, true);

        static uint8_t frame[65536];
        unsigned long frames = 0, sent = 0;
        int64_t first_ns = -1;
        while (fread(rec, 1, sizeof rec, f) == sizeof rec) {
                uint32_t len = field(rec + 8, swapped);
                if (len > sizeof frame || fread(frame, 1, len, f) != len)
                        break;
                int64_t ts = (int64_t)field(rec, swapped) * 1000000000 +
                             (int64_t)field(rec + 4, swapped) * frac_ns;
                if (first_ns < 0) {
                        first_ns = ts;
                        clock.wall_ns = ts;
                }
                /* Time moves to the frame's stamp; due timers fire first. */
                ns_manual_clock_advance(&clock, ts - clock.wall_ns);
                ns_stack_poll(s);
                ns_frame_channel_inject_bytes(fc, frame, len);
                frames++;
                sent += ns_frame_channel_queued(fc);
                ns_frame_channel_drain(fc);
        }
        fclose(f);

        struct ns_stats st;
        ns_stack_get_stats(s, &st);
        printf("%lu frames in, %lu frames out; the counters that moved:\n", frames, sent);
        ns_stats_foreach(&st, print_moved, NULL);
        ns_nic_remove(s, 1);
        ns_eth_destroy(eth);
        ns_frame_channel_destroy(fc);
        ns_stack_destroy(s);
        return 0;
}
