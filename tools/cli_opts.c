/*
 * Command-line options of `netstack run` and `netstack replay`: the
 * contract of issue 6, parsed strictly (anything malformed is a usage
 * error naming the flag).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char run_usage[] =
    "usage: netstack run --iface NAME=ADDR/PREFIX [--iface ...] [options]\n"
    "\n"
    "Runs the stack as a host or router on TAP devices (created when missing;\n"
    "needs CAP_NET_ADMIN). Prints 'ready' once every interface is up; exits 0\n"
    "on SIGINT or SIGTERM; SIGUSR1 writes the counters to the --stats file.\n"
    "\n"
    "  --iface NAME=ADDR/PREFIX      attach TAP device NAME with that address\n"
    "                                (repeatable; again with the same NAME adds\n"
    "                                another address)\n"
    "  --mtu NAME=N                  MTU of NAME (default 1500)\n"
    "  --forward                     forward packets between interfaces\n"
    "  --route DEST/PREFIX=GW@NAME   static route (connected subnets are implicit)\n"
    "  --neigh ADDR=MAC@NAME         static ARP entry\n"
    "  --udp-echo PORT               UDP echo service on every local address and\n"
    "                                joined group (replies from a unicast address)\n"
    "  --join GROUP@NAME             join a multicast group on NAME\n"
    "  --pcap FILE                   capture every frame in and out\n"
    "  --stats FILE                  write all counters as JSON on SIGUSR1 and exit\n"
    "  --verbose                     print a status line to stderr every second:\n"
    "                                packets in and out, drops, reassemblies\n"
    "  --help                        this text\n";

static const char replay_usage[] =
    "usage: netstack replay IN.pcap --iface NAME=ADDR/PREFIX [...] --out OUT.pcap\n"
    "                       [--in NAME=FILE] [--drain SECONDS] [--seed N] [options]\n"
    "\n"
    "Feeds a capture's frames to the stack without any device or privilege:\n"
    "IN.pcap goes to the first interface, --in NAME=FILE to NAME. The stack's\n"
    "clock follows the capture's timestamps; its RNG is seeded (--seed,\n"
    "default 1), so the same input and seed give the same OUT.pcap, byte for\n"
    "byte. OUT.pcap holds every frame the stack sent.\n"
    "\n"
    "Ethernet captures give Ethernet interfaces, which accept frames for any\n"
    "MAC (the capture was made with another one). Raw-IP captures (LINKTYPE_RAW\n"
    "or LINKTYPE_IPV4, as tcpdump writes on a TUN device) give raw-IP\n"
    "interfaces: no Ethernet, no ARP (--neigh does not apply); their IPv6 and\n"
    "other non-IPv4 packets are skipped and counted. All captures of a replay\n"
    "must have one link type, and OUT.pcap has it too.\n"
    "\n"
    "  --out FILE                    where the frames sent go (required)\n"
    "  --in NAME=FILE                capture fed to interface NAME (repeatable)\n"
    "  --drain SECONDS               time to let timers run after the last frame\n"
    "                                (default 0; fractions allowed)\n"
    "  --seed N                      RNG seed (default 1)\n"
    "  --iface, --mtu, --forward, --route, --neigh, --udp-echo, --join,\n"
    "  --stats                       as for 'netstack run'\n"
    "  --pcap FILE                   also capture the frames fed in and sent\n"
    "  --help                        this text\n";

void cli_usage_run(FILE *f)
{
        fputs(run_usage, f);
}

void cli_usage_replay(FILE *f)
{
        fputs(replay_usage, f);
}

static int bad(const char *flag, const char *arg, const char *why)
{
        fprintf(stderr, "netstack: %s %s: %s\n", flag, arg ? arg : "", why);
        return -1;
}

/* Copies a NIC name (1..15 characters, no '/', '@' or '=') into out. */
static bool parse_name(const char *s, size_t len, char out[CLI_NAME_MAX])
{
        if (len == 0 || len >= CLI_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] == '/' || s[i] == '@' || s[i] == '=' || s[i] <= ' ')
                        return false;
        memcpy(out, s, len);
        out[len] = '\0';
        return true;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
        if (!*s || *s == '-' || *s == '+')
                return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return false;
        *out = v;
        return true;
}

