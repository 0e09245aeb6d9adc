/* an_disk.c — disks and filesystems: dd, mkfs, wipefs, blkdiscard, secure erase,
 * partitioning, volume managers, fsck.
 *
 * Aimed at a device, these destroy everything on it: deny. Aimed at an image file
 * in the project or /tmp they are ordinary work ("mkfs.ext4 build/disk.img",
 * "dd if=/dev/zero of=/tmp/x bs=1M count=10"): allow. Listing is always fine. */
#include <string.h>

#include "engine/an_common.h"

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

/* A word that names a file or device rather than a size or label. */
static int looksLikePath(const char *w) {
    return w[0] == '/' || w[0] == '.' || w[0] == '~' || w[0] == '$' || strchr(w, '/') != NULL ||
           strstr(w, ".img") || strstr(w, ".iso") || strstr(w, ".raw") || strstr(w, ".qcow");
}

/* Judge the path operands of a destructive disk tool: devices and run-time paths are
 * denied (rule r), files outside the project escalated, project/temp files allowed.
 * Returns 1 when something was reported. */
static int judgeTargets(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int n,
                        const lh_rule_info *r) {
    int reported = 0;
    for (int k = 0; k < n; k++) {
        const char *w = cmd->argv[ops[k]].s;
        if (!looksLikePath(w)) continue;
        lh_path p;
        lh_path_class cls = an_path(s, idx, w, &p);
        if (p.flags & LH_PF_DEV_NULL) continue;
        switch (cls) {
        case LH_PATH_PROJECT:
        case LH_PATH_TEMP:
            break;
        case LH_PATH_DEVICE:
        case LH_PATH_UNKNOWN:
        case LH_PATH_ROOT:
        case LH_PATH_SYSTEM:
        case LH_PATH_VIRTUAL:
            lh_emit(s->c, idx, r, p.norm);
            reported = 1;
            break;
        default:
            lh_emit(s->c, idx, LH_RULE(FS_WRITE_OUTSIDE), p.norm);
            reported = 1;
            break;
        }
    }
    return reported;
}

void an_disk_dd(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        /* dc3dd/dcfldd: hof=, ofs=, wipe=, hwipe= write too */
        size_t eq = !strncmp(a, "of=", 3) ? 3 : !strncmp(a, "hof=", 4) || !strncmp(a, "ofs=", 4) ? 4
                  : !strncmp(a, "wipe=", 5) ? 5 : !strncmp(a, "hwipe=", 6) ? 6 : 0;
        if (eq) {
            lh_path p;
            lh_path_class cls = an_path(s, idx, a + eq, &p);
            if (p.flags & LH_PF_DEV_NULL) continue;
            if (cls == LH_PATH_DEVICE) lh_emit(s->c, idx, LH_RULE(DISK_DD), p.norm);
            else if (cls == LH_PATH_UNKNOWN && strstr(a, "$("))   /* of=$(…): chosen at run time */
                an_emit_as(s, idx, LH_RULE_DISK_DD, LH_ESCALATE, p.norm);
            else an_fs_write_target(s, idx, a + eq, AN_W_WRITE);
        } else if (!strncmp(a, "if=", 3)) {
            lh_path p;
            if (an_path(s, idx, a + 3, &p) == LH_PATH_SECRET) an_net_secret_used(s, idx, p.norm);
        }
    }
}

/* Devices that come at run time (xargs mkfs.ext4, xargs -I{} wipefs -a {}): no operand,
 * or only the replace string. Escalates; returns 1 when it did. */
static int stdinTargets(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int n, lh_rule_id r) {
    if (!(an_at(s, idx)->flags & LH_C_STDIN_ARGS)) return 0;
    for (int k = 0; k < n; k++)
        if (!strstr(cmd->argv[ops[k]].s, "{}")) return 0;
    an_emit_as(s, idx, r, LH_ESCALATE, "devices read at run time");
    return 1;
}

