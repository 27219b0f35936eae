/*
 * lwIP side of the benchmark, against Debian's liblwip (2.1.3). Same rows
 * and output as netstack_bench.c; see harness.h.
 *
 * inet_chksum() is lwIP's public checksum; its length is a u16_t, so the
 * 64 KiB row calls the function it wraps, lwip_standard_chksum() (exported by
 * liblwip.so but not declared in its headers), and complements the result
 * the way inet_chksum() does.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#include "../harness.h"

u16_t lwip_standard_chksum(const void *dataptr, int len);

static u16_t lwip_checksum(const struct bench_csum_ctx *c)
{
        if (c->len <= 0xffff)
                return inet_chksum(c->data, (u16_t)c->len);
        return (u16_t)~lwip_standard_chksum(c->data, (int)c->len);
}

static uint64_t run_checksum(void *ctx, uint64_t iters)
{
        struct bench_csum_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                bench_keep(c->data);
                acc += lwip_checksum(c);
        }
        return acc;
}

/* lwIP returns the field in network order; report it in host order. */
static uint64_t check_checksum(void *ctx)
{
        u16_t v = lwip_checksum(ctx);
        const uint8_t *b = (const uint8_t *)&v;
        return (uint64_t)b[0] << 8 | b[1];
}

/* ---- packet rows ----
 *
 * lwIP as Debian builds it (NO_SYS 0 with core locking, MEM_LIBC_MALLOC and
 * MEMP_MEM_MALLOC: every pbuf and pool element is a malloc; LWIP_STATS 0:
 * no counters; IP_FORWARD 1; IP_REASS_MAX_PBUFS 10), driven NO_SYS-style
 * from this one thread: lwip_init() instead of tcpip_init(), so no tcpip
 * thread exists and the core-lock assertions pass, and packets go straight
 * to netif->input (ip_input) as a driver's receive loop would hand them.
 *
 * Each injection copies the packet into a pbuf_alloc(PBUF_LINK, len,
 * PBUF_RAM) buffer (14 bytes of link headroom, as a pbuf out of an Ethernet
 * driver has after ethernet_input()). The netifs' output callback takes a
 * reference to each frame and queues it; the row then reads and frees the
 * queue, as the other stacks read and free their channel's queue.
 */

#define LINK_QUEUE 64

struct nif {
        struct netif netif;
        struct pbuf *q[LINK_QUEUE];
        unsigned n;
        uint64_t dropped;
};

struct lw_ctx {
        struct nif nif[3];
        struct udp_pcb *pcb;
        uint8_t pkt[BENCH_FWD_BIG];
        uint32_t pkt_len;
        struct bench_frags f;
        uint8_t *tx;
        size_t tx_len;
        uint64_t ops;
        uint64_t rx_count;
        uint64_t rx_bytes;
        bool hashing;
        uint64_t rx_hash;
};

static err_t nif_output(struct netif *n, struct pbuf *p, const ip4_addr_t *next_hop)
{
        (void)next_hop;
        struct nif *f = (struct nif *)n;
        if (f->n == LINK_QUEUE) {
                f->dropped++;
                return ERR_MEM;
        }
        pbuf_ref(p);
        f->q[f->n++] = p;
        return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
        n->output = nif_output;
        n->mtu = 1500;
        n->flags = NETIF_FLAG_BROADCAST;
        n->name[0] = 'b';
        n->name[1] = 'n';
        return ERR_OK;
}

/* Takes the oldest queued frame (the caller frees it), or NULL. */
static struct pbuf *nif_read(struct nif *f)
{
        if (!f->n)
                return NULL;
        struct pbuf *p = f->q[0];
        memmove(f->q, f->q + 1, --f->n * sizeof(f->q[0]));
        return p;
}

static void nif_drain(struct nif *f)
{
        for (unsigned i = 0; i < f->n; i++)
                pbuf_free(f->q[i]);
        f->n = 0;
}

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                   u16_t port)
{
        (void)pcb;
        (void)addr;
        (void)port;
        struct lw_ctx *c = arg;
        c->rx_count++;
        c->rx_bytes += p->tot_len;
        if (c->hashing)
                for (struct pbuf *q = p; q; q = q->next)
                        c->rx_hash = bench_fnv(c->rx_hash, q->payload, q->len);
        pbuf_free(p);
}

