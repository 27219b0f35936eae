/*
 * Filter hook points and the built-in rule engine (contracts in
 * core/filter.h and <netstack/filter.h>).
 *
 * The engine reads the IPv4 and UDP/TCP fields it needs at their fixed
 * offsets (RFC 791 section 3.1, RFC 768, RFC 793 section 3.1); it never
 * trusts a length it has not checked against the bytes it was given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netstack/checksum.h>
#include <netstack/err.h>
#include <netstack/filter.h>
#include <netstack/pkt.h>

#include "core/filter.h"
#include "wire/bytes.h"

#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17

#define IP_MIN_HLEN   20
#define IP_OFF_FRAG   6 /* flags and fragment offset */
#define IP_OFF_PROTO  9
#define IP_OFF_CSUM   10
#define IP_OFF_SRC    12
#define IP_OFF_DST    16
#define IP_FRAG_MASK  0x1fffu
#define UDP_HLEN      8
#define UDP_OFF_DPORT 2
#define UDP_OFF_CSUM  6
#define TCP_OFF_DPORT 2
#define TCP_OFF_CSUM  16

/* First rule-list allocation, in rules. */
#define INITIAL_CAP 8u

static bool hook_valid(enum ns_hook hook)
{
        return (unsigned)hook < NS_HOOK_COUNT;
}

/* Recomputes the active bit of one hook point. */
static void update_active(struct ns_filter *f, enum ns_hook hook)
{
        const struct ns__filter_point *p = &f->points[hook];

        if (p->fn || p->count)
                f->active |= 1u << hook;
        else
                f->active &= ~(1u << hook);
}

int ns__filter_init(struct ns_filter *f, const struct ns_allocator *a)
{
        memset(f, 0, sizeof(*f));
        if (a)
                f->alloc = *a;
        f->next_id = 1;
        return 0;
}

void ns__filter_destroy(struct ns_filter *f)
{
        for (unsigned h = 0; h < NS_HOOK_COUNT; h++) {
                if (f->points[h].rules)
                        ns_free(&f->alloc, f->points[h].rules);
                f->points[h].rules = NULL;
                f->points[h].count = 0;
                f->points[h].cap = 0;
                f->points[h].fn = NULL;
                f->points[h].ctx = NULL;
        }
        f->active = 0;
}

int ns__filter_set_hook(struct ns_filter *f, enum ns_hook hook, ns_filter_hook_fn fn, void *ctx)
{
        if (!hook_valid(hook))
                return NS_ERR_INVALID_ARGUMENT;
        f->points[hook].fn = fn;
        f->points[hook].ctx = fn ? ctx : NULL;
        update_active(f, hook);
        return 0;
}

static bool rule_valid(enum ns_hook hook, const struct ns_filter_rule *r)
{
        if (r->src.prefix_len > 32 || r->dst.prefix_len > 32)
                return false;
        switch (r->action) {
        case NS_FILTER_ACCEPT:
        case NS_FILTER_DROP:
                return true;
        case NS_FILTER_DNAT:
                /* Linux's nat table takes DNAT only where routing has not yet happened. */
                if (hook != NS_HOOK_PREROUTING && hook != NS_HOOK_OUTPUT)
                        return false;
                /* As iptables: a port needs "-p tcp" or "-p udp". */
                if (r->nat_port != 0 && r->protocol != IP_PROTO_TCP && r->protocol != IP_PROTO_UDP)
                        return false;
                return true;
        }
        return false;
}

/* Makes room for one more rule in p; returns 0 or a negative ns_err. */
static int grow(struct ns_filter *f, struct ns__filter_point *p)
{
        struct ns_filter_rule *n;
        uint32_t cap;

        if (p->count < p->cap)
                return 0;
        if (p->count >= NS_FILTER_MAX_RULES)
                return NS_ERR_NO_BUFFER_SPACE;
        cap = p->cap ? p->cap * 2 : INITIAL_CAP;
        if (cap > NS_FILTER_MAX_RULES)
                cap = NS_FILTER_MAX_RULES;
        n = ns_alloc(&f->alloc, (size_t)cap * sizeof(*n));
        if (!n)
                return NS_ERR_NO_MEMORY;
        if (p->count)
                memcpy(n, p->rules, (size_t)p->count * sizeof(*n));
        if (p->rules)
                ns_free(&f->alloc, p->rules);
        p->rules = n;
        p->cap = cap;
        return 0;
}

int ns__filter_add_rule(struct ns_filter *f, enum ns_hook hook, const struct ns_filter_rule *rule,
                        uint32_t *id)
{
        struct ns__filter_point *p;
        struct ns_filter_rule *r;
        int err;

        if (!hook_valid(hook) || !rule || !rule_valid(hook, rule))
                return NS_ERR_INVALID_ARGUMENT;
        p = &f->points[hook];
        err = grow(f, p);
        if (err)
                return err;
        r = &p->rules[p->count++];
        *r = *rule;
        /* Store prefixes already masked so matching is one compare. */
        r->src.addr &= ns_ip4_mask(r->src.prefix_len);
        r->dst.addr &= ns_ip4_mask(r->dst.prefix_len);
        r->id = f->next_id++;
        if (f->next_id == 0)
                f->next_id = 1;
        r->packets = 0;
        r->bytes = 0;
        if (id)
                *id = r->id;
        update_active(f, hook);
        return 0;
}

