/*
 * `netstack replay`: captures in, the frames the stack sends out, on a
 * manual clock that follows the capture's timestamps and a seeded RNG, so
 * the output depends on nothing but the input and the seed.
 *
 * Ethernet captures replay on Ethernet interfaces, raw-IP captures (what
 * tcpdump writes on a TUN device) on raw-IP interfaces; one replay takes
 * one link type, so that OUT.pcap, which has a single link type, holds
 * what every interface sent.
 */
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "replay.h"

/* Bounds on what one replay reads, and on timer turns while draining. */
#define MAX_FRAMES     (1u << 20)
#define MAX_BYTES      (1ull << 30)
#define MAX_POLL_TURNS 10000000u
/* Monotonic reading at the first frame (any fixed value will do). */
#define MONO_START_NS 1000000000LL
/* Wall time when no capture has a frame: 2026-01-01T00:00:00Z. */
#define WALL_DEFAULT_NS (1767225600LL * 1000000000LL)

struct frame {
        int64_t ts_ns;
        uint32_t iface;
        uint32_t seq;
        uint32_t len;
        uint8_t *data;
};

struct replay {
        struct cli_opts o;
        struct cli_stack cs;
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        struct replay_link link[CLI_MAX_IFACES];
        /* The link type of the replay, and the capture that set it. */
        enum replay_kind kind;
        const char *kind_file;
        /* Per interface: packets of its raw capture that are not IPv4. */
        uint64_t skipped[CLI_MAX_IFACES];
        struct ns_pcap *out;
        struct ns_pcap *capture;
        struct frame *frames;
        size_t n_frames, cap_frames;
        uint64_t bytes;
        uint64_t sent;
};

/* Appends every frame of one capture file. 0 or -1 (printed). */
static int load(struct replay *r, uint32_t iface, const char *path)
{
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *p =
            pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
        if (!p) {
                fprintf(stderr, "netstack replay: %s: %s\n", path, errbuf);
                return -1;
        }
        enum replay_kind kind;
        if (!replay_kind_of(pcap_datalink(p), &kind)) {
                const char *name = pcap_datalink_val_to_name(pcap_datalink(p));
                fprintf(stderr,
                        "netstack replay: %s: link type %d (%s) is neither Ethernet nor raw "
                        "IPv4 (LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4)\n",
                        path, pcap_datalink(p), name ? name : "unknown");
                pcap_close(p);
                return -1;
        }
        if (r->kind_file && kind != r->kind) {
                fprintf(stderr,
                        "netstack replay: %s is %s but %s is %s; one replay takes captures "
                        "of one link type\n",
                        r->kind_file, replay_kind_name(r->kind), path, replay_kind_name(kind));
                pcap_close(p);
                return -1;
        }
        r->kind = kind;
        r->kind_file = path;
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc;
        while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
                /* A raw capture may hold IPv6 too; the stack speaks IPv4 only. */
                if (kind == REPLAY_RAW && !replay_raw_is_ipv4(data, h->caplen)) {
                        r->skipped[iface]++;
                        continue;
                }
                if (r->n_frames == MAX_FRAMES || r->bytes + h->caplen > MAX_BYTES) {
                        fprintf(stderr, "netstack replay: %s: too many frames\n", path);
                        pcap_close(p);
                        return -1;
                }
                if (r->n_frames == r->cap_frames) {
                        size_t cap = r->cap_frames ? r->cap_frames * 2 : 64;
                        struct frame *nf = realloc(r->frames, cap * sizeof(*nf));
                        if (!nf) {
                                pcap_close(p);
                                return -1;
                        }
                        r->frames = nf;
                        r->cap_frames = cap;
                }
                struct frame *f = &r->frames[r->n_frames];
                f->ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
                f->iface = iface;
                f->seq = (uint32_t)r->n_frames;
                f->len = h->caplen;
                f->data = malloc(h->caplen ? h->caplen : 1);
                if (!f->data) {
                        pcap_close(p);
                        return -1;
                }
                memcpy(f->data, data, h->caplen);
                r->n_frames++;
                r->bytes += h->caplen;
        }
        if (rc == -1)
                fprintf(stderr, "netstack replay: %s: %s (frames after it ignored)\n", path,
                        pcap_geterr(p));
        pcap_close(p);
        return 0;
}

