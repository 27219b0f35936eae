/*
 * `netstack run`: the stack as a host or router on TAP devices, driven by
 * one epoll loop that sleeps until input, a signal or the next timer
 * deadline (ns_stack_poll()).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <netstack/tap.h>

#include "cli.h"

/* epoll data of the signal descriptor; taps use their index. */
#define SIGNAL_TAG UINT32_MAX
/* Longest sleep: a slow clock drift or a missed deadline costs no more. */
#define MAX_SLEEP_MS 1000
/* --verbose: one status line per this many nanoseconds. */
#define STATUS_PERIOD_NS 1000000000LL

struct run {
        struct cli_opts o;
        struct cli_stack cs;
        struct ns_clock clock;
        struct ns_tap *tap[CLI_MAX_IFACES];
        struct ns_pcap *pcap;
        int epfd, sigfd;
        /* --verbose: when the next status line is due, and the last totals. */
        int64_t started_ns, next_status_ns;
        uint64_t last_in, last_out, last_drops;
};

/*
 * The counters --verbose adds up as "drops": every receive-path drop
 * reason that is not also counted in another one (checksum errors are in
 * malformed_packets_received, so only the latter is listed), plus packets
 * the stack could not send. docs/netstack.1 lists the same names.
 */
static const char *const drop_counters[] = {
        "ip.disabled_packets_received",
        "ip.invalid_destination_addresses_received",
        "ip.invalid_source_addresses_received",
        "ip.own_source_dropped",
        "ip.martian_loopback_dropped",
        "ip.malformed_packets_received",
        "ip.unknown_protocol_received",
        "ip.in_no_routes",
        "ip.iptables_prerouting_dropped",
        "ip.iptables_input_dropped",
        "ip.iptables_forward_dropped",
        "ip.iptables_output_dropped",
        "ip.iptables_postrouting_dropped",
        "ip.reasm_fails",
        "ip.outgoing_packet_errors",
        "icmp.received_invalid",
        "igmp.received_invalid",
        "arp.malformed_packets_received",
        "udp.unknown_port_errors",
        "udp.receive_buffer_errors",
        "udp.malformed_packets_received",
        "nic.disabled_rx",
        "nic.unknown_l3_protocol",
        "nic.malformed_l2",
        "nic.tx_errors",
};

static uint64_t counter(const struct ns_stats *st, const char *name)
{
        const uint64_t *v = ns_stats_find(st, name);
        return v ? *v : 0;
}

/*
 * --verbose: one line to stderr when due: totals since start with the
 * change since the last line in parentheses, and the datagrams being
 * reassembled right now with the bytes they hold.
 */
static void status_line(struct run *r, int64_t now)
{
        if (!r->o.verbose || now < r->next_status_ns)
                return;
        struct ns_stats st;
        ns_stack_get_stats(r->cs.s, &st);
        uint64_t drops = 0;
        for (size_t i = 0; i < sizeof(drop_counters) / sizeof(drop_counters[0]); i++)
                drops += counter(&st, drop_counters[i]);
        uint64_t in = st.nic.rx_packets, out = st.nic.tx_packets;
        uint32_t inflight = 0;
        uint64_t held = 0;
        (void)ns_ipv4_reasm_in_flight(r->cs.s, &inflight, &held);
        fprintf(stderr,
                "netstack: %llds packets in %llu (+%llu) out %llu (+%llu) drops %llu (+%llu) "
                "reassembling %u (%llu bytes) reassembled %llu failed %llu\n",
                (long long)((now - r->started_ns) / 1000000000), (unsigned long long)in,
                (unsigned long long)(in - r->last_in), (unsigned long long)out,
                (unsigned long long)(out - r->last_out), (unsigned long long)drops,
                (unsigned long long)(drops - r->last_drops), inflight, (unsigned long long)held,
                (unsigned long long)st.ip.reasm_oks, (unsigned long long)st.ip.reasm_fails);
        r->last_in = in;
        r->last_out = out;
        r->last_drops = drops;
        while (r->next_status_ns <= now)
                r->next_status_ns += STATUS_PERIOD_NS;
}

static int open_devices(struct run *r)
{
        char err[256];
        for (size_t i = 0; i < r->o.n_ifaces; i++) {
                struct ns_tap_config tc = {
                        .name = r->o.ifaces[i].name,
                        .kind = NS_TAP_ETHERNET,
                        .mtu = r->o.ifaces[i].mtu,
                        .bring_up = true,
                        .pool = ns_stack_pool(r->cs.s),
                };
                int rc = ns_tap_open(NULL, &tc, &r->tap[i], err, sizeof(err));
                if (rc != 0) {
                        fprintf(stderr, "netstack run: %s (%s)\n", err, ns_err_name(rc));
                        return -1;
                }
                if (cli_stack_add_iface(&r->cs, &r->o, i, ns_tap_frame_dev(r->tap[i]), r->pcap,
                                        false) != 0)
                        return -1;
                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
                if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, ns_tap_fd(r->tap[i]), &ev) != 0) {
                        fprintf(stderr, "netstack run: epoll: %s\n", strerror(errno));
                        return -1;
                }
        }
        return 0;
}

