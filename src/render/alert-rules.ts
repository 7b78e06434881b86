import { stringify } from "yaml";
import type { RedisSentinelConfig } from "../spec";

/**
 * Prometheus alert rules for one cluster, over the metrics of oliver006/redis_exporter (v1.45, Debian bookworm's
 * `prometheus-redis-exporter`): one exporter per Redis server and one per Sentinel. Every metric named here was
 * read from that exporter scraping a real Redis 7.0 master, replica and sentinel:
 *
 *   redis_up                                 every target; 0 while the exporter cannot reach its Redis or Sentinel
 *   redis_instance_info{role}                Redis servers: role="master" or "slave" (absent while redis_up is 0)
 *   redis_connected_slaves                   Redis servers (0 on a replica)
 *   redis_master_link_up                     replicas only
 *   redis_connected_slave_lag_seconds        the master, one series per replica (slave_ip, slave_port)
 *   redis_memory_used_bytes, redis_memory_max_bytes, redis_evicted_keys_total (a counter)
 *   redis_sentinel_master_ok_sentinels{master_name}   sentinels; counts the asked sentinel itself
 *
 * The exporter has no role label on redis_up (the Spoke guide's `redis_up{role="master"}` never matches): a missing
 * master is a missing `redis_instance_info{role="master"}`, and a failover is a server whose role went from slave
 * to master.
 */

/** Label matchers that select the cluster's exporter targets: the `job` a scrape config or ServiceMonitor sets. */
export const DEFAULT_ALERT_SELECTOR = 'job="redis-ha"';
/** `RedisHighMemoryUsage` fires above this share of `maxmemory`. */
export const DEFAULT_MEMORY_USAGE_RATIO = 0.9;
/** `RedisReplicaLag` fires above this many seconds since a replica's last acknowledgement (INFO's integer `lag`). */
export const DEFAULT_REPLICA_LAG_SECONDS = 1;
/** `RedisFailover` fires for this long after a replica became master. */
export const DEFAULT_FAILOVER_ALERT_MINUTES = 15;
/** `RedisEvictingKeys` looks at evictions over this window. */
export const DEFAULT_EVICTION_WINDOW_MINUTES = 5;

/** How long memory use stays above the bound before `RedisHighMemoryUsage` fires. */
const MEMORY_FOR_SECONDS = 300;
/** How long a replica's lag stays above the bound before `RedisReplicaLag` fires. */
const REPLICA_LAG_FOR_SECONDS = 60;
/** Floor of the `for:` of `RedisReplicationBroken` and `RedisInstanceDown`: a restart or a full resync takes a while. */
const MIN_SETTLE_SECONDS = 120;

export interface AlertRulesOptions {
  /**
   * PromQL label matchers, without braces, that select the exporters of the cluster's Redis servers (and of its
   * sentinels, unless `sentinelSelector` is set). When one job scrapes several clusters, add the label that tells
   * them apart, such as `job="redis-ha", cluster="spoke"`.
   * @default DEFAULT_ALERT_SELECTOR (`job="redis-ha"`)
   */
  readonly selector?: string;
  /** Label matchers that select the exporters of the cluster's sentinels. @default selector */
  readonly sentinelSelector?: string;
  /** Name of the rule group. @default `redis-sentinel-<masterName>` */
  readonly groupName?: string;
  /** Share of `maxmemory`, above 0 and at most 1. @default DEFAULT_MEMORY_USAGE_RATIO (0.9) */
  readonly memoryUsageRatio?: number;
  /** Seconds, 0 or more. @default DEFAULT_REPLICA_LAG_SECONDS (1) */
  readonly replicaLagSeconds?: number;
  /** Whole minutes, at least 1. @default DEFAULT_FAILOVER_ALERT_MINUTES (15) */
  readonly failoverAlertMinutes?: number;
  /** Whole minutes, at least 1. @default DEFAULT_EVICTION_WINDOW_MINUTES (5) */
  readonly evictionWindowMinutes?: number;
}

/** One alerting rule, as Prometheus reads it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string };
}

/** One rule group: what a rules file's `groups` and a PrometheusRule's `spec.groups` hold. */
export interface AlertRuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/**
 * The alert rules of the cluster as plain objects: the `groups` of a Prometheus rules file, to embed as
 * `spec.groups` of a Kubernetes PrometheusRule. `renderAlertRules` writes the same groups as a rules file.
 *
 * `for:` durations follow the sentinel timing: no master is an emergency once a failover (down-after plus
 * failover-timeout) should have ended; too few sentinels once down-after has passed (the time sentinels take to
 * mark one another down); a down node or a broken replication once twice a failover, and at least 2m, has passed
 * (a restart, a failover and a resync end sooner). Every rule is labelled `severity` (critical or warning) and
 * `master_name`; the two `RedisReplicationBroken` rules also `reason` (master-link-down or replicas-missing).
 */
