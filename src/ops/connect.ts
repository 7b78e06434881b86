import Redis from "ioredis";
import type { ConnectionOptions } from "node:tls";

/** Where a Redis or a Sentinel listens. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** How to authenticate: a password alone (`requirepass`), or an ACL user and its password; over TLS when given. */
export interface Auth {
  readonly username?: string;
  readonly password?: string;
  /** TLS options (the CA, and a client certificate when the server asks for one). @default plain text */
  readonly tls?: ConnectionOptions;
}

/** Credentials for a cluster's Redis nodes and for its sentinels. */
export interface Credentials {
  readonly redis: Auth;
  readonly sentinel: Auth;
}

/** The environment variables credentials are read from; never from flags, which other users can see in `ps`. */
export const CREDENTIAL_VARIABLES = ["REDIS_USERNAME", "REDIS_PASSWORD", "SENTINEL_USERNAME", "SENTINEL_PASSWORD"] as const;

/**
 * Credentials from the environment: REDIS_PASSWORD and, in ACL mode, REDIS_USERNAME for the Redis nodes;
 * SENTINEL_USERNAME and SENTINEL_PASSWORD for the sentinels, each defaulting to its Redis counterpart when unset.
 * An empty variable counts as unset.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  const get = (name: (typeof CREDENTIAL_VARIABLES)[number]) => (env[name] ? env[name] : undefined);
  const redis: Auth = { username: get("REDIS_USERNAME"), password: get("REDIS_PASSWORD") };
  return {
    redis,
    sentinel: { username: get("SENTINEL_USERNAME") ?? redis.username, password: get("SENTINEL_PASSWORD") ?? redis.password },
  };
}

/** `host:port` (IPv6 in brackets). */
export const formatEndpoint = (e: Endpoint): string => (e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);

/**
 * A comma-separated list of `HOST:PORT` (`[IPv6]:PORT`; `HOST` alone takes `defaultPort`). Throws once with every
 * entry that is not one, and the form expected.
 */
export function parseEndpoints(list: string, defaultPort: number): Endpoint[] {
  const problems: string[] = [];
  const endpoints: Endpoint[] = [];
  for (const raw of list.split(",").map((s) => s.trim())) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))(?::(\d+))?$/.exec(raw);
    const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
    if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`"${raw}"`);
      continue;
    }
    endpoints.push({ host: m[1] ?? m[2], port });
  }
  if (problems.length > 0) {
    throw new Error(`not HOST:PORT: ${problems.join(", ")}. Give a comma-separated list such as 10.0.1.10:26379,10.0.1.11:26379`);
  }
  return endpoints;
}

export interface ClientOptions {
  /** Give up connecting after this long. @default 1000 */
  readonly connectTimeoutMs?: number;
  /** Reject a command that has no reply after this long. @default 2000 */
  readonly commandTimeoutMs?: number;
  /** Reconnect after a lost connection, every this many ms; for long-lived subscribers. @default never */
  readonly reconnectEveryMs?: number;
}

/**
 * A client that fails fast: no offline queue, no retries (unless `reconnectEveryMs`), a connect and a command
 * timeout. Errors reach each command's promise; the client's own `error` events are swallowed.
 */
export function openClient(endpoint: Endpoint, auth: Auth, options: ClientOptions = {}): Redis {
  const client = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    ...(auth.username ? { username: auth.username } : {}),
    ...(auth.password ? { password: auth.password } : {}),
    ...(auth.tls ? { tls: auth.tls } : {}),
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: options.reconnectEveryMs ? () => options.reconnectEveryMs : () => null,
  });
  // Each command's promise reports its own failure; a refused AUTH only comes as an event, kept for `connect`.
  client.on("error", (e: Error) => lastErrors.set(client, e));
  return client;
}

const lastErrors = new WeakMap<Redis, Error>();

/** Closes a client without leaving a timer behind (`disconnect()` on a failed connection arms one). */
export function closeClient(client: Redis): void {
  if (client.status !== "end") client.disconnect();
}

/** Connects (within `timeoutMs` in all, connection and `fn`), runs `fn`, and closes the connection. */
export async function withConnection<T>(
  endpoint: Endpoint,
  auth: Auth,
  fn: (client: Redis) => Promise<T>,
  timeoutMs = 3000,
): Promise<T> {
  const client = openClient(endpoint, auth, { commandTimeoutMs: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([connect(client).then(() => fn(client)), deadline]);
  } finally {
    clearTimeout(timer);
    closeClient(client);
  }
}

/**
 * `client.connect()`, plus a check that the server accepted the credentials: ioredis sends AUTH on connect but
 * reports a refusal only as an `error` event, so a PING here turns it into this promise's rejection.
 */
export async function connect(client: Redis): Promise<void> {
  try {
    await client.connect();
    await client.call("PING");
  } catch (e) {
    // "Connection is closed" after a refused AUTH: the refusal (WRONGPASS, ...) says more.
    const error = lastErrors.get(client) ?? e;
    if (/^NOAUTH/.test(messageOf(error)) && !client.options.password) {
      throw new Error(`${messageOf(error)}: no password was given. Set REDIS_PASSWORD (and SENTINEL_PASSWORD where the sentinels' differs)`);
    }
    throw error;
  }
}

/** An error as one line, for reports. */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** The master a sentinel names for `masterName`, as an endpoint. */
export async function masterNamedBy(sentinel: Redis, masterName: string): Promise<Endpoint> {
  const reply = (await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)) as [string, string] | null;
  if (!reply) throw new Error(`this sentinel monitors no master named "${masterName}"`);
  return { host: reply[0], port: Number(reply[1]) };
}
