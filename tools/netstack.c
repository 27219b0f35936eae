/*
 * The netstack command: `run` (the stack on TAP devices), `replay` (a
 * capture through the stack, offline and deterministic) and `demo` (the
 * guided tour, tools/netstack-demo.sh).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef NS_SOURCE_DIR
#define NS_SOURCE_DIR "."
#endif

static const char usage[] =
    "usage: netstack <command> [options]\n"
    "\n"
    "A userspace IPv4 network layer (netstack-c) on real and recorded links.\n"
    "\n"
    "commands:\n"
    "  run      the stack as a host or router on TAP devices\n"
    "  replay   feed a pcap capture (Ethernet or raw IP) through the stack,\n"
    "           write what it sends\n"
    "  demo     the stack as a router between two namespaces, step by step\n"
    "           (falls back to 'replay' of a bundled capture without root)\n"
    "\n"
    "'netstack <command> --help' describes each command; 'netstack --version'\n"
    "prints the version. The manual is netstack(1).\n";

static const char demo_usage[] =
    "usage: netstack demo [options]\n"
    "\n"
    "Creates two network namespaces with TAP devices, runs 'netstack run' as a\n"
    "router between them and checks Linux ping (plain, -R, -T tsonly,\n"
    "-T tsandaddr, -s 8000), tracepath, a 30000-byte UDP datagram through the\n"
    "echo service and a ping flood, printing a pass/fail line for each step,\n"
    "the counters that moved and where the capture is. Removes what it made.\n"
    "Without CAP_NET_ADMIN it says so and replays a bundled capture instead.\n"
    "Runs tools/netstack-demo.sh (next to this program, or in the source tree);\n"
    "options are passed to it.\n";

/* dir of the running binary into buf; false when unknown. */
static bool self_dir(char *buf, size_t cap)
{
        ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (!slash)
                return false;
        *slash = '\0';
        return true;
}

static int demo(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(demo_usage, stdout);
                        return CLI_EXIT_OK;
                }
        }
        char dir[PATH_MAX];
        char paths[2][PATH_MAX + 32];
        size_t n = 0;
        if (self_dir(dir, sizeof(dir)))
                snprintf(paths[n++], sizeof(paths[0]), "%s/netstack-demo.sh", dir);
        snprintf(paths[n++], sizeof(paths[0]), "%s/tools/netstack-demo.sh", NS_SOURCE_DIR);
        for (size_t i = 0; i < n; i++) {
                if (access(paths[i], R_OK) != 0)
                        continue;
                /* bash SCRIPT ARGS...: the script finds this binary through NETSTACK. */
                char **args = calloc((size_t)argc + 3, sizeof(*args));
                if (!args)
                        return CLI_EXIT_FAIL;
                args[0] = "bash";
                args[1] = paths[i];
                for (int k = 1; k < argc; k++)
                        args[k + 1] = argv[k];
                char self[PATH_MAX];
                ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
                if (len > 0) {
                        self[len] = '\0';
                        setenv("NETSTACK", self, 0);
                }
                execvp("bash", args);
                fprintf(stderr, "netstack demo: cannot run bash %s: %s\n", paths[i],
                        strerror(errno));
                free(args);
                return CLI_EXIT_FAIL;
        }
        fprintf(stderr, "netstack demo: tools/netstack-demo.sh not found (looked in %s%s%s)\n",
                paths[0], n > 1 ? " and " : "", n > 1 ? paths[1] : "");
        return CLI_EXIT_FAIL;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fputs(usage, stderr);
                return CLI_EXIT_USAGE;
        }
        const char *cmd = argv[1];
        if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
                fputs(usage, stdout);
                return CLI_EXIT_OK;
        }
        if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
                /* The library linked in; the headers' version when they differ. */
                printf("netstack %s\n", ns_version());
                return CLI_EXIT_OK;
        }
        if (strcmp(cmd, "run") == 0)
                return cli_run(argc - 1, argv + 1);
        if (strcmp(cmd, "replay") == 0)
                return cli_replay(argc - 1, argv + 1);
        if (strcmp(cmd, "demo") == 0)
                return demo(argc - 1, argv + 1);
        fprintf(stderr, "netstack: unknown command '%s'\n\n", cmd);
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
}