int ns__filter_del_rule(struct ns_filter *f, uint32_t id)
{
        for (unsigned h = 0; h < NS_HOOK_COUNT; h++) {
                struct ns__filter_point *p = &f->points[h];

                for (uint32_t i = 0; i < p->count; i++) {
                        if (p->rules[i].id != id)
                                continue;
                        memmove(&p->rules[i], &p->rules[i + 1],
                                (size_t)(p->count - i - 1) * sizeof(p->rules[0]));
                        p->count--;
                        update_active(f, (enum ns_hook)h);
                        return 0;
                }
        }
        return NS_ERR_NOT_FOUND;
}

void ns__filter_flush(struct ns_filter *f, enum ns_hook hook)
{
        if (!hook_valid(hook))
                return;
        f->points[hook].count = 0;
        update_active(f, hook);
}

size_t ns__filter_list_rules(const struct ns_filter *f, enum ns_hook hook,
                             struct ns_filter_rule *out, size_t cap)
{
        const struct ns__filter_point *p;
        size_t n;

        if (!hook_valid(hook))
                return 0;
        p = &f->points[hook];
        n = p->count < cap ? p->count : cap;
        if (n)
                memcpy(out, p->rules, n * sizeof(*out));
        return p->count;
}

int ns__filter_get_rule(const struct ns_filter *f, uint32_t id, struct ns_filter_rule *out)
{
        for (unsigned h = 0; h < NS_HOOK_COUNT; h++) {
                const struct ns__filter_point *p = &f->points[h];

                for (uint32_t i = 0; i < p->count; i++) {
                        if (p->rules[i].id == id) {
                                *out = p->rules[i];
                                return 0;
                        }
                }
        }
        return NS_ERR_NOT_FOUND;
}

/* The fields rules match on, read once per packet. */
struct match_key {
        ns_ip4 src, dst;
        uint8_t proto;
        uint32_t in_nic, out_nic;
};

static bool rule_matches(const struct ns_filter_rule *r, const struct match_key *k)
{
        if ((k->src & ns_ip4_mask(r->src.prefix_len)) != r->src.addr)
                return false;
        if ((k->dst & ns_ip4_mask(r->dst.prefix_len)) != r->dst.addr)
                return false;
        if (r->protocol && r->protocol != k->proto)
                return false;
        if (r->in_nic && r->in_nic != k->in_nic)
                return false;
        if (r->out_nic && r->out_nic != k->out_nic)
                return false;
        return true;
}

/* Applies an RFC 1624 update of one 32-bit value to a checksum field. */
static uint16_t csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
        csum = ns_csum_update16(csum, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
        return ns_csum_update16(csum, (uint16_t)old_val, (uint16_t)new_val);
}

/*
 * Rewrites the UDP or TCP header at l4 (l4_len bytes available) for a
 * destination change old_dst -> new_dst and, when new_port is not 0, a new
 * destination port. The pseudo-header holds the destination, so the
 * checksum changes with it even when the port stays. Headers shorter than
 * the fields we would touch are left alone: such a packet fails the
 * receiver's own length checks anyway.
 */
static void dnat_transport(uint8_t proto, uint8_t *l4, uint32_t l4_len, ns_ip4 old_dst,
                           ns_ip4 new_dst, uint16_t new_port)
{
        uint32_t csum_off = proto == IP_PROTO_UDP ? UDP_OFF_CSUM : TCP_OFF_CSUM;
        uint16_t csum, old_port;

        if (l4_len < csum_off + 2 || (proto == IP_PROTO_UDP && l4_len < UDP_HLEN))
                return;
        csum = ns_load_be16(l4 + csum_off);
        old_port = ns_load_be16(l4 + UDP_OFF_DPORT); /* same offset in TCP */
        if (new_port)
                ns_store_be16(l4 + UDP_OFF_DPORT, new_port);
        /* RFC 768: a UDP checksum of zero means the sender computed none. */
        if (proto == IP_PROTO_UDP && csum == 0)
                return;
        csum = csum_update32(csum, old_dst, new_dst);
        if (new_port)
                csum = ns_csum_update16(csum, old_port, new_port);
        /* RFC 768: a computed zero is sent as all ones; zero would mean "none". */
        if (proto == IP_PROTO_UDP && csum == 0)
                csum = 0xffff;
        ns_store_be16(l4 + csum_off, csum);
}

/*
 * Destination NAT in place on an IPv4 packet whose header (hlen bytes)
 * lies within len. Only the first fragment (offset 0) carries the
 * transport header; later fragments get the address change alone, which
 * keeps every fragment of a datagram consistent since rules never match
 * on ports.
 */
