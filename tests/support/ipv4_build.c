/* IPv4 scenario helpers; see ipv4_build.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"

#include "core/stack.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

size_t ipv4_build(uint8_t *buf, size_t cap, const struct ipv4_spec *s)
{
        size_t hlen = NS_IPV4_MIN_HDR + s->options_len;
        size_t len = hlen + s->payload_len;
        assert_true(s->options_len % 4 == 0 && hlen <= NS_IPV4_MAX_HDR);
        assert_true(len + s->pad <= cap);
        memset(buf, 0, hlen);
        buf[0] = (uint8_t)(((s->version ? s->version : 4) << 4) |
                           (s->ihl ? s->ihl : (uint8_t)(hlen / 4)));
        buf[1] = s->tos;
        ns_store_be16(buf + 2, s->force_total_len ? s->total_len : (uint16_t)len);
        ns_store_be16(buf + 4, s->id);
        ns_ipv4_set_flags_frag_off(buf, s->flags, s->frag_off);
        buf[8] = s->ttl;
        buf[9] = s->proto;
        ns_store_be32(buf + 12, s->src);
        ns_store_be32(buf + 16, s->dst);
        if (s->options_len)
                memcpy(buf + NS_IPV4_MIN_HDR, s->options, s->options_len);
        if (s->payload_len)
                memcpy(buf + hlen, s->payload, s->payload_len);
        memset(buf + len, 0xa5, s->pad);
        uint16_t c = ns_ipv4_compute_checksum(buf, hlen);
        if (s->bad_checksum)
                c = (uint16_t)(c + 42);
        ns_ipv4_set_checksum(buf, c);
        return len + s->pad;
}

size_t icmp_echo_build(uint8_t *out, size_t cap, uint16_t ident, uint16_t seq, uint32_t data_len)
{
        uint8_t data[1500];
        assert_true(data_len <= sizeof(data) && NS_ICMP4_HDR + data_len <= cap);
        for (uint32_t i = 0; i < data_len; i++)
                data[i] = (uint8_t)(i * 7 + 1);
        size_t n = ns_icmp4_emit_echo(out, cap, NS_ICMP4_ECHO, ident, seq, data, data_len);
        assert_int_equal(n, NS_ICMP4_HDR + data_len);
        return n;
}

#define MAX_COUNTERS 512

struct flat {
        size_t n;
        char names[MAX_COUNTERS][64];
        uint64_t v[MAX_COUNTERS];
};

static void flatten_cb(const char *group, const char *name, const char *mib, uint64_t value,
                       void *ctx)
{
        (void)mib;
        struct flat *f = ctx;
        assert_true(f->n < MAX_COUNTERS);
        snprintf(f->names[f->n], sizeof(f->names[0]), "%s.%s", group, name);
        f->v[f->n++] = value;
}

/* The delta spec names for counter `name`, or 0. */
static uint64_t wanted(const char *spec, const char *name)
{
        size_t nl = strlen(name);
        for (const char *p = spec; p && *p;) {
                while (*p == ' ')
                        p++;
                if (strncmp(p, name, nl) == 0 && p[nl] == '=')
                        return strtoull(p + nl + 1, NULL, 10);
                p = strchr(p, ' ');
        }
        return 0;
}

void expect_deltas(const struct ns_stats *before, const struct ns_stats *after, const char *spec)
{
        static struct flat a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        ns_stats_foreach(before, flatten_cb, &a);
        ns_stats_foreach(after, flatten_cb, &b);
        assert_int_equal(a.n, b.n);
        /* Every name in the spec must exist, so typos fail loudly. */
        for (const char *p = spec; p && *p;) {
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                const char *eq = strchr(p, '=');
                assert_non_null(eq);
                bool found = false;
                for (size_t i = 0; i < a.n; i++)
                        if (strlen(a.names[i]) == (size_t)(eq - p) &&
                            strncmp(a.names[i], p, (size_t)(eq - p)) == 0)
                                found = true;
                if (!found)
                        fail_msg("unknown counter in spec: %.*s", (int)(eq - p), p);
                p = strchr(p, ' ');
        }
        int bad = 0;
        for (size_t i = 0; i < a.n; i++) {
                if (strncmp(a.names[i], "nic.", 4) == 0)
                        continue;
                uint64_t d = b.v[i] - a.v[i];
                uint64_t w = wanted(spec, a.names[i]);
                if (d != w) {
                        print_error("counter %s moved by %llu, want %llu\n", a.names[i],
                                    (unsigned long long)d, (unsigned long long)w);
                        bad++;
                }
        }
        if (bad)
                fail_msg("%d counters wrong (want: %s)", bad, spec);
}

static enum ns_deliver_result capture_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct capture *c = ctx;
        if (c->port_unreachable)
                return NS_DELIVER_PORT_UNREACHABLE;
        c->count++;
        c->last_nic = nic->id;
        c->last_flags = pkt->flags;
        c->last_len = ns_pkt_len(pkt);
        uint32_t n = c->last_len < sizeof(c->last) ? c->last_len : (uint32_t)sizeof(c->last);
        memcpy(c->last, ns_pkt_data(pkt), n);
        const uint8_t *ip = ns_pkt_network_header(pkt);
        if (ip)
                memcpy(c->last_ip, ip, ns_ipv4_hdr_len(ip));
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

void capture_register(struct ns_stack *s, uint8_t proto, struct capture *c)
{
        memset(c, 0, sizeof(*c));
        struct ns_transport_handler h = { .deliver = capture_deliver, .ctx = c };
        assert_int_equal(ns__stack_register_transport(s, proto, &h), 0);
}
