/*
 * `netstack replay` on the bundled capture (tests/data/demo.pcap, written
 * by tests/data/make_demo_pcap.py): the same input and seed give the same
 * output byte for byte, and the output holds the answers a host owes the
 * peer: ARP reply, echo replies (plain, Record Route, both timestamp
 * flavours, a fragmented one) and the UDP echo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <spawn.h>
#include <pcap/pcap.h>

#include "ns_test.h"

#ifndef NS_TOOL_PATH
#define NS_TOOL_PATH ""
#endif
#ifndef NS_DEMO_PCAP
#define NS_DEMO_PCAP ""
#endif

extern char **environ;

/* Runs the tool with args (NULL-terminated, after argv[0]); its exit status. */
static int run_tool(const char *const *args)
{
        const char *argv[32] = { NS_TOOL_PATH };
        size_t n = 1;
        for (; args[n - 1] && n < 31; n++)
                argv[n] = args[n - 1];
        argv[n] = NULL;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int rc = posix_spawn(&pid, NS_TOOL_PATH, &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        assert_int_equal(rc, 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void skip_without_tool(void)
{
        if (!NS_TOOL_PATH[0] || access(NS_TOOL_PATH, X_OK) != 0)
                skip();
}

static int replay(const char *out, const char *seed)
{
        const char *args[] = { "replay", NS_DEMO_PCAP, "--iface", "tap0=192.0.2.2/24", "--udp-echo",
                               "7",      "--out",      out,       "--drain",           "3",
                               "--seed", seed,         NULL };
        return run_tool(args);
}

static long file_bytes(const char *path, uint8_t **out)
{
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        *out = malloc((size_t)n + 1);
        assert_non_null(*out);
        assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        return n;
}

/* What the output must contain. */
struct seen {
        int arp_replies;
        int echo_replies[6]; /* by sequence number 1..5 */
        int rr_with_our_address;
        int ts_filled;
        int fragments_of_5;
        int udp_echo;
};

static const uint8_t US[4] = { 192, 0, 2, 2 };
static const uint8_t PEER[4] = { 192, 0, 2, 1 };

static void look_at_ipv4(const uint8_t *ip, uint32_t len, struct seen *s)
{
        assert_true(len >= 20);
        uint32_t ihl = (ip[0] & 15u) * 4;
        assert_memory_equal(ip + 12, US, 4);
        assert_memory_equal(ip + 16, PEER, 4);
        uint16_t frag = (uint16_t)(ip[6] << 8 | ip[7]);
        const uint8_t *l4 = ip + ihl;
        if (ip[9] == 1 && (frag & 0x1fff) != 0) {
                s->fragments_of_5++;
                return;
        }
        if (ip[9] == 1 && l4[0] == 0) {
                uint16_t seq = (uint16_t)(l4[6] << 8 | l4[7]);
                assert_true(seq >= 1 && seq <= 5);
                s->echo_replies[seq]++;
                if (seq == 5)
                        s->fragments_of_5++;
                /* RFC 791: the option came back with our address recorded. */
                if (seq == 2 && ihl == 60 && ip[20] == 7 && ip[22] > 4 &&
                    memcmp(ip + 23, US, 4) == 0)
                        s->rr_with_our_address++;
                /* Timestamp option with its pointer moved past the first entry. */
                if ((seq == 3 || seq == 4) && ihl > 20 && ip[20] == 68 && ip[22] > 5)
                        s->ts_filled++;
        }
        if (ip[9] == 17 && l4[0] == 0 && l4[1] == 7 && l4[2] == 0x9c && l4[3] == 0x40)
                s->udp_echo++;
}

static void check_output(const char *path)
{
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(path, errbuf);
        if (!p)
                fail_msg("%s: %s", path, errbuf);
        assert_int_equal(pcap_datalink(p), DLT_EN10MB);
        struct seen s;
        memset(&s, 0, sizeof(s));
        struct pcap_pkthdr *h;
        const u_char *d;
        while (pcap_next_ex(p, &h, &d) == 1) {
                assert_true(h->caplen >= 60);
                uint16_t type = (uint16_t)(d[12] << 8 | d[13]);
                if (type == 0x0806 && d[21] == 2)
                        s.arp_replies++;
                if (type == 0x0800)
                        look_at_ipv4(d + 14, h->caplen - 14, &s);
        }
        pcap_close(p);
        assert_int_equal(s.arp_replies, 1);
        for (int seq = 1; seq <= 5; seq++)
                if (s.echo_replies[seq] != 1)
                        fail_msg("echo reply %d seen %d times", seq, s.echo_replies[seq]);
        assert_int_equal(s.rr_with_our_address, 1);
        assert_int_equal(s.ts_filled, 2);
        assert_int_equal(s.fragments_of_5, 3);
        assert_int_equal(s.udp_echo, 1);
}

static void test_replay_is_deterministic(void **state)
{
        (void)state;
        skip_without_tool();
        char a[] = "/tmp/ns-replay-a.XXXXXX", b[] = "/tmp/ns-replay-b.XXXXXX";
        close(mkstemp(a));
        close(mkstemp(b));
        assert_int_equal(replay(a, "7"), 0);
        assert_int_equal(replay(b, "7"), 0);
        uint8_t *x, *y;
        long nx = file_bytes(a, &x), ny = file_bytes(b, &y);
        assert_int_equal(nx, ny);
        assert_true(nx > 24);
        assert_memory_equal(x, y, (size_t)nx);
        check_output(a);
        /* Another seed: other MACs and IP IDs, the same answers. */
        assert_int_equal(replay(b, "8"), 0);
        check_output(b);
        free(x);
        free(y);
        unlink(a);
        unlink(b);
}

/* --help for each subcommand exits 0; a malformed flag is a usage error (2). */
static void test_help_and_usage_errors(void **state)
{
        (void)state;
        skip_without_tool();
        const char *h0[] = { "--help", NULL };
        const char *h1[] = { "run", "--help", NULL };
        const char *h2[] = { "replay", "--help", NULL };
        const char *h3[] = { "demo", "--help", NULL };
        assert_int_equal(run_tool(h0), 0);
        assert_int_equal(run_tool(h1), 0);
        assert_int_equal(run_tool(h2), 0);
        assert_int_equal(run_tool(h3), 0);
        const char *bad[][8] = {
                { "run", NULL },
                { "run", "--iface", "tap0", NULL },
                { "run", "--iface", "tap0=192.0.2.2/33", NULL },
                { "run", "--iface", "tap0=192.0.2.2/24", "--mtu", "tap1=1280", NULL },
                { "run", "--iface", "tap0=192.0.2.2/24", "--route", "203.0.113.0/24=x@tap0", NULL },
                { "run", "--iface", "tap0=192.0.2.2/24", "--neigh", "192.0.2.1=02:00@tap0", NULL },
                { "run", "--iface", "tap0=192.0.2.2/24", "--join", "192.0.2.9@tap0", NULL },
                { "replay", "--iface", "tap0=192.0.2.2/24", "--out", "/dev/null", NULL },
                { "nonsense", NULL },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (run_tool(bad[i]) != 2)
                        fail_msg("row %zu: expected a usage error", i);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replay_is_deterministic),
                cmocka_unit_test(test_help_and_usage_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
