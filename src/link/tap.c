/*
 * TAP and TUN devices (<netstack/tap.h>): /dev/net/tun opened by name with
 * IFF_NO_PI, non-blocking, read in batches. With sys.c, the only file below
 * tools/ that makes system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include <netstack/err.h>
#include <netstack/tap.h>

/* Headroom of receive buffers, so replies can be built in place. */
#define RX_HEADROOM 128
/* Extra receive room past MTU + header: a VLAN tag, and giants to count. */
#define RX_SLACK 64
/* Scratch buffer for frames read while no pool is available. */
#define SCRATCH_LEN (65535 + 64)

struct ns_tap {
        struct ns_frame_dev dev; /* TAP: the frame device */
        struct ns_link link;     /* TUN: the link */
        struct ns_allocator alloc;
        enum ns_tap_kind kind;
        int fd;
        uint32_t batch;
        struct ns_pkt_pool *pool;
        struct ns_pcap *capture;
        char name[IFNAMSIZ];
        struct ns_tap_stats stats;
        uint8_t scratch[SCRATCH_LEN];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
        if (!err || errlen == 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

/* The ns_err for an errno from open(2) or an ioctl. */
static int map_errno(int e)
{
        switch (e) {
        case EACCES:
        case EPERM:
                return NS_ERR_ACCESS_DENIED;
        case ENOENT:
        case ENODEV:
        case ENXIO:
                return NS_ERR_NO_DEVICE;
        case EBUSY:
        case EEXIST:
        case EINVAL:
                return NS_ERR_ALREADY_EXISTS;
        case ENOMEM:
                return NS_ERR_NO_MEMORY;
        default:
                return NS_ERR_IO;
        }
}

/* ---- send ---------------------------------------------------------------- */

/* Writes every packet of the list, each one whole; consumes them all. */
static int write_all(struct ns_tap *t, struct ns_pkt_list *pkts)
{
        int written = 0, first_err = 0;
        bool first = true;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(pkts)) != NULL) {
                ssize_t n;
                do {
                        n = write(t->fd, ns_pkt_data(p), ns_pkt_len(p));
                } while (n < 0 && errno == EINTR);
                if (n == (ssize_t)ns_pkt_len(p)) {
                        if (t->capture)
                                ns_pcap_write(t->capture, ns_pkt_data(p), ns_pkt_len(p));
                        t->stats.tx_frames++;
                        t->stats.tx_bytes += (uint64_t)n;
                        written++;
                } else {
                        t->stats.tx_dropped++;
                        if (first)
                                first_err =
                                    (n < 0 && errno == EAGAIN) ? NS_ERR_WOULD_BLOCK : NS_ERR_IO;
                }
                first = false;
                ns_pkt_free(p);
        }
        return written ? written : first_err;
}

static int tap_dev_write(struct ns_frame_dev *dev, struct ns_pkt_list *frames)
{
        return write_all((struct ns_tap *)dev, frames);
}

static int tun_link_write(struct ns_link *link, struct ns_pkt_list *pkts)
{
        struct ns_tap *t = (struct ns_tap *)((char *)link - offsetof(struct ns_tap, link));
        return write_all(t, pkts);
}

static const struct ns_frame_dev_ops tap_dev_ops = {
        .write = tap_dev_write,
};

static const struct ns_link_ops tun_link_ops = {
        .write = tun_link_write,
};

/* ---- receive ------------------------------------------------------------- */

static struct ns_pkt_pool *rx_pool(struct ns_tap *t)
{
        if (t->pool)
                return t->pool;
        if (t->kind == NS_TAP_ETHERNET)
                return ns_frame_dev_pool(&t->dev);
        return ns_link_pool(&t->link);
}

/* Hands one received packet up. Consumes p. */
static void deliver(struct ns_tap *t, struct ns_pkt *p)
{
        if (t->kind == NS_TAP_ETHERNET) {
                ns_frame_dev_deliver(&t->dev, p);
                return;
        }
        if (ns_pkt_len(p) > t->link.mtu || ns_pkt_len(p) == 0) {
                t->stats.rx_dropped++;
                ns_link_drop_malformed(&t->link, p);
                return;
        }
        uint8_t version = ns_pkt_data(p)[0] >> 4;
        uint16_t proto = version == 4 ? 0x0800 : version == 6 ? 0x86dd : 0;
        ns_pkt_set_network_header(p);
        ns_link_deliver(&t->link, proto, p);
}

/* Reads one frame. 1 when one was read, 0 when the device is empty, NS_ERR_IO. */
static int receive_one(struct ns_tap *t)
{
        uint32_t hdr = t->kind == NS_TAP_ETHERNET ? NS_ETH_HEADER_LEN : 0;
        uint32_t room = t->dev.mtu + hdr + RX_SLACK;
        struct ns_pkt_pool *pool = rx_pool(t);
        struct ns_pkt *p = pool ? ns_pkt_alloc(pool, RX_HEADROOM, room) : NULL;
        uint8_t *buf = p ? ns_pkt_data(p) : t->scratch;
        size_t cap = p ? room : sizeof(t->scratch);
        ssize_t n;
        do {
                n = read(t->fd, buf, cap);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
                ns_pkt_free(p);
                if (n == 0 || errno == EAGAIN)
                        return 0;
                /* EFAULT: a frame longer than the buffer; the kernel dropped it. */
                if (errno == EFAULT || errno == EMSGSIZE) {
                        t->stats.rx_dropped++;
                        return 1;
                }
                return NS_ERR_IO;
        }
        t->stats.rx_frames++;
        t->stats.rx_bytes += (uint64_t)n;
        if (t->capture)
                ns_pcap_write(t->capture, buf, (uint32_t)n);
        if (!p) {
                t->stats.rx_dropped++;
                return 1;
        }
        (void)ns_pkt_put(p, (uint32_t)n);
        deliver(t, p);
        return 1;
}

