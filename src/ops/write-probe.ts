import type Redis from "ioredis";

/**
 * The key the write probe deletes. No one writes it, so the probe changes no data and replicates nothing; Redis
 * still judges `DEL` a write, and refuses it as it would any write: NOREPLICAS when too few replicas acknowledged
 * the stream within `min-replicas-max-lag`, READONLY on a replica, MISCONF after a failed snapshot.
 */
export const WRITE_PROBE_KEY = "redis-ha:write-probe";

/** Whether a master would take a write now: undefined when it would, else the error it answered. */
export async function writeRefusal(client: Redis): Promise<string | undefined> {
  try {
    await client.del(WRITE_PROBE_KEY);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
