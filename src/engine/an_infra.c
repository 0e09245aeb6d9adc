/* an_infra.c — infrastructure and shared services: Terraform and other IaC tools,
 * Kubernetes and Helm, Ansible, cloud CLIs (aws, gcloud, gsutil, az, and the PaaS
 * CLIs), containers, package publishing, and the git forges' CLIs.
 *
 * Tearing things down (terraform destroy, kubectl delete namespace, aws s3 rm
 * --recursive, docker volume prune) is denied; changing shared state (apply, deploy,
 * scale, push, publish) is escalated; plans, dry runs and reads are allowed. */
#include <string.h>

#include "engine/an_common.h"

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

static int startsWith(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static int dryRun(const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (startsWith(a, "--dry-run") && strcmp(a, "--dry-run=none")) return 1;
        if (!strcmp(a, "--check") || !strcmp(a, "--syntax-check") || !strcmp(a, "--preview") ||
            !strcmp(a, "--list-hosts") || !strcmp(a, "--list-tasks") || !strcmp(a, "--list-tags") ||
            !strcmp(a, "--plan") || !strcmp(a, "--whatif") || !strcmp(a, "--what-if"))
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Infrastructure as code                                                          */
/* ------------------------------------------------------------------------------ */

void an_infra_terraform(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "", NULL, ops, 4);
    if (n == 0) return;
    int k = 0;
    const char *v = cmd->argv[ops[k]].s;
    if ((!strcmp(v, "run-all") || !strcmp(v, "run") || !strcmp(v, "stack")) && n > 1) v = cmd->argv[ops[++k]].s;
    lh_ctx *c = s->c;
    if (!strcmp(v, "destroy") || !strcmp(v, "destroy-all")) {
        lh_emit(c, idx, LH_RULE(TF_DESTROY), cmd->prog);
        return;
    }
    if (!strcmp(v, "apply") || !strcmp(v, "apply-all")) {
        if (an_has_word(cmd, 1, "-destroy") || an_has_word(cmd, 1, "--destroy")) lh_emit(c, idx, LH_RULE(TF_DESTROY), "apply -destroy");
        else lh_emit(c, idx, LH_RULE(TF_APPLY), cmd->prog);
        return;
    }
    if (!strcmp(v, "import") || !strcmp(v, "taint") || !strcmp(v, "untaint") || !strcmp(v, "force-unlock")) {
        lh_emit(c, idx, LH_RULE(TF_STATE), v);
        return;
    }
    const char *w = n > k + 1 ? cmd->argv[ops[k + 1]].s : "";
    if (!strcmp(v, "state") && (!strcmp(w, "rm") || !strcmp(w, "mv") || !strcmp(w, "push") ||
                                !strcmp(w, "replace-provider")))
        lh_emit(c, idx, LH_RULE(TF_STATE), "state");
    else if (!strcmp(v, "workspace") && !strcmp(w, "delete"))
        lh_emit(c, idx, LH_RULE(TF_STATE), "workspace delete");
}

/* pulumi, cdk, cdktf, serverless. */
void an_infra_iac(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "sC", (const char *const[]){"--stack", "--cwd", "--profile", "--region", NULL}, ops, 4);
    if (n == 0) return;
    const char *v = cmd->argv[ops[0]].s;
    const char *w = n > 1 ? cmd->argv[ops[1]].s : "";
    lh_ctx *c = s->c;
    if (!strcmp(v, "destroy") || !strcmp(v, "down") || !strcmp(v, "remove")) {
        if (!dryRun(cmd)) lh_emit(c, idx, LH_RULE(TF_DESTROY), cmd->prog);
        return;
    }
    if (!strcmp(v, "up") || !strcmp(v, "update") || !strcmp(v, "deploy") || !strcmp(v, "bootstrap")) {
        if (!dryRun(cmd)) lh_emit(c, idx, LH_RULE(TF_APPLY), cmd->prog);
        return;
    }
    if (!strcmp(v, "refresh") || !strcmp(v, "import") || (!strcmp(v, "stack") && !strcmp(w, "rm")) ||
        (!strcmp(v, "state") && (!strcmp(w, "delete") || !strcmp(w, "unprotect"))))
        lh_emit(c, idx, LH_RULE(TF_STATE), v);
}

/* ------------------------------------------------------------------------------ */
/* Kubernetes                                                                      */
/* ------------------------------------------------------------------------------ */

static const char *const kKubeLong[] = {"--namespace", "--context", "--cluster", "--kubeconfig",
                                        "--server", "--user", "--token", "--selector", "--output",
                                        "--filename", "--container", "--field-selector", "--as",
                                        "--as-group", "--label-columns", "--sort-by", "--template",
                                        "--timeout", "--grace-period", "--kustomize", "--type",
                                        "--replicas", "--image", "--port", "--cascade", "--for",
                                        "--request-timeout", "--patch", "--patch-file", NULL};

