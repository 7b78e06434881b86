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

// Reply parsing lives beneath both src/local and src/ops.
export { fieldsOf, parseInfo } from "../ops/info";