static void set_ip4(ip4_addr_t *a, uint32_t host_order)
{
        a->addr = lwip_htonl(host_order);
}

static struct lw_ctx *lw_stack(bool two_nics)
{
        static bool inited;
        if (!inited) {
                lwip_init();
                inited = true;
        }
        struct lw_ctx *c = calloc(1, sizeof(*c));
        if (!c)
                abort();
        uint32_t addrs[3] = { 0, BENCH_US, BENCH_US2 };
        for (int i = 1; i <= (two_nics ? 2 : 1); i++) {
                ip4_addr_t ip, mask, gw;
                set_ip4(&ip, addrs[i]);
                set_ip4(&mask, 0xffffff00u);
                set_ip4(&gw, 0);
                if (!netif_add(&c->nif[i].netif, &ip, &mask, &gw, c, nif_init, ip_input))
                        abort();
                netif_set_up(&c->nif[i].netif);
                netif_set_link_up(&c->nif[i].netif);
        }
        c->pcb = udp_new();
        if (!c->pcb || udp_bind(c->pcb, IP_ANY_TYPE, BENCH_DPORT) != ERR_OK)
                abort();
        udp_recv(c->pcb, on_udp, c);
        return c;
}

static void lw_teardown(void *ctx)
{
        struct lw_ctx *c = ctx;
        udp_remove(c->pcb);
        for (int i = 1; i <= 2; i++) {
                nif_drain(&c->nif[i]);
                if (c->nif[i].netif.output)
                        netif_remove(&c->nif[i].netif);
        }
        bench_frags_free(&c->f);
        free(c->tx);
        free(c);
}

static void expect_count(const char *what, uint64_t got, uint64_t want)
{
        if (got != want)
                bench_fail("%s is %llu, want %llu", what, (unsigned long long)got,
                           (unsigned long long)want);
}

/* Copies the bytes into a fresh pbuf and hands it to the netif's input. */
static void inject(struct lw_ctx *c, int nic, const uint8_t *bytes, uint32_t len)
{
        struct pbuf *p = pbuf_alloc(PBUF_LINK, (u16_t)len, PBUF_RAM);
        if (!p) {
                bench_fail("pbuf_alloc failed");
                return;
        }
        memcpy(p->payload, bytes, len);
        struct netif *n = &c->nif[nic].netif;
        if (n->input(p, n) != ERR_OK)
                pbuf_free(p);
}

static void *setup_rx_udp(void)
{
        struct lw_ctx *c = lw_stack(false);
        c->pkt_len = (uint32_t)bench_ipv4_udp(c->pkt, BENCH_PEER, BENCH_US, BENCH_UDP_LEN);
        return c;
}

static uint64_t run_rx_udp(void *ctx, uint64_t iters)
{
        struct lw_ctx *c = ctx;
        for (uint64_t i = 0; i < iters; i++)
                inject(c, 1, c->pkt, c->pkt_len);
        c->ops += iters;
        return c->rx_count;
}

/* lwIP keeps no counters in this build: deliveries and frames are checked. */
static uint64_t check_delivery(struct lw_ctx *c, uint64_t (*run)(void *, uint64_t))
{
        c->hashing = true;
        c->rx_hash = BENCH_FNV_INIT;
        uint64_t before = c->rx_count;
        run(c, 1);
        c->hashing = false;
        expect_count("datagrams delivered by the op", c->rx_count - before, 1);
        expect_count("datagrams delivered", c->rx_count, c->ops);
        expect_count("frames sent", c->nif[1].n, 0);
        return c->rx_hash;
}

static uint64_t check_rx_udp(void *ctx)
{
        return check_delivery(ctx, run_rx_udp);
}

static void *setup_rx_invalid(void)
{
        struct lw_ctx *c = setup_rx_udp();
        c->pkt[10] ^= 0xff;
        return c;
}

