import type Redis from "ioredis";
import { fieldsOf } from "../local/client";
import { formatEndpoint, messageOf, withConnection, type Auth, type Credentials, type Endpoint } from "./connect";

/**
 * A password rotation without downtime, in two phases, in ACL mode (an ACL user may have several passwords):
 *
 * 1. `add`: every Redis server and every sentinel that knows the user accepts the new password besides the old
 *    one. For `replication`, every Redis server also logs in to its master with it (masterauth); for `sentinel`,
 *    every sentinel logs in to Redis and to the other sentinels with it. Persisted with ACL SAVE and CONFIG REWRITE.
 * 2. Then store the new password where `auth.secrets` points (SSM, the Kubernetes Secret), so that a node that boots
 *    writes it, and move the clients to it.
 * 3. `drop`: the old password is removed everywhere.
 */
export type RotationPhase = "add" | "drop";

export interface RotateOptions {
  /** Sentinels to start from; the others, the master and the replicas are found through them. */
  readonly sentinels: readonly Endpoint[];
  readonly masterName: string;
  /** The operator's credentials: `admin` towards Redis, `sentinel` towards the sentinels. */
  readonly credentials: Credentials;
  /** The ACL user whose password changes. */
  readonly user: string;
  readonly phase: RotationPhase;
  /** The new password (`add`) or the old one (`drop`). */
  readonly password: string;
  readonly log?: (line: string) => void;
}

export interface RotationStep {
  readonly target: string;
  readonly action: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface RotationResult {
  readonly ok: boolean;
  readonly steps: readonly RotationStep[];
}

/** Runs one phase of a rotation on every Redis server and sentinel of a cluster. */
export async function rotatePassword(options: RotateOptions): Promise<RotationResult> {
  const { masterName, credentials, user, phase, password } = options;
  const log = options.log ?? (() => undefined);
  if (!password) throw new Error(`no password given for ${phase === "add" ? "the new" : "the old"} password of ${user}`);
  if (user === "default") throw new Error("the default user is off in ACL mode; rotation needs ACL mode (acl.enabled, the default)");
  const { servers, sentinels } = await discover(options.sentinels, masterName, credentials.sentinel);
  const steps: RotationStep[] = [];
  const run = async (target: Endpoint, auth: Auth, action: string, fn: (c: Redis) => Promise<unknown>) => {
    try {
      await withConnection(target, auth, fn);
      steps.push({ target: formatEndpoint(target), action, ok: true });
      log(`ok    ${formatEndpoint(target)}: ${action}`);
    } catch (e) {
      steps.push({ target: formatEndpoint(target), action, ok: false, error: messageOf(e) });
      log(`FAIL  ${formatEndpoint(target)}: ${action}: ${messageOf(e)}`);
    }
  };
  const rule = phase === "add" ? `>${password}` : `<${password}`;
  const knows = async (c: Redis) => (await c.call("ACL", "GETUSER", user)) !== null;

  // Every server and sentinel accepts a new password before any of them logs in with it. A sentinel that switched
  // to a password a peer did not accept yet stays connected to that peer unauthenticated: its PINGs get NOAUTH
  // replies, which keep the link open, so it counts the peer down until something else breaks the connection.
  // Redis first: when the sentinels start using a new sentinel password, Redis already accepts it.
  for (const server of servers) {
    await run(server, credentials.redis, `${phase} a password of ${user}`, async (c) => {
      if (!(await knows(c))) throw new Error(`no ACL user ${user} on this server`);
      await c.call("ACL", "SETUSER", user, rule);
      await c.call("ACL", "SAVE");
    });
  }
  for (const sentinel of sentinels) {
    await run(sentinel, credentials.sentinel, `${phase} a password of ${user}`, async (c) => {
      if (!(await knows(c))) return; // admin and replication exist on Redis only
      await c.call("ACL", "SETUSER", user, rule);
      await c.call("ACL", "SAVE");
    });
  }
  if (phase === "add" && user === "replication") {
    // Every server, the master too: it becomes a replica at the next failover.
    for (const server of servers) {
      await run(server, credentials.redis, "log in to the master with the new password (masterauth)", async (c) => {
        await c.call("CONFIG", "SET", "masterauth", password);
        await c.call("CONFIG", "REWRITE");
      });
    }
  }
  if (phase === "add" && user === "sentinel") {
    for (const sentinel of sentinels) {
      await run(sentinel, credentials.sentinel, "log in to Redis and the other sentinels with the new password", async (c) => {
        await c.call("SENTINEL", "SET", masterName, "auth-pass", password);
        await c.call("SENTINEL", "CONFIG", "SET", "sentinel-pass", password);
      });
    }
  }
  return { ok: steps.every((s) => s.ok), steps };
}

/** The master and every replica a sentinel knows, and every sentinel (those given and those it knows). */
async function discover(given: readonly Endpoint[], masterName: string, auth: Auth) {
  const errors: string[] = [];
  for (const sentinel of given) {
    try {
      return await withConnection(sentinel, auth, async (c) => {
        const master = fieldsOf(await c.call("SENTINEL", "MASTER", masterName));
        const replicas = ((await c.call("SENTINEL", "REPLICAS", masterName)) as unknown[]).map(fieldsOf);
        const others = ((await c.call("SENTINEL", "SENTINELS", masterName)) as unknown[]).map(fieldsOf);
        // Every replica the sentinel knows, also one it counts as down or disconnected for the moment (a sentinel
        // that just changed its own password reconnects to them): a server left out would keep the old password.
        // One that does not answer is a FAIL line, and the phase can be run again.
        const servers = [master, ...replicas].map((f) => ({ host: f.ip, port: Number(f.port) }));
        const all = [...given, ...others.map((f) => ({ host: f.ip, port: Number(f.port) }))];
        const sentinels = all.filter((e, i) => all.findIndex((o) => formatEndpoint(o) === formatEndpoint(e)) === i);
        return { servers, sentinels };
      });
    } catch (e) {
      errors.push(`${formatEndpoint(sentinel)}: ${messageOf(e)}`);
    }
  }
  throw new Error(`no sentinel answered: ${errors.join("; ")}`);
}
