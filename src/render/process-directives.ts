import type { RedisSentinelConfig } from "../spec";

/**
 * How Redis and Sentinel run, the same for both: in the foreground under a supervisor, logging to standard output
 * (the journal on a VM, a log file under `redis-ha local`).
 */
export function processDirectives(config: RedisSentinelConfig): string[] {
  return [
    "# Process: in the foreground, logging to standard output (the journal on a VM, a log file locally).",
    "daemonize no",
    "supervised auto",
    'logfile ""',
    `loglevel ${config.redis.loglevel}`,
  ];
}