static uint64_t check_rx_invalid(void *ctx)
{
        struct lw_ctx *c = ctx;
        run_rx_udp(c, 1);
        expect_count("frames sent", c->nif[1].n, 0);
        return c->rx_count;
}

static void *setup_echo(void)
{
        struct lw_ctx *c = lw_stack(false);
        c->pkt_len = (uint32_t)bench_icmp_echo(c->pkt);
        return c;
}

/* Reads one frame and frees it; returns its length, 0 when none was queued. */
static uint32_t read_one(struct nif *f)
{
        struct pbuf *r = nif_read(f);
        if (!r)
                return 0;
        uint32_t len = r->tot_len;
        pbuf_free(r);
        return len;
}

static uint64_t run_echo(void *ctx, uint64_t iters)
{
        struct lw_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                inject(c, 1, c->pkt, c->pkt_len);
                uint32_t n = read_one(&c->nif[1]);
                if (!n)
                        bench_fail("no echo reply");
                acc += n;
        }
        c->ops += iters;
        return acc;
}

/* Flattens a frame into buf (at most cap bytes); returns its length. */
static size_t flatten(struct pbuf *p, uint8_t *buf, size_t cap)
{
        size_t n = p->tot_len < cap ? p->tot_len : cap;
        pbuf_copy_partial(p, buf, (u16_t)n, 0);
        return n;
}

static uint64_t check_echo(void *ctx)
{
        struct lw_ctx *c = ctx;
        inject(c, 1, c->pkt, c->pkt_len);
        c->ops++;
        struct pbuf *r = nif_read(&c->nif[1]);
        if (!r) {
                bench_fail("no echo reply");
                return 0;
        }
        uint8_t buf[256];
        size_t n = flatten(r, buf, sizeof(buf));
        pbuf_free(r);
        expect_count("queued replies", c->nif[1].n, 0);
        return bench_check_echo_reply(buf, n, c->pkt);
}

static void *forward_setup(size_t payload_len)
{
        struct lw_ctx *c = lw_stack(true);
        c->pkt_len = (uint32_t)bench_ipv4_udp(c->pkt, BENCH_PEER, BENCH_FAR, payload_len);
        return c;
}

static void *setup_forward(void)
{
        return forward_setup(BENCH_UDP_LEN);
}

/* forward-1500: the same, with a 1500-byte (MTU-sized) packet. */
static void *setup_forward_1500(void)
{
        return forward_setup(BENCH_FWD_BIG - 28);
}

static uint64_t run_forward(void *ctx, uint64_t iters)
{
        struct lw_ctx *c = ctx;
        uint64_t acc = 0;
        for (uint64_t i = 0; i < iters; i++) {
                inject(c, 1, c->pkt, c->pkt_len);
                uint32_t n = read_one(&c->nif[2]);
                if (!n)
                        bench_fail("nothing forwarded");
                acc += n;
        }
        c->ops += iters;
        return acc;
}

static uint64_t check_forward(void *ctx)
{
        struct lw_ctx *c = ctx;
        inject(c, 1, c->pkt, c->pkt_len);
        c->ops++;
        struct pbuf *r = nif_read(&c->nif[2]);
        if (!r) {
                bench_fail("nothing forwarded");
                return 0;
        }
        static uint8_t buf[BENCH_FWD_BIG + 64];
        size_t n = flatten(r, buf, sizeof(buf));
        pbuf_free(r);
        expect_count("frames out on NIC 1", c->nif[1].n, 0);
        expect_count("datagrams delivered", c->rx_count, 0);
        return bench_check_forwarded(buf, n, c->pkt, c->pkt_len);
}

static void *reasm_setup(size_t udp_len, size_t piece, enum bench_order order)
{
        struct lw_ctx *c = lw_stack(false);
        bench_frags_make(&c->f, udp_len, piece, order);
        return c;
}

/*
 * 10 fragments: IP_REASS_MAX_PBUFS in Debian's build, so the largest shape
 * lwIP holds. The 44-fragment and 500-fragment rows are not listed: tried,
 * lwIP drops every such datagram (nothing is delivered).
 */
