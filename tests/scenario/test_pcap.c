/*
 * The pcap capture and sniffer (<netstack/pcap.h>): frames going down and
 * coming up through an Ethernet NIC are written with the stack clock's wall
 * time, and libpcap reads back exactly those bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "ns_test.h"
#include <netstack/arp.h>
#include <netstack/eth.h>
#include <netstack/ipv4.h>
#include <netstack/pcap.h>

#define OUR_IP  NS_IP4(192, 0, 2, 1)
#define PEER_IP NS_IP4(192, 0, 2, 2)
#define SEC     1000000000LL

static const uint8_t OUR_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_arp, NULL };

/* A path for a scratch capture; the file is removed by the caller. */
static void temp_path(char *buf, size_t cap)
{
        snprintf(buf, cap, "/tmp/ns-test-pcap.XXXXXX");
        int fd = mkstemp(buf);
        assert_true(fd >= 0);
        close(fd);
}

/* An ARP request from the peer for OUR_IP: 60 bytes with padding. */
static size_t arp_request(uint8_t *f)
{
        memset(f, 0, 60);
        memset(f, 0xff, 6);
        memcpy(f + 6, PEER_MAC, 6);
        f[12] = 0x08;
        f[13] = 0x06;
        static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
        memcpy(f + 14, hdr, 8);
        memcpy(f + 22, PEER_MAC, 6);
        f[28] = 192, f[29] = 0, f[30] = 2, f[31] = 2;
        f[38] = 192, f[39] = 0, f[40] = 2, f[41] = 1;
        return 60;
}

struct rec {
        int64_t ts_us;
        uint32_t len;
        uint8_t data[1600];
};

/* Reads every record of path into recs (at most max); returns the count. */
static size_t read_back(const char *path, int want_dlt, struct rec *recs, size_t max)
{
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(path, errbuf);
        if (!p)
                fail_msg("pcap_open_offline: %s", errbuf);
        assert_int_equal(pcap_datalink(p), want_dlt);
        struct pcap_pkthdr *h;
        const u_char *d;
        size_t n = 0;
        while (pcap_next_ex(p, &h, &d) == 1) {
                assert_true(n < max);
                assert_int_equal(h->caplen, h->len);
                recs[n].ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
                recs[n].len = h->caplen;
                memcpy(recs[n].data, d, h->caplen);
                n++;
        }
        pcap_close(p);
        return n;
}

/*
 * Every frame through the sniffer, both ways, in order: the gratuitous
 * ARP sent on address add, the request injected, the reply to it.
 */
static void test_sniffer_captures_both_directions(void **state)
{
        (void)state;
        char path[64];
        temp_path(path, sizeof(path));
        struct ns_test_env t;
        ns_test_env_init(&t, mods);
        struct ns_pcap *pc;
        char err[128];
        assert_int_equal(ns_pcap_open(NULL, path, NS_PCAP_ETHERNET,
                                      ns_manual_clock_as_clock(&t.clock), &pc, err, sizeof(err)),
                         0);
        struct ns_frame_channel *fc = ns_frame_channel_create(NULL, 1500, 0);
        assert_non_null(fc);
        struct ns_pcap_dev *sniff = ns_pcap_dev_create(NULL, ns_frame_channel_dev(fc), pc);
        assert_non_null(sniff);
        /* The device is taken: a second sniffer or an Ethernet link on it is refused. */
        assert_null(ns_pcap_dev_create(NULL, ns_frame_channel_dev(fc), pc));
        struct ns_eth *eth = ns_eth_create(NULL, ns_pcap_dev_frame_dev(sniff), OUR_MAC);
        assert_non_null(eth);
        assert_int_equal(ns_nic_create(t.s, 1, ns_eth_link(eth), NULL), 0);
        struct ns_ip4_prefix a = { .addr = OUR_IP, .prefix_len = 24 };
        assert_int_equal(ns_nic_add_address(t.s, 1, a), 0);
        struct ns_pkt *garp = ns_frame_channel_read(fc);
        assert_non_null(garp);

        ns_manual_clock_advance(&t.clock, 1500 * 1000 * 1000 + 7777);
        uint8_t req[60];
        size_t n = arp_request(req);
        struct ns_pkt *in = ns_pkt_from_bytes(ns_stack_pool(t.s), 64, req, (uint32_t)n);
        assert_non_null(in);
        ns_frame_dev_deliver(ns_frame_channel_dev(fc), in);
        struct ns_pkt *reply = ns_frame_channel_read(fc);
        assert_non_null(reply);
        assert_int_equal(ns_pcap_records(pc), 3);
        assert_int_equal(ns_pcap_flush(pc), 0);

        static struct rec recs[8];
        size_t got = read_back(path, DLT_EN10MB, recs, 8);
        assert_int_equal(got, 3);
        int64_t t0_us = NS_TEST_WALL_START_NS / 1000;
        assert_int_equal(recs[0].ts_us, t0_us);
        assert_int_equal(recs[0].len, ns_pkt_len(garp));
        assert_memory_equal(recs[0].data, ns_pkt_data(garp), ns_pkt_len(garp));
        assert_int_equal(recs[1].ts_us, t0_us + 1500007);
        assert_int_equal(recs[1].len, n);
        assert_memory_equal(recs[1].data, req, n);
        assert_int_equal(recs[2].ts_us, t0_us + 1500007);
        assert_int_equal(recs[2].len, ns_pkt_len(reply));
        assert_memory_equal(recs[2].data, ns_pkt_data(reply), ns_pkt_len(reply));
        /* The reply is an ARP reply from our MAC to the peer's. */
        assert_memory_equal(recs[2].data, PEER_MAC, 6);
        assert_memory_equal(recs[2].data + 6, OUR_MAC, 6);
        assert_int_equal(recs[2].data[21], 2);

        ns_pkt_free(garp);
        ns_pkt_free(reply);
        ns_test_env_destroy(&t);
        ns_eth_destroy(eth);
        ns_pcap_dev_destroy(sniff);
        ns_frame_channel_destroy(fc);
        ns_pcap_close(pc);
        unlink(path);
}

