/*
 * The in-memory frame device (<netstack/eth.h>): whole Ethernet frames in
 * by injection, out into a bounded FIFO, so Ethernet and ARP scenarios run
 * without a TAP device.
 */
#include <netstack/err.h>
#include <netstack/eth.h>

struct ns_frame_channel {
        struct ns_frame_dev dev; /* first: the device is the channel */
        struct ns_allocator alloc;
        struct ns_pkt_list out;
        uint32_t queue_len;
};

static int fc_write(struct ns_frame_dev *dev, struct ns_pkt_list *frames)
{
        struct ns_frame_channel *fc = (struct ns_frame_channel *)dev;
        int written = 0;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(frames)) != NULL) {
                if (fc->out.count >= fc->queue_len) {
                        ns_pkt_free(p);
                        continue;
                }
                ns_pkt_list_push_back(&fc->out, p);
                written++;
        }
        return written;
}

static const struct ns_frame_dev_ops fc_ops = {
        .write = fc_write,
};

struct ns_frame_channel *ns_frame_channel_create(const struct ns_allocator *a, uint32_t mtu,
                                                 uint32_t queue_len)
{
        struct ns_frame_channel *fc = ns_zalloc(a, sizeof(*fc));
        if (!fc)
                return NULL;
        if (a)
                fc->alloc = *a;
        fc->dev.ops = &fc_ops;
        fc->dev.mtu = mtu;
        fc->queue_len = queue_len ? queue_len : 1024;
        ns_pkt_list_init(&fc->out);
        return fc;
}

void ns_frame_channel_destroy(struct ns_frame_channel *fc)
{
        if (!fc)
                return;
        ns_pkt_list_free(&fc->out);
        struct ns_allocator a = fc->alloc;
        ns_free(&a, fc);
}

struct ns_frame_dev *ns_frame_channel_dev(struct ns_frame_channel *fc)
{
        return &fc->dev;
}

int ns_frame_channel_inject_bytes(struct ns_frame_channel *fc, const void *frame, uint32_t len)
{
        struct ns_pkt_pool *pool = ns_frame_dev_pool(&fc->dev);
        if (!pool)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        /* Headroom lets the stack build replies in place of the request. */
        struct ns_pkt *p = ns_pkt_from_bytes(pool, 128, frame, len);
        if (!p)
                return NS_ERR_NO_BUFFER_SPACE;
        ns_frame_dev_deliver(&fc->dev, p);
        return 0;
}

struct ns_pkt *ns_frame_channel_read(struct ns_frame_channel *fc)
{
        return ns_pkt_list_pop_front(&fc->out);
}

uint32_t ns_frame_channel_queued(const struct ns_frame_channel *fc)
{
        return fc->out.count;
}

void ns_frame_channel_drain(struct ns_frame_channel *fc)
{
        ns_pkt_list_free(&fc->out);
}