/* Time order; frames of equal time in input order (stable). */
static int cmp_frame(const void *a, const void *b)
{
        const struct frame *x = a, *y = b;
        if (x->ts_ns != y->ts_ns)
                return x->ts_ns < y->ts_ns ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Moves everything the stack sent to the output capture, interface by interface. */
static void collect(struct replay *r)
{
        for (size_t i = 0; i < r->cs.n; i++) {
                struct ns_pkt *p;
                while ((p = replay_link_read(&r->link[i])) != NULL) {
                        ns_pcap_write(r->out, ns_pkt_data(p), ns_pkt_len(p));
                        if (r->capture)
                                ns_pcap_write(r->capture, ns_pkt_data(p), ns_pkt_len(p));
                        r->sent++;
                        ns_pkt_free(p);
                }
        }
}

/* Runs the timers until the monotonic clock reads target, collecting output. */
static void advance_to(struct replay *r, int64_t target)
{
        for (uint32_t turn = 0; turn < MAX_POLL_TURNS; turn++) {
                int64_t deadline = ns_stack_poll(r->cs.s);
                collect(r);
                if (deadline > target)
                        break;
                /* A deadline not after now was just served; step at least 1 ns. */
                int64_t next = deadline > r->clock.mono_ns ? deadline : r->clock.mono_ns + 1;
                if (next > target)
                        break;
                ns_manual_clock_advance(&r->clock, next - r->clock.mono_ns);
        }
        if (target > r->clock.mono_ns)
                ns_manual_clock_advance(&r->clock, target - r->clock.mono_ns);
        (void)ns_stack_poll(r->cs.s);
        collect(r);
}

static int feed(struct replay *r)
{
        int64_t wall0 = r->n_frames ? r->frames[0].ts_ns : WALL_DEFAULT_NS;
        for (size_t k = 0; k < r->n_frames; k++) {
                const struct frame *f = &r->frames[k];
                /* Out-of-order timestamps are fed at the current time. */
                int64_t target = MONO_START_NS + (f->ts_ns - wall0);
                if (target > r->clock.mono_ns)
                        advance_to(r, target);
                if (r->capture)
                        ns_pcap_write(r->capture, f->data, f->len);
                int err = replay_link_inject(&r->link[f->iface], f->data, f->len);
                if (err)
                        fprintf(stderr, "netstack replay: frame %zu: %s\n", k + 1,
                                ns_strerror(err));
                collect(r);
        }
        advance_to(r, r->clock.mono_ns + r->o.drain_ns);
        return 0;
}

static int open_pcap(struct replay *r, const char *path, struct ns_pcap **out)
{
        char err[256];
        int e = ns_pcap_open(NULL, path, replay_pcap_linktype(r->kind),
                             ns_manual_clock_as_clock(&r->clock), out, err, sizeof(err));
        if (e != 0)
                fprintf(stderr, "netstack replay: %s: %s\n", path, err[0] ? err : ns_strerror(e));
        return e ? -1 : 0;
}

static int setup(struct replay *r)
{
        for (size_t i = 0; i < r->o.n_ifaces; i++)
                if (r->o.ifaces[i].in_file && load(r, (uint32_t)i, r->o.ifaces[i].in_file) != 0)
                        return -1;
        qsort(r->frames, r->n_frames, sizeof(*r->frames), cmp_frame);
        ns_manual_clock_init(&r->clock, MONO_START_NS,
                             r->n_frames ? r->frames[0].ts_ns : WALL_DEFAULT_NS);
        ns_seeded_rng_init(&r->rng, r->o.seed);
        if (cli_stack_create(&r->cs, ns_manual_clock_as_clock(&r->clock),
                             ns_seeded_rng_as_rng(&r->rng)) != 0)
                return -1;
        if (open_pcap(r, r->o.out_path, &r->out) != 0)
                return -1;
        if (r->o.pcap_path && open_pcap(r, r->o.pcap_path, &r->capture) != 0)
                return -1;
        /* Interfaces without a capture take the kind of those with one. */
        for (size_t i = 0; i < r->o.n_ifaces; i++)
                if (replay_link_attach(&r->link[i], r->kind, &r->cs, &r->o, i) != 0)
                        return -1;
        if (cli_stack_configure(&r->cs, &r->o) != 0)
                return -1;
        collect(r);
        return 0;
}

int cli_replay(int argc, char **argv)
{
        static struct replay r;
        memset(&r, 0, sizeof(r));
        int p = cli_parse(CLI_REPLAY, argc, argv, &r.o);
        if (p != 0)
                return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        int rc = CLI_EXIT_FAIL;
        if (setup(&r) == 0 && feed(&r) == 0) {
                rc = CLI_EXIT_OK;
                fprintf(stderr, "netstack replay: %zu frames in, %llu frames out to %s (%s)\n",
                        r.n_frames, (unsigned long long)r.sent, r.o.out_path,
                        replay_kind_name(r.kind));
                for (size_t i = 0; i < r.o.n_ifaces; i++)
                        if (r.skipped[i])
                                fprintf(stderr,
                                        "netstack replay: %s: %llu non-IPv4 packets skipped\n",
                                        r.o.ifaces[i].in_file, (unsigned long long)r.skipped[i]);
        }
        if (r.o.stats_path && r.cs.s && cli_write_stats(&r.cs, r.o.stats_path) != 0)
                rc = CLI_EXIT_FAIL;
        cli_stack_destroy(&r.cs);
        for (size_t i = 0; i < CLI_MAX_IFACES; i++)
                replay_link_destroy(&r.link[i]);
        ns_pcap_close(r.out);
        ns_pcap_close(r.capture);
        for (size_t i = 0; i < r.n_frames; i++)
                free(r.frames[i].data);
        free(r.frames);
        return rc;
}
