/* serve.c — `lighthouse serve`: run the bridge daemon (src/bridge/).
 *
 * Settings: defaults < --config FILE (or LIGHTHOUSE_CONFIG) < LIGHTHOUSE_* environment
 * < flags. See docs/configuration.md. Prints where it listens and where its data is on
 * stdout once it accepts connections; diagnostics go to stderr. */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "cli/cli.h"

static const char *usageText =
    "usage: lighthouse serve [--config FILE] [--listen HOST:PORT|unix:PATH] [--expert-listen HOST:PORT|unix:PATH]\n"
    "                        [--data DIR] [--policy FILE]\n"
    "                        [--store sqlite|postgres] [--pg CONNINFO] [--workers N] [--max-connections N]\n"
    "                        [--timeout SECONDS] [--body-limit SIZE] [--rate-limit PER_SECOND] [--rate-burst N]\n"
    "                        [--max-streams N] [--drain SECONDS] [--metrics-auth true|false]\n"
    "Any setting of docs/configuration.md is also a flag: --sla-window-s 60, --alert-webhook-url URL, ...\n";

/* "--rate-limit" → "rate_limit" */
static int flagKey(const char *flag, char *key, size_t cap) {
    if (strncmp(flag, "--", 2) || strlen(flag) - 2 >= cap) return -1;
    size_t i = 0;
    for (const char *p = flag + 2; *p; p++) key[i++] = *p == '-' ? '_' : *p;
    key[i] = 0;
    return 0;
}

int lh_cli_serve(int argc, char **argv) {
    lh_bridge_config cfg;
    lh_bridge_config_defaults(&cfg);
    char err[1024];
    /* The config file comes first, whatever the order of the flags. */
    const char *config = getenv("LIGHTHOUSE_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(usageText, stdout); return 0; }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) { fputs(usageText, stderr); return 2; }
            config = argv[++i];
        }
    }
    if (config && *config && lh_bridge_config_file(&cfg, config, err, sizeof(err))) {
        fprintf(stderr, "lighthouse serve: %s\n", err);
        return 2;
    }
    if (lh_bridge_config_env(&cfg, err, sizeof(err))) {
        fprintf(stderr, "lighthouse serve: %s\n", err);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        assert(argv[i]); /* argv[i] is a string for every i < argc (C11 5.1.2.2.1) */
        if (!strcmp(argv[i], "--config")) { i++; continue; }
        char key[64];
        if (flagKey(argv[i], key, sizeof(key)) || i + 1 >= argc) {
            fprintf(stderr, "lighthouse serve: unexpected argument '%s'\n%s", argv[i], usageText);
            return 2;
        }
        if (lh_bridge_config_set(&cfg, key, argv[i + 1], err, sizeof(err))) {
            fprintf(stderr, "lighthouse serve: %s: %s\n%s", argv[i], err, usageText);
            return 2;
        }
        i++;
    }
    /* Signals are taken by lh_bridge_wait; every thread created from here inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    lh_bridge *b = lh_bridge_start(&cfg, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "lighthouse serve: %s\n", err);
        return 2;
    }
    const char *addr = lh_bridge_address(b);
    int isUnix = !strncmp(addr, "unix:", 5);
    printf("lighthouse bridge listening on %s%s\n", isUnix ? "" : "http://", addr);
    const char *xaddr = lh_bridge_expert_address(b);
    if (xaddr)
        printf("experts' listener (lowest priority) on %s%s\n", strncmp(xaddr, "unix:", 5) ? "http://" : "", xaddr);
    printf("data: %s (%s store)\n", cfg.data, cfg.store);
    printf("policy: %s\n", cfg.policy[0] ? cfg.policy : "built-in default");
    printf("create a token: lighthouse token create --agent NAME --role builder --data %s\n", cfg.data);
    printf("then: export LIGHTHOUSE_URL=%s%s LIGHTHOUSE_TOKEN=... LIGHTHOUSE_REPLY_KEY=...\n", isUnix ? "" : "http://",
           addr);
    printf("  (the token is what token create prints on stdout; LIGHTHOUSE_REPLY_KEY=... is the line it prints on "
           "stderr: with it the hook obeys only this bridge)\n");
    fflush(stdout);
    int rc = lh_bridge_wait(b);
    lh_bridge_free(b);
    fprintf(stderr, "lighthouse serve: stopped\n");
    return rc;
}