/* A raw-IP capture with explicit times; truncation to microseconds. */
static void test_raw_capture_with_times(void **state)
{
        (void)state;
        char path[64];
        temp_path(path, sizeof(path));
        struct ns_manual_clock clk;
        ns_manual_clock_init(&clk, 0, 5 * SEC);
        struct ns_pcap *pc;
        assert_int_equal(
            ns_pcap_open(NULL, path, NS_PCAP_RAW, ns_manual_clock_as_clock(&clk), &pc, NULL, 0), 0);
        /* A sniffer needs an Ethernet capture. */
        struct ns_frame_channel *fc = ns_frame_channel_create(NULL, 1500, 0);
        assert_null(ns_pcap_dev_create(NULL, ns_frame_channel_dev(fc), pc));
        ns_frame_channel_destroy(fc);
        uint8_t ip[20] = {
                0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2
        };
        ns_pcap_write(pc, ip, sizeof(ip));
        ns_pcap_write_at(pc, 1767225600LL * SEC + 123456789, ip, 10);
        ns_pcap_close(pc);
        static struct rec recs[4];
        assert_int_equal(read_back(path, DLT_RAW, recs, 4), 2);
        assert_int_equal(recs[0].ts_us, 5000000);
        assert_int_equal(recs[0].len, 20);
        assert_memory_equal(recs[0].data, ip, 20);
        assert_int_equal(recs[1].ts_us, 1767225600LL * 1000000 + 123456);
        assert_int_equal(recs[1].len, 10);
        unlink(path);
}

/* Errors: a file that cannot be created names the cause; bad arguments. */
static void test_open_errors(void **state)
{
        (void)state;
        struct ns_manual_clock clk;
        ns_manual_clock_init(&clk, 0, 0);
        struct ns_clock c = ns_manual_clock_as_clock(&clk);
        struct ns_pcap *pc = NULL;
        char err[256];
        assert_int_equal(ns_pcap_open(NULL, "/nonexistent-dir/x.pcap", NS_PCAP_ETHERNET, c, &pc,
                                      err, sizeof(err)),
                         NS_ERR_IO);
        assert_true(strlen(err) > 0);
        assert_null(pc);
        assert_int_equal(
            ns_pcap_open(NULL, "/tmp/x.pcap", (enum ns_pcap_linktype)7, c, &pc, err, sizeof(err)),
            NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_pcap_open(NULL, NULL, NS_PCAP_ETHERNET, c, &pc, err, sizeof(err)),
                         NS_ERR_INVALID_ARGUMENT);
        ns_pcap_close(NULL);
        ns_pcap_dev_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sniffer_captures_both_directions),
                cmocka_unit_test(test_raw_capture_with_times),
                cmocka_unit_test(test_open_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