int ns_tap_receive(struct ns_tap *t)
{
        int count = 0;
        while ((uint32_t)count < t->batch) {
                int r = receive_one(t);
                if (r < 0)
                        return count ? count : r;
                if (r == 0)
                        break;
                count++;
        }
        return count;
}

/* ---- open and close ------------------------------------------------------ */

/* Reads or sets the MTU and brings the interface up. 0 or a negative ns_err. */
static int configure(struct ns_tap *t, const struct ns_tap_config *cfg, char *err, size_t errlen)
{
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
                set_err(err, errlen, "%s: socket: %s", t->name, strerror(errno));
                return map_errno(errno);
        }
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
        int rc = 0;
        if (cfg->mtu) {
                ifr.ifr_mtu = (int)cfg->mtu;
                if (ioctl(s, SIOCSIFMTU, &ifr) != 0) {
                        set_err(err, errlen, "%s: cannot set MTU %u: %s", t->name, cfg->mtu,
                                strerror(errno));
                        rc = errno == EINVAL ? NS_ERR_INVALID_ARGUMENT : map_errno(errno);
                        goto out;
                }
        }
        if (ioctl(s, SIOCGIFMTU, &ifr) != 0 || ifr.ifr_mtu <= 0) {
                set_err(err, errlen, "%s: cannot read MTU: %s", t->name, strerror(errno));
                rc = NS_ERR_IO;
                goto out;
        }
        t->dev.mtu = (uint32_t)ifr.ifr_mtu;
        t->link.mtu = (uint32_t)ifr.ifr_mtu;
        if (cfg->bring_up) {
                if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
                        set_err(err, errlen, "%s: cannot read flags: %s", t->name, strerror(errno));
                        rc = map_errno(errno);
                        goto out;
                }
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
                        set_err(err, errlen, "%s: cannot bring the interface up: %s", t->name,
                                strerror(errno));
                        rc = map_errno(errno);
                        goto out;
                }
        }
out:
        close(s);
        return rc;
}

/* Opens /dev/net/tun and attaches to (or creates) the device. fd or a negative ns_err. */
static int attach(struct ns_tap *t, char *err, size_t errlen)
{
        int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                set_err(err, errlen, "%s: cannot open /dev/net/tun: %s", t->name, strerror(e));
                return map_errno(e);
        }
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
        ifr.ifr_flags = (short)((t->kind == NS_TAP_ETHERNET ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
        if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
                int e = errno;
                const char *why = e == EPERM || e == EACCES ? " (needs CAP_NET_ADMIN)"
                                  : e == EBUSY              ? " (in use by another process)"
                                  : e == EINVAL ? " (exists and is not a free device of this kind)"
                                                : "";
                set_err(err, errlen, "%s: cannot attach to the %s device: %s%s", t->name,
                        t->kind == NS_TAP_ETHERNET ? "TAP" : "TUN", strerror(e), why);
                close(fd);
                return map_errno(e);
        }
        return fd;
}

int ns_tap_open(const struct ns_allocator *a, const struct ns_tap_config *cfg, struct ns_tap **out,
                char *err, size_t errlen)
{
        if (err && errlen)
                err[0] = '\0';
        if (!cfg || !out || !cfg->name || !cfg->name[0] || strlen(cfg->name) >= IFNAMSIZ ||
            (cfg->mtu && (cfg->mtu < 68 || cfg->mtu > 65535)) ||
            (cfg->kind != NS_TAP_ETHERNET && cfg->kind != NS_TAP_TUN)) {
                set_err(err, errlen, "%s: bad device name or MTU",
                        cfg && cfg->name ? cfg->name : "(none)");
                return NS_ERR_INVALID_ARGUMENT;
        }
        struct ns_tap *t = ns_zalloc(a, sizeof(*t));
        if (!t) {
                set_err(err, errlen, "%s: out of memory", cfg->name);
                return NS_ERR_NO_MEMORY;
        }
        if (a)
                t->alloc = *a;
        t->kind = cfg->kind;
        t->batch = cfg->batch ? cfg->batch : NS_TAP_DEFAULT_BATCH;
        t->pool = cfg->pool;
        t->capture = cfg->capture;
        memcpy(t->name, cfg->name, strlen(cfg->name) + 1);
        t->dev.ops = &tap_dev_ops;
        t->link.ops = &tun_link_ops;
        t->fd = attach(t, err, errlen);
        int rc = t->fd < 0 ? t->fd : configure(t, cfg, err, errlen);
        if (rc != 0) {
                struct ns_allocator copy = t->alloc;
                if (t->fd >= 0)
                        close(t->fd);
                ns_free(&copy, t);
                return rc;
        }
        *out = t;
        return 0;
}

void ns_tap_close(struct ns_tap *t)
{
        if (!t)
                return;
        close(t->fd);
        struct ns_allocator a = t->alloc;
        ns_free(&a, t);
}

struct ns_frame_dev *ns_tap_frame_dev(struct ns_tap *t)
{
        return t->kind == NS_TAP_ETHERNET ? &t->dev : NULL;
}

struct ns_link *ns_tap_link(struct ns_tap *t)
{
        return t->kind == NS_TAP_TUN ? &t->link : NULL;
}

int ns_tap_fd(const struct ns_tap *t)
{
        return t->fd;
}

const char *ns_tap_name(const struct ns_tap *t)
{
        return t->name;
}

uint32_t ns_tap_mtu(const struct ns_tap *t)
{
        return t->dev.mtu;
}

void ns_tap_get_stats(const struct ns_tap *t, struct ns_tap_stats *out)
{
        *out = t->stats;
}
