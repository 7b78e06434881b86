import type Redis from "ioredis";
import { closeClient, openClient, type Auth } from "../ops/connect";

/** How a client logs in: a password (password mode), or a user and its password (ACL mode); over TLS when given. */
export interface ClientAuth extends Auth {
  readonly password: string;
}

/** A password alone logs in as the `default` user (password mode). */
export type Credentials = string | ClientAuth;

/** `credentials` as ClientAuth. */
export const clientAuth = (credentials: Credentials): ClientAuth =>
  typeof credentials === "string" ? { password: credentials } : credentials;

/**
 * A short-lived connection that fails fast instead of retrying, and gives up after `timeoutMs`: for health checks and
 * tests. Unlike `withConnection` (src/ops), it does not check the login first: `fn` sees a refused AUTH as NOAUTH.
 */
export async function withClient<T>(
  host: string,
  port: number,
  credentials: Credentials,
  fn: (client: Redis) => Promise<T>,
  timeoutMs = 3000,
): Promise<T> {
  const client = openClient({ host, port }, clientAuth(credentials), { commandTimeoutMs: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${host}:${port} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([client.connect().then(() => fn(client)), deadline]);
  } finally {
    clearTimeout(timer);
    closeClient(client);
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
