/*
 * `netstack replay` on a raw-IP capture (LINKTYPE_RAW, what tcpdump writes
 * on a TUN device), written here with libpcap: two ICMP echo requests to
 * the replay's address and an IPv6 packet between them. The output is a
 * raw-IP capture holding exactly the two echo replies (addresses, type 0,
 * both checksums, identifier, sequence and data checked); the IPv6 packet
 * is skipped and counted; the same input and seed give the same bytes; a
 * replay mixing Ethernet and raw-IP captures is refused naming both.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "ns_test.h"

#ifndef NS_TOOL_PATH
#define NS_TOOL_PATH ""
#endif
#ifndef NS_DEMO_PCAP
#define NS_DEMO_PCAP ""
#endif

extern char **environ;

static const uint8_t US[4] = { 192, 0, 2, 2 };
static const uint8_t PEER[4] = { 192, 0, 2, 1 };
static const char DATA[] = "raw-ip replay!!!"; /* 16 bytes of echo data */
#define DATA_LEN 16
#define ECHO_ID  0x4e53

static void skip_without_tool(void)
{
        if (!NS_TOOL_PATH[0] || access(NS_TOOL_PATH, X_OK) != 0)
                skip();
}

/* Runs the tool with args (NULL-terminated); stderr goes to err_path. Its exit status. */
static int run_tool(const char *const *args, const char *err_path)
{
        const char *argv[32] = { NS_TOOL_PATH };
        size_t n = 1;
        for (; args[n - 1] && n < 31; n++)
                argv[n] = args[n - 1];
        argv[n] = NULL;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_t pid;
        int rc = posix_spawn(&pid, NS_TOOL_PATH, &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        assert_int_equal(rc, 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
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
        (*out)[n] = '\0';
        fclose(f);
        return n;
}

/* RFC 1071 sum written here, not the library's: 0xffff over a valid header. */
static uint16_t sum16(const uint8_t *p, size_t len)
{
        uint32_t s = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                s += (uint32_t)p[len - 1] << 8;
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint16_t)s;
}

static void put_sum(uint8_t *at, const uint8_t *p, size_t len)
{
        uint16_t c = (uint16_t)~sum16(p, len);
        at[0] = (uint8_t)(c >> 8);
        at[1] = (uint8_t)c;
}

/* An ICMP echo request PEER -> US with sequence seq; its length. */
static uint32_t echo_request(uint8_t *ip, uint16_t seq)
{
        uint32_t len = 20 + 8 + DATA_LEN;
        memset(ip, 0, len);
        ip[0] = 0x45;
        ip[3] = (uint8_t)len;
        ip[5] = (uint8_t)seq; /* identification */
        ip[8] = 64;
        ip[9] = 1;
        memcpy(ip + 12, PEER, 4);
        memcpy(ip + 16, US, 4);
        put_sum(ip + 10, ip, 20);
        uint8_t *icmp = ip + 20;
        icmp[0] = 8;
        icmp[4] = ECHO_ID >> 8;
        icmp[5] = ECHO_ID & 0xff;
        icmp[7] = (uint8_t)seq;
        memcpy(icmp + 8, DATA, DATA_LEN);
        put_sum(icmp + 2, icmp, 8 + DATA_LEN);
        return len;
}

/* An IPv6 packet (ICMPv6 echo request, 2001:db8::1 -> 2001:db8::2); its length. */
static uint32_t ipv6_packet(uint8_t *p)
{
        memset(p, 0, 48);
        p[0] = 0x60;
        p[5] = 8;    /* payload length */
        p[6] = 58;   /* next header: ICMPv6 */
        p[7] = 64;   /* hop limit */
        p[8] = 0x20; /* 2001:db8::1 */
        p[9] = 0x01;
        p[10] = 0x0d;
        p[11] = 0xb8;
        p[23] = 1;
        memcpy(p + 24, p + 8, 16);
        p[39] = 2;
        p[40] = 128; /* echo request */
        return 48;
}

/* Writes the raw-IP capture: echo 1 at t=1 s, IPv6 at 1.1 s, echo 2 at 1.2 s. */
static void write_capture(const char *path)
{
        pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
        assert_non_null(dead);
        pcap_dumper_t *d = pcap_dump_open(dead, path);
        if (!d)
                fail_msg("%s: %s", path, pcap_geterr(dead));
        uint8_t pkt[128];
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        h.ts.tv_sec = 1767225601;
        h.caplen = h.len = echo_request(pkt, 1);
        pcap_dump((u_char *)d, &h, pkt);
        h.ts.tv_usec = 100000;
        h.caplen = h.len = ipv6_packet(pkt);
        pcap_dump((u_char *)d, &h, pkt);
        h.ts.tv_usec = 200000;
        h.caplen = h.len = echo_request(pkt, 2);
        pcap_dump((u_char *)d, &h, pkt);
        pcap_dump_close(d);
        pcap_close(dead);
}

static int replay(const char *in, const char *out, const char *err_path)
{
        const char *args[] = { "replay", in,  "--iface", "tun0=192.0.2.2/24",
                               "--out",  out, "--drain", "1",
                               "--seed", "7", NULL };
        return run_tool(args, err_path);
}

/* One echo reply US -> PEER for sequence seq, checked field by field. */
static void check_reply(const uint8_t *ip, uint32_t len, uint16_t seq)
{
        assert_int_equal(len, 20 + 8 + DATA_LEN);
        assert_int_equal(ip[0], 0x45);
        assert_int_equal(ip[2] << 8 | ip[3], len);
        assert_int_equal(ip[9], 1);
        assert_memory_equal(ip + 12, US, 4);
        assert_memory_equal(ip + 16, PEER, 4);
        assert_int_equal(sum16(ip, 20), 0xffff);
        const uint8_t *icmp = ip + 20;
        assert_int_equal(icmp[0], 0); /* echo reply */
        assert_int_equal(icmp[1], 0);
        assert_int_equal(sum16(icmp, 8 + DATA_LEN), 0xffff);
        assert_int_equal(icmp[4] << 8 | icmp[5], ECHO_ID);
        assert_int_equal(icmp[6] << 8 | icmp[7], seq);
        assert_memory_equal(icmp + 8, DATA, DATA_LEN);
}

static void check_output(const char *path)
{
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(path, errbuf);
        if (!p)
                fail_msg("%s: %s", path, errbuf);
        assert_int_equal(pcap_datalink(p), DLT_RAW);
        struct pcap_pkthdr *h;
        const u_char *d;
        uint16_t seq = 0;
        while (pcap_next_ex(p, &h, &d) == 1) {
                seq++;
                assert_true(seq <= 2);
                check_reply(d, h->caplen, seq);
        }
        pcap_close(p);
        assert_int_equal(seq, 2);
}

static void test_raw_replay_answers_and_is_deterministic(void **state)
{
        (void)state;
        skip_without_tool();
        char in[] = "/tmp/ns-replay-raw-in.XXXXXX", a[] = "/tmp/ns-replay-raw-a.XXXXXX",
             b[] = "/tmp/ns-replay-raw-b.XXXXXX", e[] = "/tmp/ns-replay-raw-e.XXXXXX";
        close(mkstemp(in));
        close(mkstemp(a));
        close(mkstemp(b));
        close(mkstemp(e));
        write_capture(in);
        assert_int_equal(replay(in, a, e), 0);
        check_output(a);
        uint8_t *msg;
        file_bytes(e, &msg);
        char want[128];
        snprintf(want, sizeof(want), "%s: 1 non-IPv4 packets skipped", in);
        if (!strstr((char *)msg, want))
                fail_msg("stderr lacks '%s': %s", want, (char *)msg);
        assert_non_null(strstr((char *)msg, "2 frames in, 2 frames out"));
        free(msg);
        assert_int_equal(replay(in, b, e), 0);
        uint8_t *x, *y;
        long nx = file_bytes(a, &x), ny = file_bytes(b, &y);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, (size_t)nx);
        free(x);
        free(y);
        unlink(in);
        unlink(a);
        unlink(b);
        unlink(e);
}

/* Ethernet on one interface, raw IP on another: refused, naming both files. */
static void test_mixed_link_types_refused(void **state)
{
        (void)state;
        skip_without_tool();
        char in[] = "/tmp/ns-replay-raw-in.XXXXXX", e[] = "/tmp/ns-replay-raw-e.XXXXXX";
        close(mkstemp(in));
        close(mkstemp(e));
        write_capture(in);
        char in_arg[64];
        snprintf(in_arg, sizeof(in_arg), "tun0=%s", in);
        const char *args[] = { "replay",  NS_DEMO_PCAP,
                               "--iface", "tap0=192.0.2.2/24",
                               "--iface", "tun0=198.51.100.2/24",
                               "--in",    in_arg,
                               "--out",   "/dev/null",
                               NULL };
        assert_int_equal(run_tool(args, e), 1);
        uint8_t *msg;
        file_bytes(e, &msg);
        if (!strstr((char *)msg, NS_DEMO_PCAP) || !strstr((char *)msg, in))
                fail_msg("the error does not name both captures: %s", (char *)msg);
        free(msg);
        unlink(in);
        unlink(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_raw_replay_answers_and_is_deterministic),
                cmocka_unit_test(test_mixed_link_types_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