void an_disk_mkfs(an_state *s, int idx, const lh_cmd *cmd) {
    if (lh_has_opt(cmd, 'V', "--version") && cmd->argc == 2) return;
    int ops[16];
    int n = an_operands(cmd, 1, "bCdEgGiIJLmMNoOrtTUen", NULL, ops, 16);
    if (stdinTargets(s, idx, cmd, ops, n, LH_RULE_DISK_MKFS)) return;
    int before = s->c->nfindings;
    judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_MKFS));
    if (s->c->nfindings == before) {
        /* the option letters differ by filesystem (mkfs.vfat -I is a flag, mkfs.ext4 -I
         * takes a size): a /dev/ word the table read as an option value is judged too */
        int dev[16], nd = 0;
        for (int i = 1; i < cmd->argc && nd < 16; i++)
            if (!strncmp(cmd->argv[i].s, "/dev/", 5)) dev[nd++] = i;
        judgeTargets(s, idx, cmd, dev, nd, LH_RULE(DISK_MKFS));
    }
    if (s->c->nfindings == before) {
        /* "mkfs.ext4 sdb1": a bare device name */
        for (int k = 0; k < n; k++) {
            const char *w = cmd->argv[ops[k]].s;
            if (!strncmp(w, "sd", 2) || !strncmp(w, "nvme", 4) || !strncmp(w, "vd", 2) ||
                !strncmp(w, "xvd", 3) || !strncmp(w, "hd", 2) || !strncmp(w, "mmcblk", 6))
                lh_emit(s->c, idx, LH_RULE(DISK_MKFS), w);
        }
    }
}

const char *an_disk_family(const char *prog) {
    /* the hot path: lookupProg asks for every program the table lacks */
    switch (prog[0]) {
    case 'b': return !strcmp(prog, "bmaptool") ? "wipefs" : NULL;
    case 'd':
        if (!strcmp(prog, "dcfldd") || !strcmp(prog, "dc3dd")) return "dd";
        if (!strcmp(prog, "debugfs")) return "fsck";
        return !strcmp(prog, "ddrescue") ? "wipefs" : NULL;
    case 'f': return !strcmp(prog, "flashrom") ? "wipefs" : NULL;
    case 'm':
        return !strncmp(prog, "mkfs.", 5) || !strcmp(prog, "mkntfs") || !strcmp(prog, "mkdosfs") ||
               !strcmp(prog, "mkexfatfs") ? "mkfs" : NULL;
    case 'p': return !strcmp(prog, "pvcreate") ? "wipefs" : NULL;
    case 'r':
        if (!strcmp(prog, "resize2fs")) return "fsck";
        return !strcmp(prog, "rpi-imager") ? "wipefs" : NULL;
    case 's': return !strcmp(prog, "sg_format") || !strcmp(prog, "sg_sanitize") ? "wipefs" : NULL;
    case 't': return !strcmp(prog, "tune2fs") ? "fsck" : NULL;
    case 'v': return !strcmp(prog, "vgcreate") ? "wipefs" : NULL;
    case 'z': return !strcmp(prog, "zerofree") ? "wipefs" : NULL;
    default: return NULL;
    }
}

