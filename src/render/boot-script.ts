import { CERTIFICATE_KEYS, passwordKey, PASSWORD_KEY, SYSTEM_USERS, type RedisSentinelConfig } from "../spec";
import { aclFileLines } from "./acl";
import { NODE_FILES, UNIT_NAMES, VM_HOME, VM_STAGE, VM_USER } from "./layout";
import { checkNodes, initialMasterAddress, type ClusterNodes } from "./nodes";
import { askSentinelsLines, certificateReaderLines, cliFunctionLines, secretReaderLines } from "./shell";

/**
 * Settings that the files a config includes provide (credentials, ACL files, TLS files). CONFIG REWRITE copies them
 * into the live config; the boot script removes those copies.
 */
const INCLUDED_SETTINGS =
  "^(requirepass|masterauth|masteruser|aclfile|tls-cert-file|tls-key-file|tls-ca-cert-file|sentinel (auth-pass|auth-user|sentinel-user|sentinel-pass)) ";

/** File system label of a node's data volume. */
const DATA_LABEL = "redis-ha-data";

/**
 * Seconds an empty node that would start as master waits: for the sentinels to fail over (detection, plus a
 * retried election), or for its peers to boot (VMs of a new cluster boot minutes apart): five minutes at least.
 */
export function emptyMasterWaitSeconds(config: RedisSentinelConfig): number {
  const { downAfterMilliseconds, failoverTimeout } = config.sentinel;
  return Math.max(300, Math.ceil((downAfterMilliseconds + 2 * failoverTimeout) / 1000) + 10);
}

