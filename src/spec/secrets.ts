import type { RedisSentinelConfig, SecretStore } from "./schema";

/** The users ACL mode creates for the cluster itself, besides the application users. */
export const SYSTEM_USERS = {
  /** Operators and the nodes' own scripts (probes, preStop): every command. */
  admin: "admin",
  /** Replicas log in to their master as this user (`masteruser`): PSYNC, REPLCONF and PING only. */
  replication: "replication",
  /** Sentinels log in to Redis and to each other as this user. */
  sentinel: "sentinel",
} as const;

/** Key of the one password in password mode (ACL mode off). */
export const PASSWORD_KEY = "password";
/** Key of `user`'s password in ACL mode. */
export const passwordKey = (user: string): string => `${user}-password`;

/** Keys of the certificate, its private key and the CA in `tls.certificates`: the names of a Kubernetes TLS Secret. */
export const CERTIFICATE_KEYS = { certificate: "tls.crt", key: "tls.key", ca: "ca.crt" } as const;

/** Keys of every password the cluster reads from `auth.secrets`. */
export function secretKeys(config: RedisSentinelConfig): string[] {
  if (!config.acl.enabled) return [PASSWORD_KEY];
  return [...config.acl.users.map((u) => u.name), ...Object.values(SYSTEM_USERS)].map(passwordKey);
}

/** Where one secret of `store` lives, for messages and permissions: a variable, a file or a parameter. */
export function secretLocation(store: SecretStore, key: string): string {
  switch (store.source) {
    case "env":
      return `$${envVariable(store.prefix, key)}`;
    case "directory":
      return `${store.path}/${key}`;
    case "ssm-parameters":
      return `${store.path}/${key}`;
  }
}

/** The environment variable holding `key` under `prefix`: capitals, with `-` and `.` as `_`. */
export function envVariable(prefix: string, key: string): string {
  return `${prefix}${key.toUpperCase().replace(/[-.]/g, "_")}`;
}