void an_infra_kubectl(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[8];
    int n = an_operands(cmd, 1, "nslocfLkpi", kKubeLong, ops, 8);
    if (n == 0) return;
    const char *v = cmd->argv[ops[0]].s;
    const char *res = n > 1 ? cmd->argv[ops[1]].s : "";
    lh_ctx *c = s->c;
    if (dryRun(cmd) || !strcmp(v, "diff")) return;
    if (!strcmp(v, "delete")) {
        char type[64];
        size_t tl = strcspn(res, "/,.");
        if (tl >= sizeof(type)) tl = sizeof(type) - 1;
        memcpy(type, res, tl);
        type[tl] = 0;
        static const char *const ns[] = {"namespace", "namespaces", "ns", "project", "projects", NULL};
        static const char *const data[] = {"pv", "pvc", "persistentvolume", "persistentvolumes",
                                           "persistentvolumeclaim", "persistentvolumeclaims", "crd",
                                           "crds", "customresourcedefinition",
                                           "customresourcedefinitions", "node", "nodes", "no",
                                           "storageclass", "storageclasses", "sc", "all", NULL};
        if (inList(type, ns)) { lh_emit(c, idx, LH_RULE(K8S_DELETE_NS), res); return; }
        if (lh_has_opt(cmd, 0, "--all") || lh_has_opt(cmd, 'A', "--all-namespaces") || inList(type, data)) {
            lh_emit(c, idx, LH_RULE(K8S_DELETE_ALL), *res ? res : "--all");
            return;
        }
        lh_emit(c, idx, LH_RULE(K8S_DELETE), *res ? res : "-f");
        return;
    }
    if (!strcmp(v, "cp")) {
        /* into a pod (DEST is pod:path) changes it; out of one only reads */
        if (n > 2 && strchr(cmd->argv[ops[n - 1]].s, ':')) lh_emit(c, idx, LH_RULE(K8S_APPLY), "kubectl cp");
        else if (n > 2) an_fs_write_target(s, idx, cmd->argv[ops[n - 1]].s, AN_W_WRITE);
        return;
    }
    static const char *const change[] = {"apply", "create", "replace", "patch", "edit", "scale",
                                         "autoscale", "set", "label", "annotate", "drain", "cordon",
                                         "uncordon", "taint", "expose", "run", "debug",
                                         "certificate", NULL};
    if (inList(v, change)) {
        const char *subj = lh_arena_printf(c->arena, "kubectl %s%s%s", v, *res ? " " : "", res);
        lh_emit(c, idx, LH_RULE(K8S_APPLY), subj ? subj : v);
        return;
    }
    if (!strcmp(v, "rollout")) {
        if (strcmp(res, "status") && strcmp(res, "history")) lh_emit(c, idx, LH_RULE(K8S_APPLY), "kubectl rollout");
        return;
    }
    if (!strcmp(v, "exec") || !strcmp(v, "attach")) {
        lh_emit(c, idx, LH_RULE(K8S_EXEC), v);
        return;
    }
    if (!strcmp(v, "get") && (!strncmp(res, "secret", 6) || !strncmp(res, "secrets", 7))) {
        const char *o = an_opt_value(cmd, 'o', "--output");
        if (o && strcmp(o, "name") && strcmp(o, "wide")) an_net_secret_used(s, idx, "kubernetes secret");
        return;
    }
    if (!strcmp(v, "config") && !strcmp(res, "view") && (an_has_word(cmd, 1, "--raw") || an_has_word(cmd, 1, "--flatten")))
        an_net_secret_used(s, idx, "kubeconfig credentials");
}

void an_infra_helm(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[2];
    int n = an_operands(cmd, 1, "nf", (const char *const[]){"--namespace", "--kube-context", "--values",
                                                           "--set", "--version", "--kubeconfig", NULL},
                        ops, 2);
    if (n == 0 || dryRun(cmd)) return;
    static const char *const change[] = {"install", "upgrade", "uninstall", "delete", "del", "un",
                                         "rollback", "test", NULL};
    if (inList(cmd->argv[ops[0]].s, change)) lh_emit(s->c, idx, LH_RULE(K8S_HELM), cmd->argv[ops[0]].s);
}

void an_infra_ansible(an_state *s, int idx, const lh_cmd *cmd) {
    if (dryRun(cmd) || lh_has_opt(cmd, 'C', NULL) || lh_has_opt(cmd, 0, "--version")) return;
    if (!strcmp(cmd->prog, "ansible")) {
        const char *m = an_opt_value(cmd, 'm', "--module-name");
        if (m && (!strcmp(m, "ping") || !strcmp(m, "setup") || !strcmp(m, "gather_facts") ||
                  !strcmp(m, "debug") || !strcmp(m, "ansible.builtin.ping") ||
                  !strcmp(m, "ansible.builtin.setup")))
            return;
        if (lh_first_operand(cmd, 0) < 0) return;
    }
    lh_emit(s->c, idx, LH_RULE(INFRA_ANSIBLE), cmd->prog);
}

/* ------------------------------------------------------------------------------ */
/* Cloud CLIs                                                                      */
/* ------------------------------------------------------------------------------ */

/* Verbs that only read: exact words (gcloud "list") and prefixes of aws-style verbs
 * ("describe-instances", "get-caller-identity"). */
static int isReadVerb(const char *v) {
    static const char *const exact[] = {"describe", "list", "get", "show", "wait", "help", "ls",
                                        "info", "version", "check", "view", "status", "whoami",
                                        "tail", "logs", "read", "verify", "presign", "login",
                                        "configure", "sso", "auth", "config", "components",
                                        "inspect", "find", "watch", "search", "query", "scan",
                                        "export", "download", "count", "select", "test", "validate",
                                        NULL};
    static const char *const pre[] = {"describe-", "list-", "get-", "head-", "batch-get-",
                                      "search-", "lookup-", "filter-", "estimate-", "validate-",
                                      "simulate-", "preview-", "test-", "show-", "print-", "check-",
                                      "generate-presigned", "detect-", "poll-", "download-", "read-",
                                      "verify-", "select-", "count-", NULL};
    if (inList(v, exact)) return 1;
    for (int k = 0; pre[k]; k++)
        if (startsWith(v, pre[k])) return 1;
    return 0;
}