static void *setup_reasm_14792(void)
{
        return reasm_setup(14792, 1480, BENCH_IN_ORDER);
}

static uint64_t run_reasm(void *ctx, uint64_t iters)
{
        struct lw_ctx *c = ctx;
        for (uint64_t i = 0; i < iters; i++) {
                bench_frags_next_id(&c->f);
                for (uint32_t k = 0; k < c->f.n; k++)
                        inject(c, 1, c->f.wire[k], c->f.len[k]);
        }
        c->ops += iters;
        return c->rx_bytes;
}

static uint64_t check_reasm(void *ctx)
{
        return check_delivery(ctx, run_reasm);
}

static void *setup_tx_fragment(void)
{
        struct lw_ctx *c = lw_stack(false);
        c->tx_len = 65000 - 8;
        c->tx = bench_data(c->tx_len);
        return c;
}

/* Copies the payload into a pbuf and sends it; the fragments stay queued. */
static void tx_send(struct lw_ctx *c)
{
        struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)c->tx_len, PBUF_RAM);
        ip_addr_t dst = IPADDR4_INIT(lwip_htonl(BENCH_PEER));
        if (!p || pbuf_take(p, c->tx, (u16_t)c->tx_len) != ERR_OK ||
            udp_sendto(c->pcb, p, &dst, BENCH_SPORT) != ERR_OK)
                bench_fail("udp_sendto failed");
        if (p)
                pbuf_free(p);
}

static uint64_t run_tx_fragment(void *ctx, uint64_t iters)
{
        struct lw_ctx *c = ctx;
        uint64_t n = 0;
        for (uint64_t i = 0; i < iters; i++) {
                tx_send(c);
                n += c->nif[1].n;
                nif_drain(&c->nif[1]);
        }
        c->ops += iters;
        if (n != iters * 44)
                bench_fail("%llu fragments for %llu datagrams", (unsigned long long)n,
                           (unsigned long long)iters);
        return n;
}

static uint64_t check_tx_fragment(void *ctx)
{
        struct lw_ctx *c = ctx;
        tx_send(c);
        c->ops++;
        static uint8_t store[64][1500];
        const uint8_t *frag[64];
        size_t len[64];
        uint32_t n = 0;
        for (struct pbuf *p; n < 64 && (p = nif_read(&c->nif[1])); n++) {
                len[n] = flatten(p, store[n], sizeof(store[n]));
                frag[n] = store[n];
                pbuf_free(p);
        }
        expect_count("fragments", n, 44);
        return bench_check_tx_frags(frag, len, n);
}

int main(int argc, char **argv)
{
        const struct bench_workload rows[] = {
                { "csum-20", 20, bench_csum_setup_20, run_checksum, check_checksum,
                  bench_csum_teardown },
                { "csum-1500", 1500, bench_csum_setup_1500, run_checksum, check_checksum,
                  bench_csum_teardown },
                { "csum-64k", 65536, bench_csum_setup_64k, run_checksum, check_checksum,
                  bench_csum_teardown },
                { "rx-udp", 0, setup_rx_udp, run_rx_udp, check_rx_udp, lw_teardown },
                { "rx-icmp-echo", 0, setup_echo, run_echo, check_echo, lw_teardown },
                { "forward", 0, setup_forward, run_forward, check_forward, lw_teardown },
                { "forward-1500", BENCH_FWD_BIG, setup_forward_1500, run_forward, check_forward,
                  lw_teardown },
                { "rx-invalid", 0, setup_rx_invalid, run_rx_udp, check_rx_invalid, lw_teardown },
                { "rx-reassembly-14792", 14792, setup_reasm_14792, run_reasm, check_reasm,
                  lw_teardown },
                { "tx-fragment", 65000, setup_tx_fragment, run_tx_fragment, check_tx_fragment,
                  lw_teardown },
        };
        return bench_main("lwip", rows, sizeof(rows) / sizeof(rows[0]), argc, argv);
}