static void dnat(uint8_t *ip, uint32_t len, uint32_t hlen, ns_ip4 new_dst, uint16_t new_port)
{
        ns_ip4 old_dst = ns_load_be32(ip + IP_OFF_DST);
        uint8_t proto = ip[IP_OFF_PROTO];
        uint16_t csum = ns_load_be16(ip + IP_OFF_CSUM);

        ns_store_be32(ip + IP_OFF_DST, new_dst);
        ns_store_be16(ip + IP_OFF_CSUM, csum_update32(csum, old_dst, new_dst));
        if ((ns_load_be16(ip + IP_OFF_FRAG) & IP_FRAG_MASK) != 0)
                return;
        if (proto == IP_PROTO_UDP || proto == IP_PROTO_TCP)
                dnat_transport(proto, ip + hlen, len - hlen, old_dst, new_dst, new_port);
}

/*
 * Returns the IPv4 header length of the bytes, or 0 when they cannot be an
 * IPv4 header (too short, wrong version, IHL below 5 or beyond len).
 */
static uint32_t header_len(const uint8_t *ip, uint32_t len)
{
        uint32_t hlen;

        if (len < IP_MIN_HLEN || (ip[0] >> 4) != 4)
                return 0;
        hlen = (uint32_t)(ip[0] & 0x0f) * 4;
        if (hlen < IP_MIN_HLEN || hlen > len)
                return 0;
        return hlen;
}

/* Returns the first rule of p matching k, or NULL. */
static struct ns_filter_rule *first_match(struct ns__filter_point *p, const struct match_key *k)
{
        for (uint32_t i = 0; i < p->count; i++) {
                if (rule_matches(&p->rules[i], k))
                        return &p->rules[i];
        }
        return NULL;
}

static void read_key(struct match_key *k, const uint8_t *ip, const struct ns_filter_info *info)
{
        k->src = ns_load_be32(ip + IP_OFF_SRC);
        k->dst = ns_load_be32(ip + IP_OFF_DST);
        k->proto = ip[IP_OFF_PROTO];
        k->in_nic = info ? info->in_nic : 0;
        k->out_nic = info ? info->out_nic : 0;
}

/* Counts the match, applies its mark and returns its verdict (rewriting for DNAT). */
static enum ns_verdict apply(struct ns_filter_rule *r, uint8_t *ip, uint32_t len, uint32_t hlen,
                             uint32_t *mark, bool *nat_done)
{
        r->packets++;
        r->bytes += len;
        if (r->set_mark && mark)
                *mark = r->mark;
        switch (r->action) {
        case NS_FILTER_DROP:
                return NS_VERDICT_DROP;
        case NS_FILTER_DNAT:
                dnat(ip, len, hlen, r->nat_addr, r->nat_port);
                if (nat_done)
                        *nat_done = true;
                return NS_VERDICT_ACCEPT;
        case NS_FILTER_ACCEPT:
                break;
        }
        return NS_VERDICT_ACCEPT;
}

enum ns_verdict ns__filter_rules_apply(struct ns_filter *f, enum ns_hook hook, uint8_t *ip,
                                       uint32_t len, const struct ns_filter_info *info,
                                       uint32_t *mark, bool *nat_done)
{
        struct ns_filter_rule *r;
        struct match_key k;
        uint32_t hlen;

        if (!hook_valid(hook) || f->points[hook].count == 0)
                return NS_VERDICT_ACCEPT;
        hlen = header_len(ip, len);
        if (!hlen)
                return NS_VERDICT_ACCEPT;
        read_key(&k, ip, info);
        r = first_match(&f->points[hook], &k);
        if (!r)
                return NS_VERDICT_ACCEPT;
        return apply(r, ip, len, hlen, mark, nat_done);
}

enum ns_verdict ns__filter_run(struct ns_filter *f, enum ns_hook hook, struct ns_pkt *pkt,
                               const struct ns_filter_info *info)
{
        struct ns__filter_point *p;
        struct ns_filter_rule *r;
        struct match_key k;
        uint32_t hlen;
        uint8_t *ip;
        bool nat = false;

        if (!hook_valid(hook))
                return NS_VERDICT_ACCEPT;
        p = &f->points[hook];
        if (p->fn && p->fn(p->ctx, pkt, info) == NS_VERDICT_DROP)
                return NS_VERDICT_DROP;
        if (p->count == 0)
                return NS_VERDICT_ACCEPT;
        hlen = header_len(ns_pkt_data(pkt), pkt->len);
        if (!hlen)
                return NS_VERDICT_ACCEPT;
        read_key(&k, ns_pkt_data(pkt), info);
        r = first_match(p, &k);
        if (!r)
                return NS_VERDICT_ACCEPT;
        /* Only a DNAT writes; give it private bytes first (DESIGN.md, "Ownership"). */
        if (r->action == NS_FILTER_DNAT && ns_pkt_make_writable(pkt) != 0)
                return NS_VERDICT_DROP;
        ip = ns_pkt_data(pkt);
        if (apply(r, ip, pkt->len, hlen, &pkt->mark, &nat) == NS_VERDICT_DROP)
                return NS_VERDICT_DROP;
        if (nat)
                pkt->flags |= NS_PKT_F_NAT_DONE;
        return NS_VERDICT_ACCEPT;
}