static const char *const kAwsLong[] = {"--profile", "--region", "--output", "--endpoint-url", "--query",
                                       "--color", "--cli-read-timeout", "--cli-connect-timeout",
                                       "--ca-bundle", "--exclude", "--include", "--acl", "--storage-class",
                                       "--sse", "--content-type", "--cache-control", "--metadata",
                                       "--expires", NULL};

static int dataBearing(const char *v) {
    static const char *const nouns[] = {"db-", "table", "bucket", "stack", "cluster", "file-system",
                                        "volume", "snapshot", "secret", "repository", "hosted-zone",
                                        "log-group", "backup", "vault", "instance", "environment",
                                        "function", "stream", "queue", "database", "keyspace", "domain",
                                        "user", "project", "graph", "replication-group", "key", NULL};
    for (int k = 0; nouns[k]; k++)
        if (strstr(v, nouns[k])) return 1;
    return 0;
}

static void awsS3(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int n) {
    const char *v = n > 1 ? cmd->argv[ops[1]].s : "";
    lh_ctx *c = s->c;
    int recursive = lh_has_opt(cmd, 0, "--recursive");
    if (dryRun(cmd)) return;
    if (!strcmp(v, "rm")) {
        lh_emit(c, idx, recursive ? LH_RULE(CLOUD_STORAGE_DELETE) : LH_RULE(CLOUD_CHANGE), n > 2 ? cmd->argv[ops[2]].s : "s3");
        return;
    }
    if (!strcmp(v, "rb")) {
        lh_emit(c, idx, lh_has_opt(cmd, 0, "--force") ? LH_RULE(CLOUD_STORAGE_DELETE) : LH_RULE(CLOUD_CHANGE),
                n > 2 ? cmd->argv[ops[2]].s : "s3");
        return;
    }
    if (!strcmp(v, "cp") || !strcmp(v, "mv") || !strcmp(v, "sync")) {
        if (n < 4) return;
        const char *src = cmd->argv[ops[2]].s, *dst = cmd->argv[ops[3]].s;
        if (!strncmp(dst, "s3://", 5)) {
            if (strncmp(src, "s3://", 5) && strcmp(src, "-")) {
                lh_path p;
                lh_path_class cls = an_path(s, idx, src, &p);
                if (cls == LH_PATH_SECRET || (p.flags & LH_PF_IS_HOME)) { lh_emit(c, idx, LH_RULE(EXFIL), p.norm); return; }
            }
            lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), dst);
        } else if (!strncmp(src, "s3://", 5)) {
            if (!strcmp(v, "mv")) lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), src);
            if (strcmp(dst, "-")) an_fs_write_target(s, idx, dst, AN_W_WRITE);
        }
        return;
    }
    if (!strcmp(v, "mb") || !strcmp(v, "website")) lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), v);
}

void an_infra_aws(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[6];
    int n = an_operands(cmd, 1, "", kAwsLong, ops, 6);
    if (n < 2) return;
    const char *svc = cmd->argv[ops[0]].s, *op = cmd->argv[ops[1]].s;
    lh_ctx *c = s->c;
    if (!strcmp(svc, "s3")) { awsS3(s, idx, cmd, ops, n); return; }
    if (!strcmp(svc, "configure")) {
        if (!strcmp(op, "set") || !strcmp(op, "import")) lh_emit(c, idx, LH_RULE(FS_WRITE_SECRET), "~/.aws");
        return;
    }
    if ((!strcmp(svc, "secretsmanager") && !strcmp(op, "get-secret-value")) ||
        (!strcmp(svc, "ssm") && startsWith(op, "get-parameter") && an_has_word(cmd, 1, "--with-decryption")) ||
        (!strcmp(svc, "kms") && !strcmp(op, "decrypt")) ||
        (!strcmp(svc, "iam") && !strcmp(op, "create-access-key"))) {
        an_net_secret_used(s, idx, op);
        return;
    }
    if (isReadVerb(op) || dryRun(cmd)) return;
    if (startsWith(op, "terminate-") || !strcmp(op, "schedule-key-deletion") || !strcmp(op, "purge-queue") ||
        (startsWith(op, "delete-") && dataBearing(op + 7))) {
        lh_emit(c, idx, LH_RULE(CLOUD_DELETE), op);
        return;
    }
    lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), op);
}

