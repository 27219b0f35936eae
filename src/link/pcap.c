/*
 * Capture files through libpcap (pcap_open_dead + pcap_dump_open), and the
 * sniffer frame device that writes every frame through it
 * (<netstack/pcap.h>), as smoltcp's PcapWriter middleware wraps a device.
 */
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>

#include <netstack/err.h>
#include <netstack/pcap.h>

struct ns_pcap {
        struct ns_allocator alloc;
        struct ns_clock clock;
        enum ns_pcap_linktype linktype;
        pcap_t *dead;
        pcap_dumper_t *dumper;
        uint64_t records;
};

int ns_pcap_open(const struct ns_allocator *a, const char *path, enum ns_pcap_linktype linktype,
                 struct ns_clock clock, struct ns_pcap **out, char *err, size_t errlen)
{
        if (err && errlen)
                err[0] = '\0';
        if (!path || !out || !clock.wall_ns ||
            (linktype != NS_PCAP_ETHERNET && linktype != NS_PCAP_RAW)) {
                if (err && errlen)
                        snprintf(err, errlen, "bad capture arguments");
                return NS_ERR_INVALID_ARGUMENT;
        }
        struct ns_pcap *pc = ns_zalloc(a, sizeof(*pc));
        if (!pc)
                return NS_ERR_NO_MEMORY;
        if (a)
                pc->alloc = *a;
        pc->clock = clock;
        pc->linktype = linktype;
        /* libpcap takes a DLT_ value and writes the matching LINKTYPE_ in the file. */
        int dlt = linktype == NS_PCAP_ETHERNET ? DLT_EN10MB : DLT_RAW;
        pc->dead =
            pcap_open_dead_with_tstamp_precision(dlt, NS_PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
        if (!pc->dead) {
                ns_free(a, pc);
                return NS_ERR_NO_MEMORY;
        }
        pc->dumper = pcap_dump_open(pc->dead, path);
        if (!pc->dumper) {
                if (err && errlen)
                        snprintf(err, errlen, "%s", pcap_geterr(pc->dead));
                pcap_close(pc->dead);
                ns_free(a, pc);
                return NS_ERR_IO;
        }
        *out = pc;
        return 0;
}

void ns_pcap_write_at(struct ns_pcap *pc, int64_t wall_ns, const void *data, uint32_t len)
{
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        if (wall_ns < 0)
                wall_ns = 0;
        h.ts.tv_sec = (time_t)(wall_ns / 1000000000);
        h.ts.tv_usec = (suseconds_t)((wall_ns % 1000000000) / 1000);
        h.len = len;
        h.caplen = len > NS_PCAP_SNAPLEN ? NS_PCAP_SNAPLEN : len;
        pcap_dump((u_char *)pc->dumper, &h, data);
        pc->records++;
}

void ns_pcap_write(struct ns_pcap *pc, const void *data, uint32_t len)
{
        ns_pcap_write_at(pc, pc->clock.wall_ns(pc->clock.ctx), data, len);
}

int ns_pcap_flush(struct ns_pcap *pc)
{
        return pcap_dump_flush(pc->dumper) == 0 ? 0 : NS_ERR_IO;
}

uint64_t ns_pcap_records(const struct ns_pcap *pc)
{
        return pc->records;
}

void ns_pcap_close(struct ns_pcap *pc)
{
        if (!pc)
                return;
        (void)pcap_dump_flush(pc->dumper);
        pcap_dump_close(pc->dumper);
        pcap_close(pc->dead);
        struct ns_allocator a = pc->alloc;
        ns_free(&a, pc);
}

/* ---- the sniffer --------------------------------------------------------- */

struct ns_pcap_dev {
        struct ns_frame_dev dev; /* first: the sniffer is a frame device */
        struct ns_allocator alloc;
        struct ns_frame_dev *lower;
        struct ns_pcap *pc;
};

static int sniff_write(struct ns_frame_dev *dev, struct ns_pkt_list *frames)
{
        struct ns_pcap_dev *d = (struct ns_pcap_dev *)dev;
        for (const struct ns_pkt *p = frames->head; p; p = p->next)
                ns_pcap_write(d->pc, ns_pkt_data(p), ns_pkt_len(p));
        return d->lower->ops->write(d->lower, frames);
}

static void sniff_deliver(void *ctx, struct ns_pkt *frame)
{
        struct ns_pcap_dev *d = ctx;
        ns_pcap_write(d->pc, ns_pkt_data(frame), ns_pkt_len(frame));
        ns_frame_dev_deliver(&d->dev, frame);
}

static const struct ns_frame_dev_ops sniff_ops = {
        .write = sniff_write,
};

struct ns_pcap_dev *ns_pcap_dev_create(const struct ns_allocator *a, struct ns_frame_dev *lower,
                                       struct ns_pcap *pc)
{
        if (!lower || !lower->ops || !lower->ops->write || lower->deliver_frame || lower->upper ||
            !pc || pc->linktype != NS_PCAP_ETHERNET)
                return NULL;
        struct ns_pcap_dev *d = ns_zalloc(a, sizeof(*d));
        if (!d)
                return NULL;
        if (a)
                d->alloc = *a;
        d->lower = lower;
        d->pc = pc;
        d->dev.ops = &sniff_ops;
        d->dev.mtu = lower->mtu;
        lower->deliver_frame = sniff_deliver;
        lower->deliver_ctx = d;
        return d;
}

struct ns_frame_dev *ns_pcap_dev_frame_dev(struct ns_pcap_dev *d)
{
        return &d->dev;
}

void ns_pcap_dev_destroy(struct ns_pcap_dev *d)
{
        if (!d)
                return;
        d->lower->deliver_frame = NULL;
        d->lower->deliver_ctx = NULL;
        struct ns_allocator a = d->alloc;
        ns_free(&a, d);
}