/* "A.B.C.D/N" (the prefix is required). */
static bool parse_prefix(const char *s, size_t len, struct ns_ip4_prefix *out)
{
        char buf[32];
        if (len >= sizeof(buf))
                return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        char *slash = strchr(buf, '/');
        uint64_t plen;
        if (!slash)
                return false;
        *slash = '\0';
        if (!ns_ip4_parse(buf, &out->addr) || !parse_u64(slash + 1, 32, &plen))
                return false;
        out->prefix_len = (uint8_t)plen;
        return true;
}

static bool parse_addr(const char *s, size_t len, ns_ip4 *out)
{
        char buf[20];
        if (len >= sizeof(buf))
                return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return ns_ip4_parse(buf, out);
}

static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
        if (len != 17)
                return false;
        for (int i = 0; i < 6; i++) {
                char h[3] = { s[i * 3], s[i * 3 + 1], '\0' };
                char *end;
                if (i < 5 && s[i * 3 + 2] != ':')
                        return false;
                if (!((h[0] >= '0' && h[0] <= '9') ||
                      ((h[0] | 0x20) >= 'a' && (h[0] | 0x20) <= 'f')))
                        return false;
                unsigned long v = strtoul(h, &end, 16);
                if (*end)
                        return false;
                mac[i] = (uint8_t)v;
        }
        return true;
}

static struct cli_iface *find_iface(struct cli_opts *o, const char *name)
{
        for (size_t i = 0; i < o->n_ifaces; i++)
                if (strcmp(o->ifaces[i].name, name) == 0)
                        return &o->ifaces[i];
        return NULL;
}

static int opt_iface(struct cli_opts *o, const char *arg)
{
        const char *eq = strchr(arg, '=');
        char name[CLI_NAME_MAX];
        struct ns_ip4_prefix p;
        if (!eq || !parse_name(arg, (size_t)(eq - arg), name))
                return bad("--iface", arg, "expected NAME=ADDR/PREFIX");
        if (!parse_prefix(eq + 1, strlen(eq + 1), &p))
                return bad("--iface", arg, "bad ADDR/PREFIX");
        struct cli_iface *f = find_iface(o, name);
        if (!f) {
                if (o->n_ifaces == CLI_MAX_IFACES)
                        return bad("--iface", arg, "too many interfaces");
                f = &o->ifaces[o->n_ifaces++];
                memcpy(f->name, name, sizeof(name));
        }
        if (f->n_addrs == CLI_MAX_ADDRS)
                return bad("--iface", arg, "too many addresses on one interface");
        f->addrs[f->n_addrs++] = p;
        return 0;
}

/* "NAME=VALUE" into name and the value's start. */
static bool split_name(const char *arg, char name[CLI_NAME_MAX], const char **value)
{
        const char *eq = strchr(arg, '=');
        if (!eq || !parse_name(arg, (size_t)(eq - arg), name))
                return false;
        *value = eq + 1;
        return true;
}

/* "...@NAME": the part before '@' (length) and the name. */
static bool split_at(const char *arg, size_t *len, char name[CLI_NAME_MAX])
{
        const char *at = strrchr(arg, '@');
        if (!at || !parse_name(at + 1, strlen(at + 1), name))
                return false;
        *len = (size_t)(at - arg);
        return true;
}

static int opt_route(struct cli_opts *o, const char *arg)
{
        struct cli_route r;
        memset(&r, 0, sizeof(r));
        const char *eq = strchr(arg, '=');
        size_t glen;
        if (!eq || !split_at(eq + 1, &glen, r.nic))
                return bad("--route", arg, "expected DEST/PREFIX=GATEWAY@NAME");
        if (!parse_prefix(arg, (size_t)(eq - arg), &r.dst) || !parse_addr(eq + 1, glen, &r.gateway))
                return bad("--route", arg, "bad destination or gateway");
        if (o->n_routes == CLI_MAX_ITEMS)
                return bad("--route", arg, "too many routes");
        o->routes[o->n_routes++] = r;
        return 0;
}

static int opt_neigh(struct cli_opts *o, const char *arg)
{
        struct cli_neigh n;
        memset(&n, 0, sizeof(n));
        const char *eq = strchr(arg, '=');
        size_t mlen;
        if (!eq || !split_at(eq + 1, &mlen, n.nic))
                return bad("--neigh", arg, "expected ADDR=MAC@NAME");
        if (!parse_addr(arg, (size_t)(eq - arg), &n.addr) || !parse_mac(eq + 1, mlen, n.mac))
                return bad("--neigh", arg, "bad address or MAC (aa:bb:cc:dd:ee:ff)");
        if (o->n_neighs == CLI_MAX_ITEMS)
                return bad("--neigh", arg, "too many entries");
        o->neighs[o->n_neighs++] = n;
        return 0;
}