/* gcloud GROUP… VERB / gsutil VERB. */
void an_infra_gcloud(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[8];
    static const char *const lo[] = {"--project", "--zone", "--region", "--format", "--filter",
                                     "--configuration", "--account", "--impersonate-service-account",
                                     NULL};
    int n = an_operands(cmd, 1, "", lo, ops, 8);
    if (n == 0) return;
    lh_ctx *c = s->c;
    if (!strcmp(cmd->prog, "gsutil")) {
        const char *v = cmd->argv[ops[0]].s;
        if (!strcmp(v, "rm")) {
            lh_emit(c, idx, (lh_has_opt(cmd, 'r', NULL) || lh_has_opt(cmd, 'R', NULL) || lh_has_opt(cmd, 'a', NULL))
                                ? LH_RULE(CLOUD_STORAGE_DELETE) : LH_RULE(CLOUD_CHANGE),
                    n > 1 ? cmd->argv[ops[1]].s : "gs");
        } else if (!strcmp(v, "rb")) {
            lh_emit(c, idx, LH_RULE(CLOUD_STORAGE_DELETE), n > 1 ? cmd->argv[ops[1]].s : "gs");
        } else if (!strcmp(v, "cp") || !strcmp(v, "mv") || !strcmp(v, "rsync")) {
            const char *dst = cmd->argv[ops[n - 1]].s;
            if (!strncmp(dst, "gs://", 5)) {
                for (int k = 1; k < n - 1; k++) {
                    lh_path p;
                    if (strncmp(cmd->argv[ops[k]].s, "gs://", 5) &&
                        an_path(s, idx, cmd->argv[ops[k]].s, &p) == LH_PATH_SECRET) {
                        lh_emit(c, idx, LH_RULE(EXFIL), p.norm);
                        return;
                    }
                }
                lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), dst);
            }
        } else if (!strcmp(v, "mb") || !strcmp(v, "acl") || !strcmp(v, "iam") || !strcmp(v, "setmeta")) {
            lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), v);
        }
        return;
    }
    /* gcloud: find the verb among the leading words */
    const char *prev = "";
    for (int k = 0; k < n; k++) {
        const char *v = cmd->argv[ops[k]].s;
        if (!strcmp(v, "config") || !strcmp(v, "auth") || !strcmp(v, "components") || !strcmp(v, "info") ||
            !strcmp(v, "version") || !strcmp(v, "help"))
            return;
        if (!strcmp(v, "ssh") || !strcmp(v, "scp")) { lh_emit(c, idx, LH_RULE(SSH_REMOTE), v); return; }
        if (!strcmp(v, "access") && !strcmp(prev, "versions")) { an_net_secret_used(s, idx, "gcloud secret"); return; }
        if (!strcmp(v, "print-access-token") || !strcmp(v, "print-identity-token")) return;
        if (!strcmp(v, "rm") && !strcmp(prev, "storage")) {
            lh_emit(c, idx, (lh_has_opt(cmd, 'r', "--recursive") || lh_has_opt(cmd, 'R', NULL))
                                ? LH_RULE(CLOUD_STORAGE_DELETE) : LH_RULE(CLOUD_CHANGE), "gcloud storage rm");
            return;
        }
        if (!strcmp(v, "delete")) {
            lh_emit(c, idx, dataBearing(prev) || !strcmp(prev, "projects") || !strcmp(prev, "instances") ||
                                    !strcmp(prev, "clusters") || !strcmp(prev, "buckets") || !strcmp(prev, "disks") ||
                                    !strcmp(prev, "datasets") || !strcmp(prev, "services")
                                ? LH_RULE(CLOUD_DELETE) : LH_RULE(CLOUD_CHANGE),
                    prev);
            return;
        }
        if (isReadVerb(v)) return;
        static const char *const change[] = {"create", "deploy", "update", "patch", "resize", "start",
                                             "stop", "reset", "restart", "import", "enable", "disable",
                                             "apply", "attach", "detach", "migrate", "promote", "restore",
                                             "rollback", "cp", "mv", "rsync", "add-iam-policy-binding",
                                             "remove-iam-policy-binding", "set-iam-policy", "submit",
                                             "run", "execute", "scale", "set", "add", "remove", NULL};
        if (inList(v, change) || startsWith(v, "set-") || startsWith(v, "add-") || startsWith(v, "remove-")) {
            lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), v);
            return;
        }
        prev = v;
    }
}

void an_infra_az(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[8];
    int n = an_operands(cmd, 1, "gnos", (const char *const[]){"--resource-group", "--name", "--output",
                                                             "--subscription", "--query", NULL},
                        ops, 8);
    lh_ctx *c = s->c;
    const char *prev = "";
    for (int k = 0; k < n; k++) {
        const char *v = cmd->argv[ops[k]].s;
        if (!strcmp(v, "login") || !strcmp(v, "account") || !strcmp(v, "version")) return;
        if (!strcmp(prev, "secret") && !strcmp(v, "show")) { an_net_secret_used(s, idx, "az keyvault secret"); return; }
        if (!strcmp(v, "delete") || !strcmp(v, "delete-batch") || !strcmp(v, "purge")) {
            static const char *const big[] = {"group", "vm", "sql", "storage", "cosmosdb", "aks", "keyvault",
                                              "postgres", "mysql", "redis", "disk", "snapshot", "account",
                                              "container", "blob", "share", "db", "server", "webapp",
                                              "functionapp", "vault", "flexible-server", NULL};
            lh_emit(c, idx, (inList(prev, big) || !strcmp(v, "delete-batch")) ? LH_RULE(CLOUD_DELETE) : LH_RULE(CLOUD_CHANGE), prev);
            return;
        }
        if (isReadVerb(v)) return;
        static const char *const change[] = {"create", "update", "set", "deploy", "start", "stop",
                                             "restart", "scale", "upload", "upload-batch", "add",
                                             "remove", "assign", "import", "restore", "swap", "invoke",
                                             "run-command", "reset", "up", NULL};
        if (inList(v, change)) { lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), v); return; }
        prev = v;
    }
}