export function alertRuleGroups(config: RedisSentinelConfig, options: AlertRulesOptions = {}): AlertRuleGroup[] {
  const o = checkOptions(options);
  const name = config.topology.masterName;
  const { nodeCount } = config.topology;
  const { quorum, downAfterMilliseconds, failoverTimeout } = config.sentinel;
  const replicas = nodeCount - 1;
  const minReplicas = config.redis.replication.minReplicasToWrite;

  const downAfter = Math.ceil(downAfterMilliseconds / 1000);
  const failover = Math.ceil((downAfterMilliseconds + failoverTimeout) / 1000);
  const settle = Math.max(MIN_SETTLE_SECONDS, 2 * failover);

  // Series of the cluster's Redis servers and sentinels, with extra matchers.
  const redis = (metric: string, extra = "") => `${metric}{${join(o.selector, extra)}}`;
  const sentinel = (metric: string) => `${metric}{${join(o.sentinelSelector, `master_name="${name}"`)}}`;
  const okSentinels = sentinel("redis_sentinel_master_ok_sentinels");
  const isMaster = `on (instance) ${redis("redis_instance_info", 'role="master"')}`;
  const rule = (
    alert: string,
    severity: "critical" | "warning",
    expr: string,
    forSeconds: number,
    summary: string,
    description: string,
    labels: Readonly<Record<string, string>> = {},
  ): AlertRule => ({
    alert,
    expr,
    ...(forSeconds > 0 ? { for: duration(forSeconds) } : {}),
    labels: { severity, master_name: name, ...labels },
    annotations: { summary, description },
  });

  const rules: AlertRule[] = [
    rule(
      "RedisMasterDown",
      "critical",
      `absent(${redis("redis_instance_info", 'role="master"')})`,
      failover,
      `Redis cluster ${name} has no master`,
      `No Redis server of ${name} has reported role master for ${duration(failover)}, longer than a Sentinel ` +
        `failover takes (down-after ${downAfterMilliseconds} ms plus failover-timeout ${failoverTimeout} ms). ` +
        "Writes fail. Check the redis_up of each node and `SENTINEL MASTERS` on the sentinels.",
    ),
    rule(
      "RedisInstanceDown",
      "warning",
      o.sentinelSelector === o.selector
        ? `${redis("redis_up")} == 0`
        : `${redis("redis_up")} == 0 or redis_up{${o.sentinelSelector}} == 0`,
      settle,
      `Redis or Sentinel at {{ $labels.instance }} of ${name} is down`,
      `The exporter at {{ $labels.instance }} has not reached its Redis server or Sentinel of ${name} for ` +
        `${duration(settle)}. The cluster has one node fewer to fail over to or to vote with.`,
    ),
    rule(
      "RedisReplicationBroken",
      "warning",
      `${redis("redis_master_link_up")} == 0`,
      settle,
      `Replica {{ $labels.instance }} of ${name} has lost its master`,
      `The replication link of {{ $labels.instance }} to its master {{ $labels.master_host }}:{{ $labels.master_port }} ` +
        `has been down for ${duration(settle)}: the replica serves stale data and cannot take over.`,
      { reason: "master-link-down" },
    ),
    rule(
      "RedisReplicationBroken",
      "warning",
      `${redis("redis_connected_slaves")} < ${replicas} and ${isMaster}`,
      settle,
      `Master {{ $labels.instance }} of ${name} has fewer than ${replicas} replicas`,
      `The master {{ $labels.instance }} of ${name} has had {{ $value }} of its ${replicas} replicas connected for ` +
        `${duration(settle)}.` +
        (minReplicas > 0 ? ` With fewer than ${minReplicas} (min-replicas-to-write) it refuses writes.` : ""),
      { reason: "replicas-missing" },
    ),
    rule(
      "RedisReplicaLag",
      "warning",
      `${redis("redis_connected_slave_lag_seconds")} > ${o.replicaLagSeconds}`,
      REPLICA_LAG_FOR_SECONDS,
      `Replica {{ $labels.slave_ip }}:{{ $labels.slave_port }} of ${name} lags`,
      `The master {{ $labels.instance }} last heard from replica {{ $labels.slave_ip }}:{{ $labels.slave_port }} ` +
        `{{ $value }} s ago (bound ${o.replicaLagSeconds} s). A failover to it would lose the writes since.`,
    ),
    rule(
      "RedisHighMemoryUsage",
      "warning",
      `${redis("redis_memory_used_bytes")} / ${redis("redis_memory_max_bytes")} > ${o.memoryUsageRatio} ` +
        `and ${redis("redis_memory_max_bytes")} > 0`,
      MEMORY_FOR_SECONDS,
      `Redis {{ $labels.instance }} of ${name} uses over ${percent(o.memoryUsageRatio)} of maxmemory`,
      `Redis {{ $labels.instance }} of ${name} has used {{ $value | humanizePercentage }} of its maxmemory ` +
        `(${config.redis.memory.maxmemory}) for ${duration(MEMORY_FOR_SECONDS)}. At the limit it evicts keys ` +
        `(${config.redis.memory.policy}) or refuses writes (noeviction).`,
    ),
    rule(
      "RedisEvictingKeys",
      "warning",
      `rate(${redis("redis_evicted_keys_total")}[${o.evictionWindowMinutes}m]) > 0`,
      0,
      `Redis {{ $labels.instance }} of ${name} is evicting keys`,
      `Redis {{ $labels.instance }} of ${name} evicted {{ $value | humanize }} keys a second over the last ` +
        `${o.evictionWindowMinutes}m: it is at maxmemory (${config.redis.memory.maxmemory}) and drops data ` +
        `(${config.redis.memory.policy}).`,
    ),
    rule(
      "RedisFailover",
      "warning",
      // A server that is master now and was a replica within the window has been promoted: a failover.
      `${redis("redis_instance_info", 'role="master"')} and on (instance) ` +
        `max_over_time(${redis("redis_instance_info", 'role="slave"')}[${o.failoverAlertMinutes}m])`,
      0,
      `Redis cluster ${name} failed over to {{ $labels.instance }}`,
      `{{ $labels.instance }} was a replica and has become the master of ${name} within the last ` +
        `${o.failoverAlertMinutes}m. Find out why the old master went away (sentinel logs: +switch-master).`,
    ),
    rule(
      "RedisSentinelQuorumUnreachable",
      "critical",
      // No sentinel reporting at all counts as 0 sentinels.
      `(max by (master_name) (${okSentinels}) or 0 * absent(${okSentinels})) < ${quorum}`,
      downAfter,
      `The sentinels of ${name} cannot reach quorum`,
      `The best-connected sentinel of ${name} sees {{ $value }} sentinels in good state, itself included ` +
        `(0: no sentinel exporter reports on ${name}); a failover needs ${quorum} (quorum). If the master fails now, ` +
        "no replica is promoted.",
    ),
  ];

  return [{ name: o.groupName ?? `redis-sentinel-${name}`, rules }];
}

