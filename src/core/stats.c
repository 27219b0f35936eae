/*
 * Walking, summing and printing struct ns_stats. Everything is generated
 * from the X-macro lists in <netstack/stats.h>, so a counter added there
 * appears here without further edits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <netstack/stats.h>

/* One row per counter: where it lives and what it is called. */
struct counter_desc {
        const char *group;
        const char *name;
        const char *mib;
        size_t offset; /* of the uint64_t within struct ns_stats */
};

#define DESC_ROW(group, name, mib) { #group, #name, mib, offsetof(struct ns_stats, group.name) },
#define DESC_GROUP(group, LIST)    LIST(DESC_ROW_##group)

/* LIST(X) passes (name, mib); these bind the group for each list. */
#define DESC_ROW_ip(name, mib)   DESC_ROW(ip, name, mib)
#define DESC_ROW_icmp(name, mib) DESC_ROW(icmp, name, mib)
#define DESC_ROW_igmp(name, mib) DESC_ROW(igmp, name, mib)
#define DESC_ROW_arp(name, mib)  DESC_ROW(arp, name, mib)
#define DESC_ROW_udp(name, mib)  DESC_ROW(udp, name, mib)
#define DESC_ROW_nic(name, mib)  DESC_ROW(nic, name, mib)

static const struct counter_desc counters[] = { NS_STATS_GROUPS(DESC_GROUP) };

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static uint64_t value_at(const struct ns_stats *s, size_t i)
{
        uint64_t v;

        memcpy(&v, (const char *)s + counters[i].offset, sizeof(v));
        return v;
}

size_t ns_stats_count(void)
{
        return NCOUNTERS;
}

void ns_stats_add(struct ns_stats *dst, const struct ns_stats *src)
{
#define ADD_FIELD(group, name, mib) dst->group.name += src->group.name;
#define ADD_ip(name, mib)           ADD_FIELD(ip, name, mib)
#define ADD_icmp(name, mib)         ADD_FIELD(icmp, name, mib)
#define ADD_igmp(name, mib)         ADD_FIELD(igmp, name, mib)
#define ADD_arp(name, mib)          ADD_FIELD(arp, name, mib)
#define ADD_udp(name, mib)          ADD_FIELD(udp, name, mib)
#define ADD_nic(name, mib)          ADD_FIELD(nic, name, mib)
#define ADD_GROUP(group, LIST)      LIST(ADD_##group)
        NS_STATS_GROUPS(ADD_GROUP)
#undef ADD_GROUP
#undef ADD_nic
#undef ADD_udp
#undef ADD_arp
#undef ADD_igmp
#undef ADD_icmp
#undef ADD_ip
#undef ADD_FIELD
}

void ns_stats_foreach(const struct ns_stats *s, ns_stats_visit_fn cb, void *ctx)
{
        for (size_t i = 0; i < NCOUNTERS; i++)
                cb(counters[i].group, counters[i].name, counters[i].mib, value_at(s, i), ctx);
}

/* snprintf into the unused tail of buf, tracking the full length. */
struct json_out {
        char *buf;
        size_t cap;
        size_t len; /* bytes the whole text needs so far */
};

static void emit(struct json_out *o, const char *text)
{
        size_t n = strlen(text);

        if (o->len < o->cap) {
                size_t room = o->cap - o->len - 1;
                size_t k = n < room ? n : room;

                memcpy(o->buf + o->len, text, k);
                o->buf[o->len + k] = '\0';
        }
        o->len += n;
}

size_t ns_stats_to_json(const struct ns_stats *s, char *buf, size_t cap)
{
        struct json_out o = { buf, buf ? cap : 0, 0 };
        const char *group = NULL;
        char num[24];

        if (o.cap)
                o.buf[0] = '\0';
        emit(&o, "{");
        for (size_t i = 0; i < NCOUNTERS; i++) {
                const struct counter_desc *c = &counters[i];

                if (!group || strcmp(group, c->group) != 0) {
                        emit(&o, group ? "},\"" : "\"");
                        emit(&o, c->group);
                        emit(&o, "\":{");
                        group = c->group;
                } else {
                        emit(&o, ",");
                }
                emit(&o, "\"");
                emit(&o, c->name);
                emit(&o, "\":");
                snprintf(num, sizeof(num), "%llu", (unsigned long long)value_at(s, i));
                emit(&o, num);
        }
        emit(&o, group ? "}}" : "}");
        return o.len;
}

const uint64_t *ns_stats_find(const struct ns_stats *s, const char *dotted)
{
        const char *dot = strchr(dotted, '.');
        size_t glen;

        if (!dot)
                return NULL;
        glen = (size_t)(dot - dotted);
        for (size_t i = 0; i < NCOUNTERS; i++) {
                const struct counter_desc *c = &counters[i];

                if (strlen(c->group) == glen && memcmp(c->group, dotted, glen) == 0 &&
                    strcmp(c->name, dot + 1) == 0)
                        return (const uint64_t *)(const void *)((const char *)s + c->offset);
        }
        return NULL;
}
