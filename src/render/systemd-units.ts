import type { RedisSentinelConfig } from "../spec";
import { NODE_FILES, UNIT_NAMES, VM_HOME, VM_USER } from "./layout";

/** Whether Redis keeps data across a restart (RDB snapshots or AOF). */
function persists(config: RedisSentinelConfig): boolean {
  const p = config.redis.persistence;
  return p.appendOnly || p.save.length > 0;
}

/**
 * `TimeoutStartSec=` and `TimeoutStopSec=` of a unit. Redis reports ready (Type=notify) only once it has loaded its
 * dataset, and saves it when stopped: both take as long as the data needs, so its unit has no limit, as Redis's own
 * units (systemd's default of 90 s would kill a Redis still loading a large dataset and restart it, forever).
 */
interface Timeouts {
  readonly start: string;
  readonly stop: string;
}
const REDIS_TIMEOUTS: Timeouts = { start: "infinity", stop: "infinity" };
const SENTINEL_TIMEOUTS: Timeouts = { start: "90s", stop: "30s" };

function unit(description: string, execStart: string, restartSec: number, timeouts: Timeouts): string {
  return [
    "[Unit]",
    `Description=${description} (cdktf-redis-sentinel)`,
    "After=network-online.target",
    "Wants=network-online.target",
    "# Never before the data volume is mounted: an empty data directory would restart a master empty.",
    `RequiresMountsFor=${VM_HOME}/${NODE_FILES.dataDir}`,
    "",
    "[Service]",
    "Type=notify",
    `User=${VM_USER}`,
    `Group=${VM_USER}`,
    `WorkingDirectory=${VM_HOME}`,
    `ExecStart=${execStart}`,
    "Restart=always",
    `RestartSec=${restartSec}`,
    `TimeoutStartSec=${timeouts.start}`,
    `TimeoutStopSec=${timeouts.stop}`,
    "LimitNOFILE=65535",
    "UMask=0077",
    "NoNewPrivileges=true",
    "PrivateTmp=true",
    "PrivateDevices=true",
    "ProtectHome=true",
    "ProtectSystem=strict",
    `ReadWritePaths=${VM_HOME}`,
    "ProtectKernelTunables=true",
    "ProtectKernelModules=true",
    "ProtectControlGroups=true",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * systemd units of a node on a VM. Both run in the node's home directory, which holds their configs and is the
 * only path they may write (Redis and Sentinel rewrite their configs on failover).
 *
 * Redis has no start or stop time limit: loading a large dataset and the save at shutdown take what they take.
 * When Redis keeps no data across restarts, the server restarts only after twice down-after-milliseconds:
 * a master that came straight back empty would be followed by its replicas, which would drop their data too.
 */
export function renderSystemdUnits(config: RedisSentinelConfig): { readonly redis: string; readonly sentinel: string } {
  const waitForFailover = Math.ceil((2 * config.sentinel.downAfterMilliseconds) / 1000);
  return {
    redis: unit("Redis server", `/usr/bin/redis-server ${NODE_FILES.redisConf}`, persists(config) ? 1 : waitForFailover, REDIS_TIMEOUTS),
    sentinel: unit("Redis Sentinel", `/usr/bin/redis-sentinel ${NODE_FILES.sentinelConf}`, 1, SENTINEL_TIMEOUTS),
  };
}

/** Where the backup script is installed on a VM. */
export const VM_BACKUP_SCRIPT = "/usr/local/sbin/redis-ha-backup";
/** systemd units that run the backup script on a VM. */
export const BACKUP_UNIT_NAMES = {
  service: "redis-ha-backup.service",
  timer: "redis-ha-backup.timer",
} as const;

/**
 * The backup service and its timer. The service runs the backup script once, as root (it reads the password from
 * the secret store and the RDB file from the data directory); the timer runs it at `onCalendar`, a random delay of
 * up to 30 minutes apart on each node, and catches up on a run missed while the node was off.
 */
export function renderBackupUnits(onCalendar = "daily"): { readonly service: string; readonly timer: string } {
  if (!/^[A-Za-z0-9 *:,./~-]+$/.test(onCalendar)) {
    throw new Error(`backup onCalendar "${onCalendar}" is not a systemd calendar expression, such as daily or *-*-* 03:00:00`);
  }
  return {
    service: [
      "[Unit]",
      "Description=Redis backup to off-node storage (cdktf-redis-sentinel)",
      "After=network-online.target redis-ha-server.service",
      "Wants=network-online.target",
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${VM_BACKUP_SCRIPT}`,
      "UMask=0077",
      "PrivateTmp=true",
      "NoNewPrivileges=true",
      "",
    ].join("\n"),
    timer: [
      "[Unit]",
      "Description=Redis backup schedule (cdktf-redis-sentinel)",
      "",
      "[Timer]",
      `OnCalendar=${onCalendar}`,
      "RandomizedDelaySec=30min",
      "Persistent=true",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n"),
  };
}

/** Seconds the boot script's steps other than the empty-master wait may take: the data volume, the secret reads. */
const BOOT_STEPS_SECONDS = 300;

/** The systemd unit that runs the boot script at every boot of a VM. */
export const BOOT_UNIT_NAME = "redis-ha-boot.service";

/**
 * The boot unit: runs the boot script (`bootScript`, with the data volume's device) at every boot, once the network
 * is up, before Redis and Sentinel start, so that a node whose data volume was replaced, or whose secrets changed,
 * boots from them. A failed run is retried (5 runs within 10 minutes), so a first boot that fails once (an SSM
 * parameter not readable yet) does not leave the node dead.
 */
export function renderBootUnit(bootScript: string, options: { readonly dataDevice?: string; readonly emptyMasterWaitSeconds: number }): string {
  const { dataDevice, emptyMasterWaitSeconds } = options;
  return [
    "[Unit]",
    "Description=Redis Sentinel node boot: secrets, data volume, configs (cdktf-redis-sentinel)",
    "After=network-online.target",
    "Wants=network-online.target",
    `Before=${UNIT_NAMES.redis} ${UNIT_NAMES.sentinel}`,
    "StartLimitIntervalSec=600",
    "StartLimitBurst=5",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    ...(dataDevice ? [`Environment=REDIS_HA_DATA_DEVICE=${dataDevice}`] : []),
    `ExecStart=${bootScript}`,
    "Restart=on-failure",
    "RestartSec=30",
    "# An empty node that would start as master waits for the sentinels or its peers before it gives up; then the",
    "# data volume (up to 120 s) and the retried secret reads.",
    `TimeoutStartSec=${emptyMasterWaitSeconds + BOOT_STEPS_SECONDS}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