/** The alert rules of the cluster as a Prometheus rules file (`promtool check rules` accepts it). */
export function renderAlertRules(config: RedisSentinelConfig, options: AlertRulesOptions = {}): string {
  const groups = alertRuleGroups(config, options);
  return (
    `# Prometheus alert rules for Redis Sentinel cluster "${config.topology.masterName}", rendered by\n` +
    "# cdktf-redis-sentinel for redis_exporter metrics: edit the spec or the options, not this file.\n" +
    stringify({ groups }, { lineWidth: 0 })
  );
}

function checkOptions(options: AlertRulesOptions) {
  const o = {
    selector: options.selector ?? DEFAULT_ALERT_SELECTOR,
    sentinelSelector: options.sentinelSelector ?? options.selector ?? DEFAULT_ALERT_SELECTOR,
    groupName: options.groupName,
    memoryUsageRatio: options.memoryUsageRatio ?? DEFAULT_MEMORY_USAGE_RATIO,
    replicaLagSeconds: options.replicaLagSeconds ?? DEFAULT_REPLICA_LAG_SECONDS,
    failoverAlertMinutes: options.failoverAlertMinutes ?? DEFAULT_FAILOVER_ALERT_MINUTES,
    evictionWindowMinutes: options.evictionWindowMinutes ?? DEFAULT_EVICTION_WINDOW_MINUTES,
  };
  const problems: string[] = [];
  const problem = (field: string, value: unknown, message: string) =>
    problems.push(`${field} = ${JSON.stringify(value)}: ${message}`);

  for (const field of ["selector", "sentinelSelector"] as const) {
    if (!MATCHERS.test(o[field])) {
      problem(field, o[field], 'must be PromQL label matchers without braces, such as job="redis-ha" or job="redis-ha", cluster="spoke"');
    }
  }
  if (o.groupName !== undefined && !/^\S(.*\S)?$/.test(o.groupName)) {
    problem("groupName", o.groupName, "must be a non-empty name without leading or trailing spaces, such as redis-sentinel-spoke");
  }
  if (!(o.memoryUsageRatio > 0 && o.memoryUsageRatio <= 1)) {
    problem("memoryUsageRatio", o.memoryUsageRatio, "must be a share of maxmemory above 0 and at most 1, such as 0.9");
  }
  if (!(Number.isFinite(o.replicaLagSeconds) && o.replicaLagSeconds >= 0)) {
    problem("replicaLagSeconds", o.replicaLagSeconds, "must be 0 or more seconds, such as 1");
  }
  for (const field of ["failoverAlertMinutes", "evictionWindowMinutes"] as const) {
    if (!(Number.isInteger(o[field]) && o[field] >= 1)) problem(field, o[field], "must be a whole number of minutes, at least 1, such as 5");
  }
  if (problems.length > 0) {
    throw new Error(
      `Invalid alert rule options (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
  return o;
}

// One or more `label op "value"` matchers, comma-separated.
const MATCHER = String.raw`\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*`;
const MATCHERS = new RegExp(`^${MATCHER}(?:,${MATCHER})*$`);

const join = (...matchers: string[]) => matchers.map((m) => m.trim()).filter((m) => m !== "").join(", ");

/** A Prometheus duration: whole minutes as `5m`, anything else in seconds. */
function duration(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