/* heroku, fly, vercel, netlify, firebase, doctl, eksctl, hcloud. */
void an_infra_cloudcli(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int ops[6];
    int n = an_operands(cmd, 1, "aArn", (const char *const[]){"--app", "--remote", "--project", "--token",
                                                             "--scope", "--config", "--region", NULL},
                        ops, 6);
    lh_ctx *c = s->c;
    if (n == 0) {
        if (!strcmp(p, "vercel") && !lh_has_opt(cmd, 0, "--version") && !lh_has_opt(cmd, 0, "--help"))
            lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), "vercel deploy");
        return;
    }
    static const char *const destroy[] = {"destroy", "delete", "rm", "remove", "apps:destroy", "pg:reset",
                                          "addons:destroy", "sites:delete", "firestore:delete",
                                          "database:remove", "projects:delete", "apps:delete",
                                          "functions:delete", "hosting:disable", NULL};
    static const char *const change[] = {"deploy", "scale", "create", "update", "restart", "stop",
                                         "start", "set", "config:set", "config:unset", "secrets",
                                         "ps:restart", "ps:scale", "releases:rollback", "maintenance:on",
                                         "promote", "rollback", "alias", "upgrade", "env", "domains",
                                         "redeploy", "apps:create", "addons:create", "resize", "suspend",
                                         "pg:promote", "certs", "access", NULL};
    static const char *const remote[] = {"run", "ssh", "console", "run:detached", "pg:psql", NULL};
    for (int k = 0; k < n; k++) {
        const char *v = cmd->argv[ops[k]].s;
        if (!strcmp(v, "config") && !strcmp(p, "heroku") && k == 0) {
            an_net_secret_used(s, idx, "heroku config vars");
            return;
        }
        if (!strcmp(v, "config:get")) { an_net_secret_used(s, idx, "heroku config var"); return; }
        if (inList(v, destroy)) {
            /* "fly volumes destroy", "vercel rm", "doctl … delete" */
            lh_emit(c, idx, LH_RULE(CLOUD_DELETE), v);
            return;
        }
        if (inList(v, remote)) { lh_emit(c, idx, LH_RULE(SSH_REMOTE), v); return; }
        if (inList(v, change)) { lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), v); return; }
        if (k >= 1) break;   /* group + verb at most */
    }
}

/* ------------------------------------------------------------------------------ */
/* Containers                                                                      */
/* ------------------------------------------------------------------------------ */

/* A bind mount source that hands the container the host: "/", system dirs, the
 * Docker socket, the home dir or credentials. */
static int dangerousMount(an_state *s, int idx, const char *spec) {
    const char *src = spec;
    char buf[512];
    if (startsWith(spec, "type=") || strstr(spec, "source=") || strstr(spec, "src=")) {
        const char *sv = strstr(spec, "source=");
        if (!sv) sv = strstr(spec, "src=");
        if (!sv) return 0;
        sv = strchr(sv, '=') + 1;
        size_t n = strcspn(sv, ",");
        if (n >= sizeof(buf)) return 1;
        memcpy(buf, sv, n);
        buf[n] = 0;
        src = buf;
    } else {
        size_t n = strcspn(spec, ":");
        if (n >= sizeof(buf)) return 1;
        memcpy(buf, spec, n);
        buf[n] = 0;
        src = buf;
    }
    if (src[0] != '/' && src[0] != '~' && src[0] != '$' && src[0] != '.') return 0;   /* named volume */
    if (strstr(src, "docker.sock")) return 1;
    size_t sl = strlen(spec);
    int readonly = sl > 3 && (!strcmp(spec + sl - 3, ":ro") || strstr(spec, ",readonly") || strstr(spec, ",ro"));
    lh_path p;
    lh_path_class cls = an_path(s, idx, src, &p);
    if (readonly && (cls == LH_PATH_SYSTEM || cls == LH_PATH_VIRTUAL)) return 0;   /* /etc/localtime:ro */
    return cls == LH_PATH_ROOT || cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE || cls == LH_PATH_SECRET ||
           cls == LH_PATH_VIRTUAL || (p.flags & LH_PF_IS_HOME);
}

static void dockerRun(an_state *s, int idx, const lh_cmd *cmd, int from) {
    for (int i = from; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        const char *val = NULL;
        if (a[0] != '-') break;   /* the image: what follows is the container's command */
        if (!strcmp(a, "--privileged")) { lh_emit(s->c, idx, LH_RULE(CONTAINER_PRIV), a); return; }
        if (!strcmp(a, "-v") || !strcmp(a, "--volume") || !strcmp(a, "--mount") || !strcmp(a, "--pid") ||
            !strcmp(a, "--ipc") || !strcmp(a, "--userns") || !strcmp(a, "--uts") || !strcmp(a, "--cap-add") ||
            !strcmp(a, "--security-opt") || !strcmp(a, "--device")) {
            val = i + 1 < cmd->argc ? cmd->argv[++i].s : "";
        } else if (startsWith(a, "--") && strchr(a, '=')) {
            val = strchr(a, '=') + 1;
        } else if (startsWith(a, "-v") && a[2]) {
            val = a + 2;
            a = "-v";
        } else if (!strcmp(a, "-e") || !strcmp(a, "-p") || !strcmp(a, "-w") || !strcmp(a, "-u") ||
                   !strcmp(a, "--name") || !strcmp(a, "--network") || !strcmp(a, "--net") ||
                   !strcmp(a, "-h") || !strcmp(a, "--env-file") || !strcmp(a, "--entrypoint") ||
                   !strcmp(a, "-l") || !strcmp(a, "--label") || !strcmp(a, "--platform") ||
                   !strcmp(a, "--memory") || !strcmp(a, "-m") || !strcmp(a, "--cpus") ||
                   !strcmp(a, "--restart") || !strcmp(a, "--workdir") || !strcmp(a, "--user") ||
                   !strcmp(a, "--env") || !strcmp(a, "--publish") || !strcmp(a, "--hostname") ||
                   !strcmp(a, "--add-host") || !strcmp(a, "--gpus") || !strcmp(a, "--shm-size") ||
                   !strcmp(a, "--tmpfs") || !strcmp(a, "--ulimit") || !strcmp(a, "--log-driver") ||
                   !strcmp(a, "--volumes-from") || !strcmp(a, "--link") || !strcmp(a, "--dns") ||
                   !strcmp(a, "--cidfile") || !strcmp(a, "--stop-signal") || !strcmp(a, "--pull")) {
            i++;
            continue;
        } else {
            continue;
        }
        char opt[32];
        size_t ol = strcspn(a, "=");
        if (ol >= sizeof(opt)) continue;
        memcpy(opt, a, ol);
        opt[ol] = 0;
        if ((!strcmp(opt, "--pid") || !strcmp(opt, "--ipc") || !strcmp(opt, "--userns") || !strcmp(opt, "--uts") ||
             !strcmp(opt, "--network") || !strcmp(opt, "--net")) && !strcmp(val, "host")) {
            if (strcmp(opt, "--network") && strcmp(opt, "--net")) { lh_emit(s->c, idx, LH_RULE(CONTAINER_PRIV), a); return; }
            continue;
        }
        if (!strcmp(opt, "--cap-add") && (an_ieq(val, "ALL") || an_istr(val, "SYS_ADMIN") || an_istr(val, "SYS_PTRACE") ||
                                         an_istr(val, "SYS_MODULE") || an_istr(val, "DAC_READ_SEARCH") ||
                                         an_istr(val, "SYS_RAWIO") || an_istr(val, "NET_ADMIN"))) {
            lh_emit(s->c, idx, LH_RULE(CONTAINER_PRIV), val);
            return;
        }
        if (!strcmp(opt, "--security-opt") && (strstr(val, "unconfined") || strstr(val, "disable"))) {
            lh_emit(s->c, idx, LH_RULE(CONTAINER_PRIV), val);
            return;
        }
        if (!strcmp(opt, "--device")) { lh_emit(s->c, idx, LH_RULE(CONTAINER_PRIV), val); return; }
        if ((!strcmp(opt, "-v") || !strcmp(opt, "--volume") || !strcmp(opt, "--mount")) && dangerousMount(s, idx, val)) {
            lh_emit(s->c, idx, LH_RULE(CONTAINER_PRIV), val);
            return;
        }
    }
}