void an_disk_wipe(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "ddrescue")) { an_disk_rescue(s, idx, cmd); return; }
    int ops[16];
    int n;
    if (!strcmp(p, "wipefs")) {
        if (!lh_has_opt(cmd, 'a', "--all") && !lh_has_opt(cmd, 'o', "--offset")) return;   /* lists */
        n = an_operands(cmd, 1, "otp", NULL, ops, 16);
        if (stdinTargets(s, idx, cmd, ops, n, LH_RULE_DISK_WIPE)) return;
        judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_WIPE));
        return;
    }
    if (!strcmp(p, "blkdiscard")) {
        n = an_operands(cmd, 1, "olp", NULL, ops, 16);
        judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_WIPE));
        return;
    }
    if (!strcmp(p, "hdparm")) {
        static const char *const bad[] = {"--security-erase", "--security-erase-enhanced",
                                          "--trim-sector-ranges", "--write-sector", "--fwdownload",
                                          "--make-bad-sector", "--dco-restore", NULL};
        for (int i = 1; i < cmd->argc; i++)
            if (inList(cmd->argv[i].s, bad)) { lh_emit(s->c, idx, LH_RULE(DISK_WIPE), cmd->argv[i].s); return; }
        return;
    }
    if (!strcmp(p, "nvme")) {
        int k = lh_first_operand(cmd, 0);
        const char *v = k > 0 ? cmd->argv[k].s : "";
        if (!strcmp(v, "format") || !strcmp(v, "sanitize") || !strcmp(v, "write-zeroes") ||
            !strcmp(v, "delete-ns"))
            lh_emit(s->c, idx, LH_RULE(DISK_WIPE), v);
        return;
    }
    if (!strcmp(p, "zerofree") || !strcmp(p, "sg_format")) {   /* zero free blocks, low-level format */
        n = an_operands(cmd, 1, "fC", NULL, ops, 16);
        judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_WIPE));
        return;
    }
    if (!strcmp(p, "pvcreate") || !strcmp(p, "sg_sanitize")) {   /* a new LVM label; a sanitize */
        n = an_operands(cmd, 1, "uM", (const char *const[]){"--uuid", "--metadatasize", "--dataalignment", NULL}, ops, 16);
        if (!judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_WIPE)) && !strcmp(p, "sg_sanitize"))
            lh_emit(s->c, idx, LH_RULE(DISK_WIPE), p);
        return;
    }
    if (!strcmp(p, "vgcreate")) {   /* vgcreate VG DEVICE…: labels each device */
        n = an_operands(cmd, 1, "sl", NULL, ops, 16);
        if (n > 1) judgeTargets(s, idx, cmd, ops + 1, n - 1, LH_RULE(DISK_WIPE));
        return;
    }
    if (!strcmp(p, "bmaptool") || !strcmp(p, "rpi-imager")) {   /* copy IMAGE DEVICE, --cli IMAGE DEVICE */
        n = an_operands(cmd, 1, "", NULL, ops, 16);
        if (n >= 2) judgeTargets(s, idx, cmd, ops + n - 1, 1, LH_RULE(DISK_DD));
        return;
    }
    if (!strcmp(p, "flashrom")) {   /* writes or erases firmware */
        if (lh_has_opt(cmd, 'w', "--write") || lh_has_opt(cmd, 'E', "--erase"))
            lh_emit(s->c, idx, LH_RULE(DISK_WIPE), p);
        return;
    }
    if (!strcmp(p, "badblocks")) {
        if (lh_has_opt(cmd, 'w', NULL)) lh_emit(s->c, idx, LH_RULE(DISK_WIPE), "badblocks -w");
        return;
    }
    lh_emit(s->c, idx, LH_RULE(DISK_WIPE), p);
}

void an_disk_partition(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int readonly = 0;
    if (!strcmp(p, "fdisk") || !strcmp(p, "gdisk")) readonly = lh_has_opt(cmd, 'l', "--list");
    else if (!strcmp(p, "sfdisk"))
        readonly = lh_has_opt(cmd, 'l', "--list") || lh_has_opt(cmd, 'd', "--dump") ||
                   lh_has_opt(cmd, 'J', "--json") || lh_has_opt(cmd, 's', "--show-size") ||
                   lh_has_opt(cmd, 'V', "--verify") || lh_has_opt(cmd, 0, "--list-free");
    else if (!strcmp(p, "parted"))
        readonly = lh_has_opt(cmd, 'l', "--list") || an_has_word(cmd, 1, "print") || an_has_word(cmd, 1, "p");
    else if (!strcmp(p, "sgdisk"))
        readonly = (lh_has_opt(cmd, 'p', "--print") || lh_has_opt(cmd, 'v', "--verify") ||
                    lh_has_opt(cmd, 'i', "--info")) &&
                   !lh_has_opt(cmd, 'Z', "--zap-all") && !lh_has_opt(cmd, 'o', "--clear") &&
                   !lh_has_opt(cmd, 'n', "--new") && !lh_has_opt(cmd, 'd', "--delete");
    if (readonly || lh_has_opt(cmd, 0, "--help") || lh_has_opt(cmd, 0, "--version")) return;
    int ops[16];
    int n = an_operands(cmd, 1, "bHSuLt", NULL, ops, 16);
    if (!judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_PARTITION))) {
        int any_path = 0;
        for (int k = 0; k < n; k++) any_path |= looksLikePath(cmd->argv[ops[k]].s);
        if (!any_path) lh_emit(s->c, idx, LH_RULE(DISK_PARTITION), p);
    }
}