static int setup_signals(struct run *r)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
                return -1;
        signal(SIGPIPE, SIG_IGN);
        r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (r->sigfd < 0)
                return -1;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = SIGNAL_TAG };
        return epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->sigfd, &ev);
}

/* Handles pending signals. Returns true when the loop should stop. */
static bool on_signals(struct run *r)
{
        struct signalfd_siginfo si;
        bool stop = false;
        while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGUSR1) {
                        if (r->o.stats_path)
                                (void)cli_write_stats(&r->cs, r->o.stats_path);
                        if (r->pcap)
                                (void)ns_pcap_flush(r->pcap);
                } else {
                        stop = true;
                }
        }
        return stop;
}

/* Milliseconds until deadline (rounded up so the timer is due on waking). */
static int sleep_ms(struct run *r, int64_t deadline)
{
        if (r->o.verbose && r->next_status_ns < deadline)
                deadline = r->next_status_ns;
        if (deadline == INT64_MAX)
                return MAX_SLEEP_MS;
        int64_t now = r->clock.now_ns(r->clock.ctx);
        if (deadline <= now)
                return 0;
        int64_t ms = (deadline - now + 999999) / 1000000;
        return ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)ms;
}

static int loop(struct run *r)
{
        struct epoll_event evs[CLI_MAX_IFACES + 1];
        for (;;) {
                int64_t deadline = ns_stack_poll(r->cs.s);
                status_line(r, r->clock.now_ns(r->clock.ctx));
                int n = epoll_wait(r->epfd, evs, CLI_MAX_IFACES + 1, sleep_ms(r, deadline));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "netstack run: epoll_wait: %s\n", strerror(errno));
                        return CLI_EXIT_FAIL;
                }
                for (int k = 0; k < n; k++) {
                        uint32_t tag = evs[k].data.u32;
                        if (tag == SIGNAL_TAG) {
                                if (on_signals(r))
                                        return CLI_EXIT_OK;
                                continue;
                        }
                        /* Level-triggered: a full batch leaves the fd readable for the next turn.
                         */
                        if (ns_tap_receive(r->tap[tag]) < 0) {
                                fprintf(stderr, "netstack run: %s: read failed\n",
                                        ns_tap_name(r->tap[tag]));
                                return CLI_EXIT_FAIL;
                        }
                }
        }
}

static void teardown(struct run *r)
{
        if (r->o.stats_path && r->cs.s)
                (void)cli_write_stats(&r->cs, r->o.stats_path);
        cli_stack_destroy(&r->cs);
        for (size_t i = 0; i < CLI_MAX_IFACES; i++)
                ns_tap_close(r->tap[i]);
        ns_pcap_close(r->pcap);
        if (r->sigfd >= 0)
                close(r->sigfd);
        if (r->epfd >= 0)
                close(r->epfd);
}

int cli_run(int argc, char **argv)
{
        static struct run r;
        memset(&r, 0, sizeof(r));
        r.epfd = r.sigfd = -1;
        int p = cli_parse(CLI_RUN, argc, argv, &r.o);
        if (p != 0)
                return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        int rc = CLI_EXIT_FAIL;
        r.clock = ns_system_clock();
        r.epfd = epoll_create1(EPOLL_CLOEXEC);
        if (r.epfd < 0 || setup_signals(&r) != 0) {
                fprintf(stderr, "netstack run: epoll/signalfd: %s\n", strerror(errno));
                goto out;
        }
        if (cli_stack_create(&r.cs, r.clock, ns_system_rng()) != 0)
                goto out;
        if (r.o.pcap_path) {
                char err[256];
                int e = ns_pcap_open(NULL, r.o.pcap_path, NS_PCAP_ETHERNET, r.clock, &r.pcap, err,
                                     sizeof(err));
                if (e != 0) {
                        fprintf(stderr, "netstack run: --pcap %s: %s\n", r.o.pcap_path,
                                err[0] ? err : ns_strerror(e));
                        goto out;
                }
        }
        if (open_devices(&r) != 0 || cli_stack_configure(&r.cs, &r.o) != 0)
                goto out;
        printf("ready\n");
        fflush(stdout);
        r.started_ns = r.clock.now_ns(r.clock.ctx);
        r.next_status_ns = r.started_ns + STATUS_PERIOD_NS;
        rc = loop(&r);
out:
        teardown(&r);
        return rc;
}