/* docker compose exec|run [opts] SERVICE CMD…: CMD runs in the service's container,
 * often the project's database; analyse it as a script. */
static void composeCommand(an_state *s, int idx, const lh_cmd *t, int verb) {
    static const char *const lo[] = {"--user", "--workdir", "--env", "--index", "--name", "--entrypoint",
                                     "--volume", "--publish", "--label", NULL};
    int ops[2];
    int n = an_operands(t, verb + 1, "uwelvp", lo, ops, 2);
    if (n < 2) return;
    int from = ops[1];
    size_t len = 0;
    for (int i = from; i < t->argc; i++) len += t->argv[i].len * 4 + 3;
    char *text = lh_arena_alloc(s->c->arena, len + 1);
    if (!text) { s->c->oom = 1; return; }
    size_t o = 0;
    for (int i = from; i < t->argc; i++) {
        /* single-quote each word so the script reads back as the same argv */
        text[o++] = '\'';
        for (const char *q = t->argv[i].s; *q; q++) {
            if (*q == '\'') { memcpy(text + o, "'\\''", 4); o += 4; }
            else text[o++] = *q;
        }
        text[o++] = '\'';
        if (i + 1 < t->argc) text[o++] = ' ';
    }
    text[o] = 0;
    an_parse_child(s, idx, text, o, LH_ORIGIN_SHELL_C);
}

static void composeArgs(an_state *s, int idx, const lh_cmd *cmd, int from) {
    int ops[2];
    lh_cmd t = *cmd;
    t.argv = cmd->argv + from - 1;
    t.argc = cmd->argc - from + 1;
    int n = an_operands(&t, 1, "fp", (const char *const[]){"--file", "--project-name", "--profile",
                                                          "--env-file", "--project-directory", NULL},
                        ops, 2);
    if (n == 0) return;
    const char *v = t.argv[ops[0]].s;
    if (!strcmp(v, "exec") || !strcmp(v, "run")) {
        if (!(an_at(s, idx)->flags & LH_C_REPLACED)) composeCommand(s, idx, &t, ops[0]);
        return;
    }
    if (!strcmp(v, "down") && (lh_has_opt(&t, 'v', "--volumes")))
        lh_emit_full(s->c, idx, LH_RULE(CONTAINER_VOLUMES)->id, LH_ESCALATE, LH_RISK_MEDIUM, LH_TIER_ANALYSIS,
                     LH_RULE(CONTAINER_VOLUMES)->reason, LH_RULE(CONTAINER_VOLUMES)->instead, "compose down -v");
    else if (!strcmp(v, "push")) lh_emit(s->c, idx, LH_RULE(PUBLISH_IMAGE), "compose push");
    else if (!strcmp(v, "rm") && lh_has_opt(&t, 'v', NULL))
        lh_emit_full(s->c, idx, LH_RULE(CONTAINER_VOLUMES)->id, LH_ESCALATE, LH_RISK_MEDIUM, LH_TIER_ANALYSIS,
                     LH_RULE(CONTAINER_VOLUMES)->reason, LH_RULE(CONTAINER_VOLUMES)->instead, "compose rm -v");
}

void an_infra_compose(an_state *s, int idx, const lh_cmd *cmd) { composeArgs(s, idx, cmd, 1); }

/* Does an argument list every container ("$(docker ps -aq)")? */
static int allContainers(an_state *s, int idx, const lh_cmd *cmd, int from) {
    for (int i = from; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if ((strstr(a, "docker ps") || strstr(a, "podman ps")) && strstr(a, "-a")) return 1;
    }
    const lh_cmd *orig = an_at(s, idx);
    if ((orig->flags & LH_C_STDIN_ARGS) && orig->parent >= 0) {
        const lh_cmd *x = an_at(s, orig->parent);
        const lh_script *sc = s->c->script;
        for (int j = AN_LO(orig->parent); j < AN_HI(orig->parent, sc->ncmds); j++) {
            const lh_cmd *up = &sc->cmds[j];
            if (up->pipeline == x->pipeline && up->pipe_pos == x->pipe_pos - 1 && up->parent == x->parent &&
                up->argc > 1 && !strcmp(up->argv[1].s, "ps") && lh_has_opt(up, 'a', "--all"))
                return 1;
        }
    }
    return 0;
}

