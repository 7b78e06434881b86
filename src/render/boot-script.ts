import type { RedisSentinelConfig, SecretReference } from "../spec";
import { NODE_FILES, UNIT_NAMES, VM_HOME, VM_STAGE, VM_USER } from "./layout";

/** How the boot script reads the password, as shell lines that set `password`. */
function readPassword(ref: SecretReference): string[] {
  switch (ref.source) {
    case "env":
      return [
        `# The password: environment variable ${ref.name} (auth.password).`,
        `password="\${${ref.name}:-}"`,
        `[ -n "$password" ] || fail "the environment variable ${ref.name} is empty or unset (auth.password)"`,
      ];
    case "file":
      return [
        `# The password: the file ${ref.path} (auth.password).`,
        `[ -r ${ref.path} ] || fail "cannot read ${ref.path} (auth.password)"`,
        `password="$(cat -- ${ref.path})"`,
        `[ -n "$password" ] || fail "${ref.path} is empty (auth.password)"`,
      ];
  }
}

/**
 * The boot script of a node: reads the password from where `auth.password` says, writes the two secret files
 * that the configs include, installs the rendered configs into the node's home directory on first boot (later
 * boots keep what Redis and Sentinel rewrote), and starts both services.
 *
 * Its environment overrides the VM layout; `redis-ha local` runs this same script with its own directories and
 * `REDIS_HA_START=none`, so the secret files of a local node are written by the code that writes them on a VM.
 */
export function renderBootScript(config: RedisSentinelConfig): string {
  const name = config.topology.masterName;
  return [
    "#!/usr/bin/env bash",
    `# Boot script of a node of Redis Sentinel cluster "${name}", rendered by cdktf-redis-sentinel.`,
    "# Safe to run again: configs that Redis and Sentinel rewrote since the first boot are kept, and the secret",
    "# files are written anew.",
    "#",
    "# Environment (the defaults are the VM layout):",
    `#   REDIS_HA_HOME   home directory: live configs, secret files and ${NODE_FILES.dataDir}/ (${VM_HOME})`,
    `#   REDIS_HA_STAGE  directory holding the rendered ${NODE_FILES.redisConf} and ${NODE_FILES.sentinelConf} (${VM_STAGE})`,
    `#   REDIS_HA_USER   owner of the files, when run as root (${VM_USER})`,
    `#   REDIS_HA_START  "systemd" starts ${UNIT_NAMES.redis} and ${UNIT_NAMES.sentinel}; "none" leaves that to the caller (systemd)`,
    "set -euo pipefail",
    "umask 077",
    "",
    `home="\${REDIS_HA_HOME:-${VM_HOME}}"`,
    `stage="\${REDIS_HA_STAGE:-${VM_STAGE}}"`,
    `user="\${REDIS_HA_USER:-${VM_USER}}"`,
    'start="${REDIS_HA_START:-systemd}"',
    "",
    'fail() { echo "redis-ha-boot: $*" >&2; exit 1; }',
    "",
    "# Hand a file to the service user; only root can, and otherwise the caller already owns it.",
    'own() { if [ "$(id -u)" -eq 0 ]; then chown "$user:$user" "$@"; fi; }',
    "",
    ...readPassword(config.auth.password),
    'case "$password" in',
    '  *[[:cntrl:]]*) fail "the password holds a control character (a newline?): a Redis config file cannot carry it" ;;',
    "esac",
    "# Quoted for a Redis config file: inside double quotes, backslash and double quote are escaped.",
    String.raw`quoted="${"$"}{password//\\/\\\\}"`,
    String.raw`quoted="\"${"$"}{quoted//\"/\\\"}\""`,
    "",
    "# write_secret FILE: standard input to FILE, mode 0600, owned by the service user, replaced atomically.",
    "write_secret() {",
    "  local tmp",
    '  tmp="$(mktemp "$1.XXXXXX")"',
    '  cat > "$tmp"',
    '  own "$tmp"',
    '  mv -f -- "$tmp" "$1"',
    "}",
    "",
    `install -d -m 0750 -- "$home" "$home/${NODE_FILES.dataDir}"`,
    `own "$home" "$home/${NODE_FILES.dataDir}"`,
    "# printf is a shell builtin: the password never appears in a process's arguments.",
    `printf 'requirepass %s\\nmasterauth %s\\n' "$quoted" "$quoted" | write_secret "$home/${NODE_FILES.redisAuth}"`,
    `printf 'requirepass %s\\nsentinel auth-pass %s %s\\n' "$quoted" ${name} "$quoted" | write_secret "$home/${NODE_FILES.sentinelAuth}"`,
    "",
    "# The rendered configs are installed once. After that Redis and Sentinel own them: they rewrite them on",
    "# failover, and both must be writable by the service user (Sentinel refuses to start on a read-only file).",
    `for conf in ${NODE_FILES.redisConf} ${NODE_FILES.sentinelConf}; do`,
    '  if [ ! -e "$home/$conf" ]; then',
    '    [ -r "$stage/$conf" ] || fail "missing $stage/$conf"',
    '    install -m 0600 -- "$stage/$conf" "$home/$conf"',
    '    own "$home/$conf"',
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