void an_disk_volume(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int k = lh_first_operand(cmd, 0);
    const char *v = k > 0 ? cmd->argv[k].s : "";
    int bad = 0;
    if (!strcmp(p, "lvremove") || !strcmp(p, "vgremove") || !strcmp(p, "pvremove") || !strcmp(p, "lvreduce"))
        bad = 1;
    else if (!strcmp(p, "zpool")) bad = !strcmp(v, "destroy") || !strcmp(v, "labelclear");
    else if (!strcmp(p, "zfs")) bad = !strcmp(v, "destroy") || (!strcmp(v, "rollback") && lh_has_opt(cmd, 'r', NULL));
    else if (!strcmp(p, "mdadm"))
        bad = lh_has_opt(cmd, 0, "--zero-superblock") || lh_has_opt(cmd, 0, "--create") ||
              lh_has_opt(cmd, 'C', NULL) || lh_has_opt(cmd, 0, "--remove") || lh_has_opt(cmd, 0, "--fail");
    else if (!strcmp(p, "cryptsetup"))
        bad = !strcmp(v, "luksFormat") || !strcmp(v, "erase") || !strcmp(v, "luksErase") ||
              !strcmp(v, "luksKillSlot") || !strcmp(v, "luksRemoveKey") || !strcmp(v, "reencrypt") ||
              !strcmp(v, "luksAddKey");
    else if (!strcmp(p, "dmsetup"))
        bad = !strcmp(v, "remove") || !strcmp(v, "remove_all") || !strcmp(v, "wipe_table");
    if (bad) lh_emit(s->c, idx, LH_RULE(DISK_VOLUME), *v ? v : p);
}

/* ddrescue [opts] INFILE OUTFILE [MAPFILE]: the output is written like dd's of=. */
void an_disk_rescue(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[3];
    int n = an_operands(cmd, 1, "abBcdeHiJKLmOpPrsTxXZ", NULL, ops, 3);
    if (n >= 2) judgeTargets(s, idx, cmd, ops + 1, 1, LH_RULE(DISK_DD));
}

void an_disk_fsck(an_state *s, int idx, const lh_cmd *cmd) {
    if (lh_has_opt(cmd, 'n', NULL) || lh_has_opt(cmd, 'N', NULL)) return;   /* no changes */
    /* debugfs changes the filesystem only when opened with -w */
    if (!strcmp(cmd->prog, "debugfs") && !lh_has_opt(cmd, 'w', NULL)) return;
    /* tune2fs -l and resize2fs -P only print */
    if (!strcmp(cmd->prog, "tune2fs") && (lh_has_opt(cmd, 'l', NULL) || cmd->argc == 2)) return;
    if (!strcmp(cmd->prog, "resize2fs") && lh_has_opt(cmd, 'P', NULL)) return;
    int ops[8];
    /* xfs_repair -L (zero the log) takes no value; its -l/-r/-m/-c/-o do */
    const char *vals = !strcmp(cmd->prog, "xfs_repair") ? "lrmco"
                     : !strcmp(cmd->prog, "tune2fs") ? "cCeEgiIjJLmMoOrTuUQ"
                     : !strcmp(cmd->prog, "resize2fs") ? "bsSzd" : "tbBCEjlLz";
    int n = an_operands(cmd, 1, vals, NULL, ops, 8);
    if (n == 0) return;
    judgeTargets(s, idx, cmd, ops, n, LH_RULE(DISK_FSCK));
}

/* fallocate [-p -z -c -d -i] [-o OFF] [-l LEN] FILE: punches, zeroes or collapses ranges
 * of FILE in place; on a device that is a write of the disk. */
void an_disk_fallocate(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--offset", "--length", NULL};
    int ops[8];
    int n = an_operands(cmd, 1, "ol", lo, ops, 8);
    for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_WRITE);
}
