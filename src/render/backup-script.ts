import type { RedisSentinelConfig } from "../spec";
import { AWS_REGION } from "../spec/aws";
import { checkNodes, type ClusterNodes } from "./nodes";
import { cliFunctionLines, credentialLines } from "./shell";

/** Where a backup goes. */
export type BackupTarget =
  /**
   * An S3 bucket (VMs; the instance role needs `s3:PutObject` on `arn:aws:s3:::BUCKET/PREFIX*`): named, or read at
   * each run from an SSM parameter holding its name (a bucket whose name Terraform chooses; the role needs
   * `ssm:GetParameter` on it).
   */
  | {
      readonly s3: ({ readonly bucket: string } | { readonly bucketParameter: string }) & {
        readonly region: string;
        /** @default "" */
        readonly prefix?: string;
      };
    }
  /** A local directory (absolute path), such as a mounted backup volume; used by the local tests. */
  | { readonly directory: string };

export interface BackupOptions {
  readonly target: BackupTarget;
  /**
   * Take the snapshot on the master too. By default the master skips (exit 0), so that only replicas pay for the
   * fork, and a timer on every node gives one copy per replica.
   * @default false
   */
  readonly onMaster?: boolean;
  /** Longest wait for BGSAVE to finish, in seconds. @default 600 */
  readonly saveTimeoutSeconds?: number;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^([A-Za-z0-9!_.*'()-]+\/)*$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const SSM_NAME = /^\/[A-Za-z0-9_.\-/]{1,1000}$/;

function checkBackupOptions(options: BackupOptions): void {
  const problems: string[] = [];
  const target = options.target;
  if ("s3" in target) {
    const { region, prefix = "" } = target.s3;
    if ("bucket" in target.s3 && !BUCKET.test(target.s3.bucket)) {
      problems.push(`target.s3.bucket "${target.s3.bucket}" is not an S3 bucket name. Use one such as redis-ha-backups`);
    }
    if ("bucketParameter" in target.s3 && !SSM_NAME.test(target.s3.bucketParameter)) {
      problems.push(`target.s3.bucketParameter "${target.s3.bucketParameter}" is not an SSM parameter name. Use one such as /redis-sentinel/prod/backup-bucket`);
    }
    if (!AWS_REGION.test(region)) problems.push(`target.s3.region "${region}" is not an AWS region. Use one such as eu-west-1`);
    if (!PREFIX.test(prefix)) {
      problems.push(`target.s3.prefix "${prefix}" must be empty or end with '/', of letters, digits and !_.*'()-, such as backups/prod/`);
    }
  } else if (!SAFE_PATH.test(target.directory)) {
    problems.push(
      `target.directory "${target.directory}" must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /var/backups/redis-ha`,
    );
  }
  const timeout = options.saveTimeoutSeconds;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) {
    problems.push(`saveTimeoutSeconds ${timeout} must be a whole number of seconds, at least 1, such as 600`);
  }
  if (problems.length > 0) throw new Error(`invalid backup options:\n  - ${problems.join("\n  - ")}`);
}

/**
 * The backup script of node `index`. It takes a consistent RDB snapshot with BGSAVE on this node (a replica with
 * its link to the master up; the master skips unless `onMaster`), waits until LASTSAVE moves past the time before
 * it and `rdb_last_bgsave_status` is ok, holds the file by a hard link in the data directory (no copy on the root
 * volume), checks it with redis-check-rdb, and copies it off the node as
 * `<prefix><master-name>/<node-address>/<UTC time>.rdb`: to S3 with `aws s3 cp`, or into a directory. The last
 * line it prints is where the copy went. The password reaches redis-cli through REDISCLI_AUTH only.
 *
 * Restore: see docs/backup-restore.md (`restoreFromRdb` in src/local does the same steps on a local cluster).
 */
export function renderBackupScript(config: RedisSentinelConfig, nodes: ClusterNodes, index: number, options: BackupOptions): string {
  checkNodes(config, nodes);
  checkBackupOptions(options);
  const self = nodes.addresses[index];
  const name = config.topology.masterName;
  const saveTimeout = options.saveTimeoutSeconds ?? 600;
  const target = options.target;
  const key = `${name}/${self}/$stamp.rdb`;
  return [
    "#!/usr/bin/env bash",
    `# Backup of node ${index} (${self}) of Redis Sentinel cluster "${name}", rendered by cdktf-redis-sentinel.`,
    "# Takes an RDB snapshot (BGSAVE) on this node and copies it off the node. Run it from a timer on every node:",
    `# ${options.onMaster ? "every node backs up, the master included" : "the master skips, each replica backs up"}. Exits 0 when the copy is made (or skipped), 1 otherwise.`,
    "# Restore: docs/backup-restore.md.",
    "set -euo pipefail",
    "umask 077",
    "",
    'fail() { echo "redis-ha-backup: $*" >&2; exit 1; }',
    "",
    ...credentialLines(config),
    ...cliFunctionLines(config),
    "",
    `redis() { redis_cli ${self} "$@"; }`,
    "field() { redis INFO \"$1\" | tr -d '\\r' | sed -n \"s/^$2://p\"; }",
    "",
    '[ "$(redis PING 2>/dev/null)" = PONG ] || fail "redis at ' + `${self}:${config.redis.port}` + ' does not answer PING"',
    'role="$(field replication role)"',
    'if [ "$role" = master ]; then',
    ...(options.onMaster
      ? ['  echo "redis-ha-backup: this node is the master: taking the snapshot here (onMaster)"']
      : ['  echo "redis-ha-backup: this node is the master: a replica takes the backup"', "  exit 0"]),
    "else",
    "  # A replica whose link is down holds an old copy of the data.",
    '  [ "$(field replication master_link_status)" = up ] || fail "the link to the master is down: this replica\'s data may be old"',
    "fi",
    "",
    "# A snapshot that ends after `before` is ours: LASTSAVE counts seconds, so start in a later second than it.",
    'before="$(redis LASTSAVE)"',
    '[[ "$before" =~ ^[0-9]+$ ]] || fail "LASTSAVE answered $before"',
    'while [ "$(date +%s)" -le "$before" ]; do sleep 0.2; done',
    "# SCHEDULE: when an AOF rewrite runs, the save starts once it is done instead of failing.",
    'reply="$(redis BGSAVE SCHEDULE)"',
    'case "$reply" in',
    '  "Background saving started" | "Background saving scheduled") ;;',
    "  # One already running began before our call: wait for it, then ask again.",
    '  *"already in progress"*)',
    `    until [ "$(field persistence rdb_bgsave_in_progress)" = 0 ]; do sleep 0.5; done`,
    '    reply="$(redis BGSAVE SCHEDULE)"',
    '    case "$reply" in "Background saving started" | "Background saving scheduled") ;; *) fail "BGSAVE answered $reply" ;; esac',
    "    ;;",
    '  *) fail "BGSAVE answered $reply" ;;',
    "esac",
    `deadline=$((SECONDS + ${saveTimeout}))`,
    'until [ "$(redis LASTSAVE)" -gt "$before" ] && [ "$(field persistence rdb_bgsave_in_progress)" = 0 ]; do',
    `  [ "$SECONDS" -lt "$deadline" ] || fail "no snapshot finished within ${saveTimeout} s of BGSAVE"`,
    '  if [ "$(field persistence rdb_last_bgsave_status)" = err ] && [ "$(field persistence rdb_bgsave_in_progress)" = 0 ]; then',
    '    fail "BGSAVE failed (rdb_last_bgsave_status:err): see the Redis log"',
    "  fi",
    "  sleep 0.5",
    "done",
    '[ "$(field persistence rdb_last_bgsave_status)" = ok ] || fail "BGSAVE failed (rdb_last_bgsave_status:err): see the Redis log"',
    "",
    "# Redis writes a snapshot to a temporary file and renames it: the file is the whole of one snapshot.",
    'dir="$(redis CONFIG GET dir | sed -n 2p)"',
    'file="$dir/$(redis CONFIG GET dbfilename | sed -n 2p)"',
    '[ -r "$file" ] || fail "cannot read $file"',
    'stamp="$(date -u -d "@$(redis LASTSAVE)" +%Y%m%dT%H%M%SZ)"',
    "# A hard link beside the file, on the data volume, keeps this snapshot when Redis renames a newer one over it;",
    "# nothing is copied, so neither the root volume nor /tmp needs room for the dataset.",
    'work="$(mktemp -d -- "$dir/.redis-ha-backup.XXXXXX")"',
    "trap 'rm -rf -- \"$work\"' EXIT",
    'ln -- "$file" "$work/dump.rdb"',
    'if command -v redis-check-rdb > /dev/null; then',
    '  check="$(redis-check-rdb "$work/dump.rdb" 2>&1)" || fail "redis-check-rdb rejects $file: $(printf \'%s\\n\' "$check" | tail -n 3)"',
    "fi",
    "",
    ...("s3" in target
      ? [
          ...("bucket" in target.s3
            ? [`bucket=${target.s3.bucket}`]
            : [
                `bucket="$(aws ssm get-parameter --region ${target.s3.region} --name ${target.s3.bucketParameter} --query Parameter.Value --output text)" ||`,
                `  fail "cannot read the bucket's name from the SSM parameter ${target.s3.bucketParameter}"`,
                `[[ "$bucket" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || fail "the SSM parameter ${target.s3.bucketParameter} holds no bucket name"`,
              ]),
          `uri="s3://$bucket/${target.s3.prefix ?? ""}${key}"`,
          `aws s3 cp --region ${target.s3.region} --only-show-errors "$work/dump.rdb" "$uri" || fail "aws s3 cp to $uri failed"`,
          'echo "redis-ha-backup: $uri"',
        ]
      : [
          `dest="${target.directory}/${key}"`,
          'install -d -m 0700 -- "$(dirname -- "$dest")"',
          "# Into place in one rename: a reader never sees half a file.",
          'cp -- "$work/dump.rdb" "$dest.partial"',
          'mv -f -- "$dest.partial" "$dest"',
          'echo "redis-ha-backup: $dest"',
        ]),
    "",
  ].join("\n");
}