void an_infra_docker(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--host", "--context", "--config", "--log-level", "--tlscacert",
                                     "--tlscert", "--tlskey", NULL};
    int ops[4];
    int n = an_operands(cmd, 1, "Hcl", lo, ops, 4);
    if (n == 0) return;
    int at = ops[0];
    const char *v = cmd->argv[at].s;
    const char *w = n > 1 ? cmd->argv[ops[1]].s : "";
    lh_ctx *c = s->c;
    if (!strcmp(v, "container") || !strcmp(v, "image") || !strcmp(v, "volume") || !strcmp(v, "system") ||
        !strcmp(v, "network") || !strcmp(v, "builder") || !strcmp(v, "buildx")) {
        /* management command: "docker container run" == "docker run" */
        if (!strcmp(v, "volume") && (!strcmp(w, "rm") || !strcmp(w, "remove") || !strcmp(w, "prune"))) {
            lh_emit(c, idx, LH_RULE(CONTAINER_VOLUMES), "docker volume");
            return;
        }
        if (!strcmp(v, "system") && !strcmp(w, "prune")) {
            if (lh_has_opt(cmd, 0, "--volumes")) lh_emit(c, idx, LH_RULE(CONTAINER_VOLUMES), "system prune --volumes");
            else lh_emit(c, idx, LH_RULE(CONTAINER_PRUNE), "system prune");
            return;
        }
        if (!strcmp(v, "container") && !strcmp(w, "prune")) { lh_emit(c, idx, LH_RULE(CONTAINER_PRUNE), "container prune"); return; }
        if (!strcmp(v, "buildx") && an_has_word(cmd, at, "--push")) { lh_emit(c, idx, LH_RULE(PUBLISH_IMAGE), "buildx --push"); return; }
        if (!strcmp(v, "image") && !strcmp(w, "push")) { lh_emit(c, idx, LH_RULE(PUBLISH_IMAGE), "image push"); return; }
        if (n > 1) { v = w; at = ops[1]; } else return;
    }
    if (!strcmp(v, "run") || !strcmp(v, "create")) { dockerRun(s, idx, cmd, at + 1); return; }
    if (!strcmp(v, "push")) { lh_emit(c, idx, LH_RULE(PUBLISH_IMAGE), w); return; }
    if (!strcmp(v, "compose")) { composeArgs(s, idx, cmd, at + 1); return; }
    if (!strcmp(v, "rm") && allContainers(s, idx, cmd, at + 1)) {
        lh_emit(c, idx, LH_RULE(CONTAINER_PRUNE), "every container");
        return;
    }
    if (!strcmp(v, "stack") && !strcmp(w, "rm")) { lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), "docker stack rm"); return; }
    if (!strcmp(v, "service") && (!strcmp(w, "rm") || !strcmp(w, "update") || !strcmp(w, "scale") ||
                                  !strcmp(w, "create"))) {
        lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), "docker service");
        return;
    }
    if (!strcmp(v, "swarm") && (!strcmp(w, "leave") || !strcmp(w, "init")))
        lh_emit(c, idx, LH_RULE(CLOUD_CHANGE), "docker swarm");
}

/* ------------------------------------------------------------------------------ */
/* Publishing and package managers                                                 */
/* ------------------------------------------------------------------------------ */