static int opt_join(struct cli_opts *o, const char *arg)
{
        struct cli_join j;
        memset(&j, 0, sizeof(j));
        size_t glen;
        if (!split_at(arg, &glen, j.nic) || !parse_addr(arg, glen, &j.group))
                return bad("--join", arg, "expected GROUP@NAME");
        if (!ns_ip4_is_multicast(j.group))
                return bad("--join", arg, "not a multicast group");
        if (o->n_joins == CLI_MAX_ITEMS)
                return bad("--join", arg, "too many groups");
        o->joins[o->n_joins++] = j;
        return 0;
}

static int opt_drain(struct cli_opts *o, const char *arg)
{
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        if (errno || *end || end == arg || !(v >= 0) || v > 86400.0 * 365)
                return bad("--drain", arg, "expected a number of seconds");
        o->drain_ns = (int64_t)(v * 1e9);
        return 0;
}

/* Settings given by name before or after the interface: checked at the end. */
struct late {
        char mtu_name[CLI_MAX_ITEMS][CLI_NAME_MAX];
        uint32_t mtu[CLI_MAX_ITEMS];
        size_t n_mtu;
        char in_name[CLI_MAX_ITEMS][CLI_NAME_MAX];
        const char *in_file[CLI_MAX_ITEMS];
        size_t n_in;
};

static int opt_mtu(struct late *l, const char *arg)
{
        const char *v;
        uint64_t mtu;
        if (l->n_mtu == CLI_MAX_ITEMS || !split_name(arg, l->mtu_name[l->n_mtu], &v))
                return bad("--mtu", arg, "expected NAME=N");
        if (!parse_u64(v, 65535, &mtu) || mtu < 68)
                return bad("--mtu", arg, "MTU must be 68..65535");
        l->mtu[l->n_mtu++] = (uint32_t)mtu;
        return 0;
}

static int opt_in(struct late *l, const char *arg)
{
        const char *v;
        if (l->n_in == CLI_MAX_ITEMS || !split_name(arg, l->in_name[l->n_in], &v) || !*v)
                return bad("--in", arg, "expected NAME=FILE");
        l->in_file[l->n_in++] = v;
        return 0;
}

/* Applies --mtu and --in, and checks that every name refers to an --iface. */
static int finish(struct cli_opts *o, const struct late *l)
{
        for (size_t i = 0; i < l->n_mtu; i++) {
                struct cli_iface *f = find_iface(o, l->mtu_name[i]);
                if (!f)
                        return bad("--mtu", l->mtu_name[i], "no such --iface");
                f->mtu = l->mtu[i];
        }
        for (size_t i = 0; i < l->n_in; i++) {
                struct cli_iface *f = find_iface(o, l->in_name[i]);
                if (!f)
                        return bad("--in", l->in_name[i], "no such --iface");
                f->in_file = l->in_file[i];
        }
        for (size_t i = 0; i < o->n_routes; i++)
                if (!find_iface(o, o->routes[i].nic))
                        return bad("--route", o->routes[i].nic, "no such --iface");
        for (size_t i = 0; i < o->n_neighs; i++)
                if (!find_iface(o, o->neighs[i].nic))
                        return bad("--neigh", o->neighs[i].nic, "no such --iface");
        for (size_t i = 0; i < o->n_joins; i++)
                if (!find_iface(o, o->joins[i].nic))
                        return bad("--join", o->joins[i].nic, "no such --iface");
        if (o->n_ifaces == 0)
                return bad("--iface", NULL, "at least one interface is required");
        return 0;
}

enum {
        OPT_IFACE = 256,
        OPT_MTU,
        OPT_FORWARD,
        OPT_ROUTE,
        OPT_NEIGH,
        OPT_UDP_ECHO,
        OPT_JOIN,
        OPT_PCAP,
        OPT_STATS,
        OPT_HELP,
        OPT_VERBOSE,
        OPT_OUT,
        OPT_IN,
        OPT_DRAIN,
        OPT_SEED,
};

