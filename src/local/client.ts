import Redis from "ioredis";
import type { ConnectionOptions } from "node:tls";

/** How a client logs in: a password (password mode), or a user and its password (ACL mode); over TLS when given. */
export interface ClientAuth {
  readonly username?: string;
  readonly password: string;
  /** TLS options (the CA, and a client certificate when the server asks for one). @default plain text */
  readonly tls?: ConnectionOptions;
}

/** A password alone logs in as the `default` user (password mode). */
export type Credentials = string | ClientAuth;

/** `credentials` as ClientAuth. */
export const clientAuth = (credentials: Credentials): ClientAuth =>
  typeof credentials === "string" ? { password: credentials } : credentials;

/** A short-lived connection that fails fast instead of retrying, and gives up after `timeoutMs`: for health checks and tests. */
export async function withClient<T>(
  host: string,
  port: number,
  credentials: Credentials,
  fn: (client: Redis) => Promise<T>,
  timeoutMs = 3000,
): Promise<T> {
  const { username, password, tls } = clientAuth(credentials);
  const client = new Redis({
    host,
    port,
    ...(username ? { username } : {}),
    password,
    ...(tls ? { tls } : {}),
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined); // each command's own promise reports the failure
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${host}:${port} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([client.connect().then(() => fn(client)), deadline]);
  } finally {
    clearTimeout(timer);
    // disconnect() on a connection that already failed arms a 2 s timer that nothing clears, holding the process.
    if (client.status !== "end") client.disconnect();
  }
}

/** A Redis reply of alternating field names and values (`SENTINEL MASTER`, `SENTINEL REPLICAS`) as an object. */
export function fieldsOf(reply: unknown): Record<string, string> {
  const list = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]] = list[i + 1];
  return out;
}

/** `INFO <section>` text as an object. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
