import { CERTIFICATE_KEYS, passwordKey, PASSWORD_KEY, SYSTEM_USERS, type RedisSentinelConfig } from "../spec";
import { NODE_FILES, VM_HOME } from "./layout";
import { checkNodes, type ClusterNodes } from "./nodes";
import { secretReaderLines } from "./shell";

/** Port Debian's prometheus-redis-exporter listens on (every interface; the security group limits who reaches it). */
export const EXPORTER_PORT = 9121;
/** The environment file Debian's prometheus-redis-exporter.service reads (`EnvironmentFile=`). */
export const EXPORTER_ENV_FILE = "/etc/default/prometheus-redis-exporter";
/** Where the script that writes that file is installed on a VM. */
export const VM_EXPORTER_SCRIPT = "/usr/local/sbin/redis-ha-exporter-env";
/** TLS: copies of the node's CA, certificate and key that the exporter's user may read. */
const EXPORTER_TLS_DIR = "/var/lib/prometheus/redis-ha-tls";

/** One variable of redis_exporter's environment. */
export interface ExporterVariable {
  readonly name: string;
  readonly value: string;
}

/**
 * What redis_exporter reads from its environment to scrape one Redis server or sentinel, but the password
 * (REDIS_PASSWORD), which each platform hands over its own way: REDIS_ADDR, REDIS_USER in ACL mode, and the TLS files
 * when `tlsDir` holds them. Both platforms' exporters are configured from this.
 */
export function exporterEnvironment(
  config: RedisSentinelConfig,
  target: { readonly address: string; readonly user: string; readonly tlsDir?: string; readonly listenPort?: number },
): ExporterVariable[] {
  return [
    { name: "REDIS_ADDR", value: target.address },
    ...(config.acl.enabled ? [{ name: "REDIS_USER", value: target.user }] : []),
    ...(target.listenPort !== undefined ? [{ name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: `:${target.listenPort}` }] : []),
    ...(target.tlsDir !== undefined
      ? [
          { name: "REDIS_EXPORTER_TLS_CA_CERT_FILE", value: `${target.tlsDir}/${CERTIFICATE_KEYS.ca}` },
          { name: "REDIS_EXPORTER_TLS_CLIENT_CERT_FILE", value: `${target.tlsDir}/${CERTIFICATE_KEYS.certificate}` },
          { name: "REDIS_EXPORTER_TLS_CLIENT_KEY_FILE", value: `${target.tlsDir}/${CERTIFICATE_KEYS.key}` },
        ]
      : []),
  ];
}

/**
 * The script that points Debian's prometheus-redis-exporter at node `index` and restarts it. It writes
 * EXPORTER_ENV_FILE (mode 0640, root:prometheus) with REDIS_ADDR, REDIS_USER (`admin`, in ACL mode) and
 * REDIS_PASSWORD: redis_exporter reads them from its environment, so the password is on no command line (the
 * unit's `$ARGS` stays empty). Run it after the boot script, which writes the node's TLS files; safe to run again
 * (after a password rotation, say).
 */
export function renderExporterScript(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const self = nodes.addresses[index];
  const tls = config.tls;
  // With TLS, the plain-text port when there is one (the exporter runs on the node itself), else TLS with copies
  // of the node's own client certificate: tls-auth-clients may require one.
  const useTls = tls.enabled && tls.plaintextPort === undefined;
  const port = tls.enabled && tls.plaintextPort !== undefined ? tls.plaintextPort : config.redis.port;
  const env = [
    ...exporterEnvironment(config, {
      address: `${useTls ? "rediss" : "redis"}://${self}:${port}`,
      user: SYSTEM_USERS.admin,
      tlsDir: useTls ? EXPORTER_TLS_DIR : undefined,
    }).map(({ name, value }) => `${name}=${value}`),
    'ARGS=""',
  ];
  return [
    "#!/usr/bin/env bash",
    `# Points prometheus-redis-exporter at node ${index} (${self}) of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
    `# Writes ${EXPORTER_ENV_FILE} (0640 root:prometheus): the password is read from the environment, never an argument.`,
    "set -euo pipefail",
    "umask 077",
    "",
    'fail() { echo "redis-ha-exporter-env: $*" >&2; exit 1; }',
    ...secretReaderLines(config),
    `redis_password="$(secret ${config.acl.enabled ? passwordKey(SYSTEM_USERS.admin) : PASSWORD_KEY})"`,
    "# An environment file takes no newline in a value; systemd strips neither quotes nor spaces inside single quotes.",
    "case \"$redis_password\" in *[[:cntrl:]]* | *\\'* | *\\\\*) fail \"the password holds a character an environment file cannot carry\" ;; esac",
    ...(useTls
      ? [
          `install -d -m 0700 -o prometheus -g prometheus ${EXPORTER_TLS_DIR}`,
          `for f in ${CERTIFICATE_KEYS.ca} ${CERTIFICATE_KEYS.certificate} ${CERTIFICATE_KEYS.key}; do`,
          `  install -m 0600 -o prometheus -g prometheus "${VM_HOME}/${NODE_FILES.tlsDir}/$f" "${EXPORTER_TLS_DIR}/$f"`,
          "done",
        ]
      : []),
    `tmp="$(mktemp ${EXPORTER_ENV_FILE}.XXXXXX)"`,
    "{",
    `  printf '%s\\n' "# Written by ${VM_EXPORTER_SCRIPT} (cdktf-redis-sentinel)."`,
    ...env.map((line) => `  printf '%s\\n' '${line}'`),
    `  printf "REDIS_PASSWORD='%s'\\n" "$redis_password"`,
    '} > "$tmp"',
    'chown root:prometheus "$tmp"',
    'chmod 0640 "$tmp"',
    `mv -f -- "$tmp" ${EXPORTER_ENV_FILE}`,
    "systemctl enable prometheus-redis-exporter.service",
    "systemctl restart prometheus-redis-exporter.service",
    "",
  ].join("\n");
}