static const struct option long_opts[] = {
        { "iface", required_argument, NULL, OPT_IFACE },
        { "mtu", required_argument, NULL, OPT_MTU },
        { "forward", no_argument, NULL, OPT_FORWARD },
        { "route", required_argument, NULL, OPT_ROUTE },
        { "neigh", required_argument, NULL, OPT_NEIGH },
        { "udp-echo", required_argument, NULL, OPT_UDP_ECHO },
        { "join", required_argument, NULL, OPT_JOIN },
        { "pcap", required_argument, NULL, OPT_PCAP },
        { "stats", required_argument, NULL, OPT_STATS },
        { "help", no_argument, NULL, OPT_HELP },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "out", required_argument, NULL, OPT_OUT },
        { "in", required_argument, NULL, OPT_IN },
        { "drain", required_argument, NULL, OPT_DRAIN },
        { "seed", required_argument, NULL, OPT_SEED },
        { NULL, 0, NULL, 0 },
};

/* One option; 0, 1 (help printed) or -1. */
static int one_opt(enum cli_mode mode, int c, const char *arg, struct cli_opts *o, struct late *l)
{
        uint64_t v;
        if (mode == CLI_RUN && c >= OPT_OUT) {
                fprintf(stderr, "netstack run: that option belongs to 'netstack replay'\n");
                return -1;
        }
        switch (c) {
        case OPT_IFACE:
                return opt_iface(o, arg);
        case OPT_MTU:
                return opt_mtu(l, arg);
        case OPT_FORWARD:
                o->forward = true;
                return 0;
        case OPT_ROUTE:
                return opt_route(o, arg);
        case OPT_NEIGH:
                return opt_neigh(o, arg);
        case OPT_UDP_ECHO:
                if (!parse_u64(arg, 65535, &v) || v == 0)
                        return bad("--udp-echo", arg, "expected a port 1..65535");
                o->udp_echo = (uint16_t)v;
                return 0;
        case OPT_JOIN:
                return opt_join(o, arg);
        case OPT_PCAP:
                o->pcap_path = arg;
                return 0;
        case OPT_STATS:
                o->stats_path = arg;
                return 0;
        case OPT_HELP:
                if (mode == CLI_RUN)
                        cli_usage_run(stdout);
                else
                        cli_usage_replay(stdout);
                return 1;
        case OPT_VERBOSE:
                if (mode != CLI_RUN) {
                        fprintf(stderr, "netstack replay: --verbose belongs to 'netstack run'\n");
                        return -1;
                }
                o->verbose = true;
                return 0;
        case OPT_OUT:
                o->out_path = arg;
                return 0;
        case OPT_IN:
                return opt_in(l, arg);
        case OPT_DRAIN:
                return opt_drain(o, arg);
        case OPT_SEED:
                if (!parse_u64(arg, UINT64_MAX, &v))
                        return bad("--seed", arg, "expected an unsigned integer");
                o->seed = v;
                return 0;
        default:
                return -1;
        }
}

int cli_parse(enum cli_mode mode, int argc, char **argv, struct cli_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->seed = 1;
        struct late l;
        memset(&l, 0, sizeof(l));
        optind = 1;
        opterr = 1;
        int c;
        while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
                if (c == 'h')
                        c = OPT_HELP;
                if (c == '?') {
                        fprintf(stderr, "netstack %s: see --help\n", argv[0]);
                        return -1;
                }
                int r = one_opt(mode, c, optarg, o, &l);
                if (r != 0)
                        return r;
        }
        if (mode == CLI_RUN && optind < argc) {
                fprintf(stderr, "netstack run: unexpected argument '%s'\n", argv[optind]);
                return -1;
        }
        if (mode == CLI_REPLAY) {
                if (optind < argc)
                        o->in_path = argv[optind++];
                if (optind < argc) {
                        fprintf(stderr, "netstack replay: unexpected argument '%s'\n",
                                argv[optind]);
                        return -1;
                }
        }
        for (size_t i = 0; i < CLI_MAX_IFACES; i++)
                o->ifaces[i].mtu = 1500;
        if (finish(o, &l) != 0)
                return -1;
        if (mode == CLI_REPLAY) {
                if (!o->out_path)
                        return bad("--out", NULL, "is required");
                if (o->in_path && o->ifaces[0].in_file)
                        return bad("--in", o->ifaces[0].name, "given twice (IN.pcap and --in)");
                if (o->in_path)
                        o->ifaces[0].in_file = o->in_path;
                bool any = false;
                for (size_t i = 0; i < o->n_ifaces; i++)
                        any |= o->ifaces[i].in_file != NULL;
                if (!any)
                        return bad("replay", NULL, "no input capture (IN.pcap or --in)");
        }
        return 0;
}
