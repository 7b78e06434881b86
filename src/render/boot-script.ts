import type { RedisSentinelConfig } from "../spec";
import { NODE_FILES, UNIT_NAMES, VM_HOME, VM_STAGE, VM_USER } from "./layout";
import { checkNodes, initialMasterAddress, type ClusterNodes } from "./nodes";
import { askSentinelsLines, readPasswordLines } from "./shell";

/** File system label of a node's data volume. */
const DATA_LABEL = "redis-ha-data";

/**
 * The boot script of node `index`. It reads the password from where `auth.password` says and writes the two
 * secret files that the configs include. On first boot it asks the sentinels where the master is now, and installs
 * the rendered configs into the node's home directory: unchanged when the sentinels name the rendered initial
 * master or none answers, pointed at the current master otherwise (a node rebuilt after a failover joins as a
 * replica instead of starting a second master). Later boots keep the configs Redis and Sentinel rewrote. Then it
 * starts both services.
 *
 * Its environment overrides the VM layout; `redis-ha local` runs this same script with its own directories and
 * `REDIS_HA_START=none`, so the secret files of a local node are written by the code that writes them on a VM.
 */
export function renderBootScript(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const name = config.topology.masterName;
  const self = nodes.addresses[index];
  const initial = initialMasterAddress(config, nodes);
  const { redisConf, sentinelConf, redisAuth, sentinelAuth, dataDir } = NODE_FILES;
  const redisPort = config.redis.port;
  // Seconds a rebuilt, empty master waits for the sentinels to fail over: detection, plus a retried election.
  const { downAfterMilliseconds, failoverTimeout } = config.sentinel;
  const waitForFailover = Math.ceil((downAfterMilliseconds + 2 * failoverTimeout) / 1000) + 10;

  return [
    "#!/usr/bin/env bash",
    `# Boot script of node ${index} (${self}) of Redis Sentinel cluster "${name}", rendered by cdktf-redis-sentinel.`,
    "# Safe to run again: configs that Redis and Sentinel rewrote since the first boot are kept, and the secret",
    "# files are written anew.",
    "#",
    "# Environment (the defaults are the VM layout):",
    `#   REDIS_HA_HOME           home directory: live configs, secret files and ${dataDir}/ (${VM_HOME})`,
    `#   REDIS_HA_STAGE          directory holding the rendered ${redisConf} and ${sentinelConf} (${VM_STAGE})`,
    `#   REDIS_HA_USER           owner of the files, when run as root (${VM_USER})`,
    `#   REDIS_HA_START          "systemd" starts ${UNIT_NAMES.redis} and ${UNIT_NAMES.sentinel}; "none" leaves that to the caller (systemd)`,
    "#   REDIS_HA_PASSWORD_FILE  read the password from this file instead of from auth.password (redis-ha local)",
    `#   REDIS_HA_DATA_DEVICE    block device of the data volume: formatted on first use, mounted on ${dataDir}/ (none)`,
    `#   REDIS_HA_WAIT_SECONDS   how long an empty node that would start as master waits for the sentinels (${waitForFailover})`,
    "#   REDIS_HA_PROCESSES      what this machine runs: both, redis or sentinel (sentinels in pods of their own) (both)",
    "set -euo pipefail",
    "umask 077",
    "",
    `home="\${REDIS_HA_HOME:-${VM_HOME}}"`,
    `stage="\${REDIS_HA_STAGE:-${VM_STAGE}}"`,
    `user="\${REDIS_HA_USER:-${VM_USER}}"`,
    'start="${REDIS_HA_START:-systemd}"',
    'processes="${REDIS_HA_PROCESSES:-both}"',
    "",
    'fail() { echo "redis-ha-boot: $*" >&2; exit 1; }',
    'case "$processes" in',
    `  both) confs=(${redisConf} ${sentinelConf}) ;;`,
    `  redis) confs=(${redisConf}) ;;`,
    `  sentinel) confs=(${sentinelConf}) ;;`,
    '  *) fail "REDIS_HA_PROCESSES must be both, redis or sentinel, not $processes" ;;',
    "esac",
    "",
    "# Hand a file to the service user; only root can, and otherwise the caller already owns it.",
    'own() { if [ "$(id -u)" -eq 0 ]; then chown "$user:$user" "$@"; fi; }',
    "",
    "# write_private FILE: standard input to FILE, mode 0600, owned by the service user, replaced atomically.",
    "write_private() {",
    "  local tmp",
    '  tmp="$(mktemp "$1.XXXXXX")"',
    '  cat > "$tmp"',
    '  own "$tmp"',
    '  mv -f -- "$tmp" "$1"',
    "}",
    "",
    ...readPasswordLines(config),
    'case "$password" in',
    '  *[[:cntrl:]]*) fail "the password holds a control character (a newline?): a Redis config file cannot carry it" ;;',
    "esac",
    "# Quoted for a Redis config file: inside double quotes, backslash and double quote are escaped.",
    String.raw`quoted="${"$"}{password//\\/\\\\}"`,
    String.raw`quoted="\"${"$"}{quoted//\"/\\\"}\""`,
    "",
    `install -d -m 0750 -- "$home" "$home/${dataDir}"`,
    "# The data volume, on a VM: formatted on first use only, mounted by label (NVMe device names change).",
    'if [ -n "${REDIS_HA_DATA_DEVICE:-}" ]; then',
    "  # The volume is attached once the instance exists, and its name comes from udev rules installed with the",
    "  # packages: apply them, and wait for the device.",
    "  udevadm trigger --subsystem-match=block --action=add",
    "  for _ in $(seq 1 60); do",
    '    udevadm settle',
    '    if [ -b "$REDIS_HA_DATA_DEVICE" ]; then break; fi',
    "    sleep 2",
    "  done",
    '  [ -b "$REDIS_HA_DATA_DEVICE" ] || fail "no block device $REDIS_HA_DATA_DEVICE for the data volume after 120 s"',
    `  blkid "$REDIS_HA_DATA_DEVICE" > /dev/null || mkfs.ext4 -q -L ${DATA_LABEL} "$REDIS_HA_DATA_DEVICE"`,
    `  grep -q '^LABEL=${DATA_LABEL} ' /etc/fstab || echo "LABEL=${DATA_LABEL} $home/${dataDir} ext4 defaults,nofail 0 2" >> /etc/fstab`,
    `  mountpoint -q "$home/${dataDir}" || mount "$home/${dataDir}"`,
    "fi",
    `own "$home" "$home/${dataDir}"`,
    "# printf is a shell builtin: the password never appears in a process's arguments.",
    `printf 'requirepass %s\\nmasterauth %s\\n' "$quoted" "$quoted" | write_private "$home/${redisAuth}"`,
    `printf 'requirepass %s\\nsentinel auth-pass %s %s\\n' "$quoted" ${name} "$quoted" | write_private "$home/${sentinelAuth}"`,
    "",
    ...askSentinelsLines(config, nodes),
    'master="$(ask_sentinels)"',
    "# Never start an empty master: its replicas would copy its empty dataset. An empty node would start as master",
    "# when the sentinels still name it (it was master until it lost its disk), or when none answers and it is the",
    "# rendered master while a peer holds data (the whole cluster restarts). It waits for the sentinels instead.",
    `empty() { [ ! -e "$home/${redisConf}" ] && [ -z "$(ls -A "$home/${dataDir}")" ]; }`,
    ...(self === initial
      ? [
          "peer_holds_data() {",
          "  local node keys",
          '  for node in "${nodes[@]}"; do',
          `    if [ "$node" = ${self} ]; then continue; fi`,
          `    keys="$(REDISCLI_AUTH="$password" timeout 3 redis-cli --no-auth-warning --raw -h "$node" -p ${redisPort} DBSIZE 2>/dev/null || true)"`,
          '    if [[ "$keys" =~ ^[0-9]+$ ]] && [ "$keys" -gt 0 ]; then return 0; fi',
          "  done",
          "  return 1",
          "}",
          "# This node is the rendered master: with no sentinel answering, it would start as master.",
          `would_be_master() { [ "$master" = ${self} ] || { [ -z "$master" ] && peer_holds_data; }; }`,
        ]
      : [`would_be_master() { [ "$master" = ${self} ]; }`]),
    'if [ "$processes" != sentinel ] && empty && would_be_master; then',
    `  if [ "$master" = ${self} ]; then`,
    '    echo "redis-ha-boot: the sentinels name this node, which has no data, as master: waiting for a failover"',
    "  else",
    '    echo "redis-ha-boot: no sentinel answers, and this node has no data while a peer holds some: waiting for the sentinels"',
    "  fi",
    `  wait_seconds="\${REDIS_HA_WAIT_SECONDS:-${waitForFailover}}"`,
    '  deadline=$((SECONDS + wait_seconds))',
    '  while would_be_master && [ "$SECONDS" -lt "$deadline" ]; do',
    "    sleep 1",
    '    master="$(ask_sentinels)"',
    "  done",
    '  if would_be_master; then fail "this node has no data and would still start as master after $wait_seconds s: refusing to start an empty master"; fi',
    "fi",
    'if [ -z "$master" ]; then',
    `  master=${initial}`,
    `  echo "redis-ha-boot: no sentinel answered; the rendered topology stands (master ${initial})"`,
    "else",
    '  echo "redis-ha-boot: the sentinels name $master as master"',
    "fi",
    "",
    "# The rendered configs are installed once. After that Redis and Sentinel own them: they rewrite them on",
    "# failover, and both must be writable by the service user (Sentinel refuses to start on a read-only file).",
    'for conf in "${confs[@]}"; do',
    '  if [ -e "$home/$conf" ]; then continue; fi',
    '  [ -r "$stage/$conf" ] || fail "missing $stage/$conf"',
    `  if [ "$master" = ${initial} ]; then`,
    '    write_private "$home/$conf" < "$stage/$conf"',
    `  elif [ "$conf" = ${redisConf} ]; then`,
    `    { grep -v '^replicaof ' "$stage/$conf"; if [ "$master" != ${self} ]; then echo "replicaof $master ${redisPort}"; fi; } | write_private "$home/$conf"`,
    "  else",
    `    sed "s/^sentinel monitor ${name} [^ ]* /sentinel monitor ${name} $master /" "$stage/$conf" | write_private "$home/$conf"`,
    "  fi",
    "done",
    "",
    'case "$start" in',
    `  systemd) systemctl daemon-reload && systemctl enable --now ${UNIT_NAMES.redis} ${UNIT_NAMES.sentinel} ;;`,
    "  none) ;;",
    '  *) fail "REDIS_HA_START must be systemd or none, not $start" ;;',
    "esac",
    "",
  ].join("\n");
}