/**
 * The boot script of node `index`. It reads the passwords from where `auth.secrets` says (and the certificates from
 * `tls.certificates`) and writes the files that the configs include: credentials, ACL files, TLS files. On first boot it asks the sentinels where the master is now, and installs
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
  const { redisConf, sentinelConf, redisAuth, sentinelAuth, redisAcl, sentinelAcl, tlsDir, dataDir } = NODE_FILES;
  const acl = config.acl.enabled;
  const tls = config.tls.enabled;
  // The passwords the boot script reads: [shell variable, secret key].
  const passwords: Array<[string, string]> = acl
    ? [
        ["admin_password", passwordKey(SYSTEM_USERS.admin)],
        ["replication_password", passwordKey(SYSTEM_USERS.replication)],
        ["sentinel_password", passwordKey(SYSTEM_USERS.sentinel)],
        ...config.acl.users.map((u, i): [string, string] => [`user_password_${i}`, passwordKey(u.name)]),
      ]
    : [["password", PASSWORD_KEY]];
  const redisPort = config.redis.port;
  const waitForFailover = emptyMasterWaitSeconds(config);

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
    "#   REDIS_HA_SECRETS_DIR    read each secret from the file of its name here, not from auth.secrets (redis-ha local)",
    ...(config.tls.enabled
      ? ["#   REDIS_HA_TLS_DIR        read tls.crt, tls.key and ca.crt here, not from tls.certificates (redis-ha local)"]
      : []),
    `#   REDIS_HA_DATA_DEVICE    block device of the data volume: formatted on first use, mounted on ${dataDir}/ (none)`,
    `#   REDIS_HA_WAIT_SECONDS   how long an empty node that would start as master waits for the sentinels or its peers (${waitForFailover})`,
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
    ...secretReaderLines(config),
    ...certificateReaderLines(config),
    "# no_control KEY VALUE: a Redis config file cannot carry a control character.",
    'no_control() { case "$2" in *[[:cntrl:]]*) fail "the secret $1 holds a control character (a newline?): a Redis config file cannot carry it" ;; esac; }',
    ...passwords.flatMap(([variable, key]) => [`${variable}="$(secret ${key})"`, `no_control ${key} "$${variable}"`]),
    ...(acl ? ['redis_password="$admin_password"'] : ['redis_password="$password"', 'sentinel_password="$password"']),
    "# quote VALUE: VALUE quoted for a Redis config file: inside double quotes, backslash and double quote escaped.",
    String.raw`quote() { local q="${"$"}{1//\\/\\\\}"; printf '"%s"' "${"$"}{q//\"/\\\"}"; }`,
    ...(acl ? aclFileLines(config) : []),
    "",
    "# A directory is made (mode 0750) only when missing: an existing one may belong to another user, such as a",
    "# Kubernetes volume's root (root-owned, group fsGroup, mode 2775), which this non-root user may not chmod.",
    `for dir in "$home" "$home/${dataDir}"; do [ -d "$dir" ] || install -d -m 0750 -- "$dir"; done`,
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
    ...(tls
      ? [
          "# The certificate, its key and the CA, for both processes and for redis-cli.",
          `[ -d "$home/${tlsDir}" ] || install -d -m 0700 -- "$home/${tlsDir}"`,
          `own "$home/${tlsDir}"`,
          ...Object.values(CERTIFICATE_KEYS).map((key) => `certificate ${key} | write_private "$home/${tlsDir}/${key}"`),
          "tls_files() {",
          `  echo "tls-cert-file $(quote "$home/${tlsDir}/${CERTIFICATE_KEYS.certificate}")"`,
          `  echo "tls-key-file $(quote "$home/${tlsDir}/${CERTIFICATE_KEYS.key}")"`,
          `  echo "tls-ca-cert-file $(quote "$home/${tlsDir}/${CERTIFICATE_KEYS.ca}")"`,
          "}",
        ]
      : ["tls_files() { :; }"]),
    "# The files the configs include. echo and printf are shell builtins: no password appears in a process's arguments.",
    ...(acl
      ? [
          `redis_acl | write_private "$home/${redisAcl}"`,
          `sentinel_acl | write_private "$home/${sentinelAcl}"`,
          "{",
          `  echo "aclfile $(quote "$home/${redisAcl}")"`,
          `  echo "masteruser ${SYSTEM_USERS.replication}"`,
          '  echo "masterauth $(quote "$replication_password")"',
          "  tls_files",
          `} | write_private "$home/${redisAuth}"`,
          "{",
          `  echo "aclfile $(quote "$home/${sentinelAcl}")"`,
          `  echo "sentinel auth-user ${name} ${SYSTEM_USERS.sentinel}"`,
          `  echo "sentinel auth-pass ${name} $(quote "$sentinel_password")"`,
          `  echo "sentinel sentinel-user ${SYSTEM_USERS.sentinel}"`,
          '  echo "sentinel sentinel-pass $(quote "$sentinel_password")"',
          "  tls_files",
          `} | write_private "$home/${sentinelAuth}"`,
        ]
      : [
          '{ echo "requirepass $(quote "$password")"; echo "masterauth $(quote "$password")"; tls_files; } |',
          `  write_private "$home/${redisAuth}"`,
          `{ echo "requirepass $(quote "$password")"; echo "sentinel auth-pass ${name} $(quote "$password")"; tls_files; } |`,
          `  write_private "$home/${sentinelAuth}"`,
        ]),
    "# CONFIG REWRITE copies what the include sets into the live config, below the include, where it would win: remove",
    "# it, so that the files above stay the one source and a changed secret takes effect at the next boot.",
    'for conf in "${confs[@]}"; do',
    '  if [ -e "$home/$conf" ]; then',
    `    grep -Ev '${INCLUDED_SETTINGS}' "$home/$conf" | write_private "$home/$conf"`,
    "  fi",
    "done",
    "",
    ...cliFunctionLines(config),
    ...askSentinelsLines(config, nodes),
    'master="$(ask_sentinels)"',
    "# Never start an empty master: its replicas would copy its empty dataset. An empty node would start as master",
    "# when the sentinels name it (it was master until it lost its disk, or the cluster is new), or when none answers",
    "# and it is the rendered master. It starts only when every peer's Redis answers and holds no key (a new",
    "# cluster, in whatever order its nodes start); otherwise (a peer holds data, or does not answer yet) it waits",
    "# for the sentinels to fail over, or for the peers. A new ext4 volume's lost+found holds no data.",
    `empty() { [ ! -e "$home/${redisConf}" ] && [ -z "$(find "$home/${dataDir}" -mindepth 1 -maxdepth 1 ! -name lost+found -print -quit)" ]; }`,
    "peers_all_empty() {",
    "  local node keys",
    '  for node in "${nodes[@]}"; do',
    `    if [ "$node" = ${self} ]; then continue; fi`,
    '    keys="$(redis_cli "$node" DBSIZE 2>/dev/null || true)"',
    '    if [ "$keys" != 0 ]; then return 1; fi',
    "  done",
    "}",
    ...(self === initial
      ? [`would_be_master() { [ "$master" = ${self} ] || [ -z "$master" ]; }`]
      : [`would_be_master() { [ "$master" = ${self} ]; }`]),
    "must_wait() { would_be_master && ! peers_all_empty; }",
    'if [ "$processes" != sentinel ] && empty && must_wait; then',
    `  if [ "$master" = ${self} ]; then`,
    '    echo "redis-ha-boot: the sentinels name this node, which has no data, as master: waiting for a failover"',
    "  else",
    '    echo "redis-ha-boot: no sentinel answers, and this node has no data while a peer holds some or does not answer: waiting"',
    "  fi",
    `  wait_seconds="\${REDIS_HA_WAIT_SECONDS:-${waitForFailover}}"`,
    '  deadline=$((SECONDS + wait_seconds))',
    '  while must_wait && [ "$SECONDS" -lt "$deadline" ]; do',
    "    sleep 1",
    '    master="$(ask_sentinels)"',
    "  done",
    '  if must_wait; then fail "this node has no data and would still start as master after $wait_seconds s: refusing to start an empty master"; fi',
    "fi",
    'named="$master"',
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
    "# A node that comes back with its own configs (a restart, an old master returning after a failover) follows the",
    "# master the sentinels name now: an old master would otherwise answer as master until the sentinels convert it.",
    `if [ "$processes" != sentinel ] && [ -n "$named" ] && [ "$named" != ${self} ] && ! grep -qx "replicaof $named ${redisPort}" "$home/${redisConf}"; then`,
    `  { grep -v '^replicaof ' "$home/${redisConf}"; echo "replicaof $named ${redisPort}"; } | write_private "$home/${redisConf}"`,
    '  echo "redis-ha-boot: this node follows $named"',
    "fi",
    "",
    'case "$start" in',
    "  # --no-block: the boot unit runs this script, and the services start once it has finished.",
    `  systemd) systemctl daemon-reload && systemctl enable --now --no-block ${UNIT_NAMES.redis} ${UNIT_NAMES.sentinel} ;;`,
    "  none) ;;",
    '  *) fail "REDIS_HA_START must be systemd or none, not $start" ;;',
    "esac",
    "",
  ].join("\n");
}