void an_infra_publish(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int ops[4];
    int n = an_operands(cmd, 1, "", (const char *const[]){"--registry", "--prefix", "--workspace",
                                                         "--filter", "--repository", "--otp", NULL},
                        ops, 4);
    const char *v = n ? cmd->argv[ops[0]].s : "";
    const char *w = n > 1 ? cmd->argv[ops[1]].s : "";
    lh_ctx *c = s->c;
    const lh_cmd *orig = an_at(s, idx);
    int dry = dryRun(cmd) || lh_has_opt(cmd, 0, "--dry-run");
    if (!strcmp(p, "npm") || !strcmp(p, "yarn") || !strcmp(p, "pnpm")) {
        if ((!strcmp(v, "publish") || (!strcmp(v, "npm") && !strcmp(w, "publish"))) && !dry) {
            lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), p);
            return;
        }
        if (!strcmp(v, "unpublish")) { lh_emit(c, idx, LH_RULE(PUBLISH_UNPUBLISH), p); return; }
        if (!strcmp(v, "deprecate") || !strcmp(v, "dist-tag") || !strcmp(v, "owner")) {
            lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), v);
            return;
        }
        int global = lh_has_opt(cmd, 'g', "--global") || !strcmp(v, "global") || an_has_word(cmd, 1, "--location=global");
        if ((orig->flags & LH_C_SUDO) && global) { lh_emit(c, idx, LH_RULE(PKG_SUDO), p); return; }
        /* npm run deploy, yarn release, pnpm run publish:prod */
        const char *script = !strcmp(v, "run") || !strcmp(v, "run-script") ? w : (!strcmp(p, "npm") ? "" : v);
        if (*script && an_is_deploy_name(script) && strcmp(v, "publish")) {
            lh_emit(c, idx, LH_RULE(DEPLOY_RUN), script);
            return;
        }
        if (!strcmp(v, "exec") || !strcmp(v, "x") || !strcmp(v, "dlx") || !strcmp(v, "run")) an_db_framework(s, idx, cmd);
        return;
    }
    if (!strcmp(p, "cargo")) {
        if (!strcmp(v, "publish") && !dry) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "cargo publish");
        else if (!strcmp(v, "yank") || !strcmp(v, "owner")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), v);
        return;
    }
    if (!strcmp(p, "twine")) {
        if (!strcmp(v, "upload") || !strcmp(v, "register")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "twine upload");
        return;
    }
    if (!strcmp(p, "gem")) {
        if (!strcmp(v, "push")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "gem push");
        else if (!strcmp(v, "yank")) lh_emit(c, idx, LH_RULE(PUBLISH_UNPUBLISH), "gem yank");
        else if (!strcmp(v, "owner")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "gem owner");
        else if ((orig->flags & LH_C_SUDO) && (!strcmp(v, "install") || !strcmp(v, "uninstall")))
            lh_emit(c, idx, LH_RULE(PKG_SUDO), "gem");
        return;
    }
    if (!strcmp(p, "poetry") || !strcmp(p, "flit") || !strcmp(p, "hatch")) {
        if (!strcmp(v, "publish") && !dry) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), p);
        return;
    }
    if (!strcmp(p, "vsce") || !strcmp(p, "ovsx")) {
        if (!strcmp(v, "publish")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), p);
        else if (!strcmp(v, "unpublish")) lh_emit(c, idx, LH_RULE(PUBLISH_UNPUBLISH), p);
        return;
    }
    if (!strcmp(p, "mvn")) {
        for (int i = 1; i < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "deploy") || !strcmp(cmd->argv[i].s, "release:perform") ||
                !strcmp(cmd->argv[i].s, "deploy:deploy-file")) {
                lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "mvn deploy");
                return;
            }
        return;
    }
    if (!strcmp(p, "gradle") || !strcmp(p, "gradlew")) {
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (strstr(a, "publish") && !strstr(a, "MavenLocal") && a[0] != '-') {
                lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), a);
                return;
            }
        }
        return;
    }
    if (!strcmp(p, "huggingface-cli")) {
        if (!strcmp(v, "upload") || !strcmp(v, "repo")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "huggingface-cli upload");
        return;
    }
    if (!strcmp(p, "dotnet")) {
        if (!strcmp(v, "nuget") && !strcmp(w, "push")) lh_emit(c, idx, LH_RULE(PUBLISH_PACKAGE), "nuget push");
        else an_db_framework(s, idx, cmd);
    }
}

/* make TARGET, kamal deploy, cap production deploy, fab deploy …: a target or task
 * named deploy/release/publish. */
void an_infra_deploy(an_state *s, int idx, const lh_cmd *cmd) {
    if (dryRun(cmd) || lh_has_opt(cmd, 'n', "--just-print")) return;
    int ops[8];
    int n = an_operands(cmd, 1, !strcmp(cmd->prog, "make") ? "CfIjlo" : "", NULL, ops, 8);
    for (int k = 0; k < n; k++) {
        const char *t = cmd->argv[ops[k]].s;
        if (strchr(t, '=')) continue;   /* make VAR=value */
        if (an_is_deploy_name(t)) { lh_emit(s->c, idx, LH_RULE(DEPLOY_RUN), t); return; }
    }
}

/* gh / glab. */
void an_infra_gh(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "RXfFHpqt", (const char *const[]){"--repo", "--method", "--field",
                                                                 "--raw-field", "--header", "--jq",
                                                                 "--template", "--input", "--body",
                                                                 "--title", NULL},
                        ops, 4);
    if (n == 0) return;
    const char *v = cmd->argv[ops[0]].s;
    const char *w = n > 1 ? cmd->argv[ops[1]].s : "";
    lh_ctx *c = s->c;
    if (!strcmp(v, "repo") && !strcmp(w, "delete")) { lh_emit(c, idx, LH_RULE(FORGE_DELETE), "repo delete"); return; }
    if (!strcmp(v, "auth") && !strcmp(w, "token")) { an_net_secret_used(s, idx, "gh auth token"); return; }
    if (!strcmp(v, "api")) {
        const char *m = an_opt_value(cmd, 'X', "--method");
        int fields = lh_has_opt(cmd, 'f', "--raw-field") || lh_has_opt(cmd, 'F', "--field") ||
                     lh_has_opt(cmd, 0, "--input");
        if ((m && !an_ieq(m, "GET")) || (!m && fields && !an_has_word(cmd, 1, "graphql")))
            lh_emit(c, idx, LH_RULE(FORGE_CHANGE), m ? m : "POST");
        return;
    }
    if (!strcmp(v, "gist") && !strcmp(w, "create")) {
        for (int i = ops[1] + 1; i < cmd->argc; i++) {
            lh_path p;
            if (cmd->argv[i].s[0] != '-' && an_path(s, idx, cmd->argv[i].s, &p) == LH_PATH_SECRET) {
                lh_emit(c, idx, LH_RULE(EXFIL), p.norm);
                return;
            }
        }
        return;
    }
    static const char *const change[][2] = {
        {"repo", "archive"}, {"repo", "edit"}, {"repo", "rename"}, {"release", "create"},
        {"release", "delete"}, {"release", "edit"}, {"pr", "merge"}, {"mr", "merge"},
        {"secret", "set"}, {"secret", "delete"}, {"variable", "set"}, {"variable", "delete"},
        {"workflow", "run"}, {"workflow", "enable"}, {"workflow", "disable"}, {"issue", "delete"},
        {"repo", "transfer"}, {"ruleset", "delete"}, {"cache", "delete"}, {"label", "delete"},
        {"release", "upload"}, {NULL, NULL}};
    for (int k = 0; change[k][0]; k++)
        if (!strcmp(v, change[k][0]) && !strcmp(w, change[k][1])) {
            lh_emit(c, idx, LH_RULE(FORGE_CHANGE), w);
            return;
        }
}
