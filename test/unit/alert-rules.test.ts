import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import {
  alertRuleGroups,
  DEFAULT_ALERT_SELECTOR,
  renderAlertRules,
  type AlertRule,
  type AlertRulesOptions,
} from "../../src/render";
import { parseSpec, type RedisSentinelConfig, type RedisSentinelSpec } from "../../src/spec";

// Every rule is run by the real promtool (Debian package `prometheus`) against series shaped like the output of
// redis_exporter 1.45 (Debian package `prometheus-redis-exporter`) scraping Redis 7.0 and Sentinel: the same
// metric names and labels. Nothing here opens a socket.

const auth = { secrets: { source: "env", prefix: "REDIS_HA_" } } as const;
const config = (spec: Partial<RedisSentinelSpec> = {}) => parseSpec({ auth, ...spec });

interface Series {
  readonly series: string;
  readonly values: string;
}
interface Expected {
  readonly labels: Record<string, string>;
  /** What the annotations' `{{ $value }}` renders to. */
  readonly value?: string;
}
interface Check {
  readonly at: string;
  readonly alert: string;
  readonly fires: readonly Expected[];
}

/** Runs `promtool` with `args` in a fresh directory holding `files`; removes the directory afterwards. */
function promtool(files: Record<string, string>, args: (dir: string) => string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alert-rules-"));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const result = spawnSync("promtool", args(dir), { cwd: dir, encoding: "utf8", timeout: 60_000 });
    return { status: result.status, error: result.error, output: `${result.stdout}${result.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The annotations promtool should render: the rule's templates with labels and value filled in. */
function expand(rule: AlertRule, labels: Record<string, string>, value = "") {
  const fill = (text: string) =>
    text
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? "<no value>")
      .replace(/\{\{ \$value( \| \w+)? \}\}/g, value);
  return { summary: fill(rule.annotations.summary), description: fill(rule.annotations.description) };
}

/** `promtool test rules` over `series`: each check lists exactly the alerts that fire (none: an empty list). */
function testRules(c: RedisSentinelConfig, series: readonly Series[], checks: readonly Check[], options?: AlertRulesOptions) {
  const rules = alertRuleGroups(c, options).flatMap((g) => g.rules);
  const ruleFor = (alert: string, labels: Record<string, string>) => {
    const matching = rules.filter((r) => r.alert === alert && Object.entries(r.labels).every(([k, v]) => !(k in labels) || labels[k] === v));
    if (matching.length !== 1) throw new Error(`expected one rule ${alert} for ${JSON.stringify(labels)}, found ${matching.length}`);
    return matching[0];
  };
  const tests = {
    rule_files: ["rules.yml"],
    evaluation_interval: "5s",
    tests: [
      {
        interval: "5s",
        input_series: series,
        alert_rule_test: checks.map((check) => ({
          eval_time: check.at,
          alertname: check.alert,
          exp_alerts: check.fires.map(({ labels, value }) => {
            const rule = ruleFor(check.alert, labels);
            return { exp_labels: { ...rule.labels, ...labels }, exp_annotations: expand(rule, labels, value) };
          }),
        })),
      },
    ],
  };
  return promtool({ "rules.yml": renderAlertRules(c, options), "tests.yml": stringify(tests) }, () => [
    "test",
    "rules",
    "tests.yml",
  ]);
}

const job = "redis-ha";
const s = (metric: string, labels: Record<string, string>, values: string): Series => ({
  series: `${metric}{${Object.entries({ job, ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`,
  values,
});
const [r0, r1, r2] = ["redis-0:9121", "redis-1:9121", "redis-2:9121"];
const sentinels = ["sentinel-0:9121", "sentinel-1:9121", "sentinel-2:9121"];
const link = { master_host: "10.0.1.10", master_port: "6379" };
const replica = (ip: string) => ({ slave_ip: ip, slave_port: "6379", slave_state: "online" });
// 30 minutes of samples, 5 s apart.
const steady = (value: number | string) => `${value}x360`;

/** A healthy 3-node cluster: r0 is master, r1 and r2 replicate, every sentinel sees all three. */
const healthy = (overrides: Record<string, Series | null> = {}): Series[] => {
  const base: Record<string, Series> = {
    up0: s("redis_up", { instance: r0 }, steady(1)),
    up1: s("redis_up", { instance: r1 }, steady(1)),
    up2: s("redis_up", { instance: r2 }, steady(1)),
    info0: s("redis_instance_info", { instance: r0, role: "master" }, steady(1)),
    info1: s("redis_instance_info", { instance: r1, role: "slave" }, steady(1)),
    info2: s("redis_instance_info", { instance: r2, role: "slave" }, steady(1)),
    slaves0: s("redis_connected_slaves", { instance: r0 }, steady(2)),
    slaves1: s("redis_connected_slaves", { instance: r1 }, steady(0)),
    slaves2: s("redis_connected_slaves", { instance: r2 }, steady(0)),
    link1: s("redis_master_link_up", { instance: r1, ...link }, steady(1)),
    link2: s("redis_master_link_up", { instance: r2, ...link }, steady(1)),
    // INFO's lag is whole seconds since the replica's last acknowledgement, sent every second: 0 or 1 when healthy.
    lag1: s("redis_connected_slave_lag_seconds", { instance: r0, ...replica("10.0.2.10") }, "0 1 ".repeat(180).trim()),
    lag2: s("redis_connected_slave_lag_seconds", { instance: r0, ...replica("10.0.3.10") }, steady(1)),
    used0: s("redis_memory_used_bytes", { instance: r0 }, steady(1_000_000_000)),
    max0: s("redis_memory_max_bytes", { instance: r0 }, steady(2_147_483_648)),
    used1: s("redis_memory_used_bytes", { instance: r1 }, steady(1_000_000_000)),
    max1: s("redis_memory_max_bytes", { instance: r1 }, steady(2_147_483_648)),
    // A counter that evicted once, long ago, and stays flat.
    evicted0: s("redis_evicted_keys_total", { instance: r0 }, steady(17)),
    ...Object.fromEntries(
      sentinels.flatMap((instance, i) => [
        [`sup${i}`, s("redis_up", { instance }, steady(1))],
        [`ok${i}`, s("redis_sentinel_master_ok_sentinels", { instance, master_name: "mymaster", master_address: "10.0.1.10:6379" }, steady(3))],
      ]),
    ),
  };
  for (const [key, series] of Object.entries(overrides)) {
    if (series === null) delete base[key];
    else base[key] = series;
  }
  return Object.values(base);
};

const ALERTS = [
  "RedisMasterDown",
  "RedisInstanceDown",
  "RedisReplicationBroken",
  "RedisReplicaLag",
  "RedisHighMemoryUsage",
  "RedisEvictingKeys",
  "RedisFailover",
  "RedisSentinelQuorumUnreachable",
];
const quiet = (at: string, except: readonly string[] = []): Check[] =>
  ALERTS.filter((a) => !except.includes(a)).map((alert) => ({ at, alert, fires: [] }));

/** Expects promtool to pass; shows its output when it does not. */
const passes = (result: ReturnType<typeof promtool>) => {
  expect(result.error).toBeUndefined();
  expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
};

describe("promtool check rules", () => {
  const check = (text: string) => promtool({ "rules.yml": text }, () => ["check", "rules", "rules.yml"]);

  test.each([
    ["the defaults", config(), {}],
    [
      "5 nodes, a custom master name, slow sentinels and every option",
      config({
        topology: { nodeCount: 5, masterName: "spoke-redis" },
        sentinel: { quorum: 4, downAfterMilliseconds: 30_000, failoverTimeout: 60_000 },
      }),
      {
        selector: 'job=~"redis-.*", cluster="spoke"',
        sentinelSelector: 'job="redis-sentinel", cluster="spoke"',
        groupName: "spoke",
        memoryUsageRatio: 0.75,
        replicaLagSeconds: 5,
        failoverAlertMinutes: 30,
        evictionWindowMinutes: 10,
      },
    ],
  ])("accepts the rules for %s", (_, c, options) => {
    const result = check(renderAlertRules(c, options));
    expect(result.error).toBeUndefined();
    expect(result.output).toContain("SUCCESS: 9 rules found");
    expect(result.status).toBe(0);
  });

  test("rejects a broken expression, so the test above can fail", () => {
    const result = check(renderAlertRules(config()).replace("absent(", "absent(("));
    expect(result.output).toContain("FAILED");
    expect(result.status).not.toBe(0);
  });
});

describe("promtool test rules: each alert fires on bad series and stays quiet on healthy ones", () => {
  const c = config();

  test("a healthy cluster raises no alert", () => {
    passes(testRules(c, healthy(), ["1m", "10m", "29m"].flatMap((at) => quiet(at))));
  });

  test("the unit test fails when it expects an alert that does not fire, so the tests here can fail", () => {
    const result = testRules(c, healthy(), [{ at: "10m", alert: "RedisMasterDown", fires: [{ labels: { job, role: "master" } }] }]);
    expect(result.output).toContain("FAILED");
    expect(result.status).not.toBe(0);
  });

  test("RedisMasterDown: no master for longer than down-after plus failover-timeout (15 s)", () => {
    const series = healthy({ info0: s("redis_instance_info", { instance: r0, role: "master" }, "1x60 stale"), up0: s("redis_up", { instance: r0 }, "1x60 0x300") });
    passes(
      testRules(c, series, [
        { at: "4m", alert: "RedisMasterDown", fires: [] },
        { at: "5m10s", alert: "RedisMasterDown", fires: [] }, // pending
        { at: "6m", alert: "RedisMasterDown", fires: [{ labels: { job, role: "master" } }] },
      ]),
    );
  });

  test("RedisFailover, and no RedisMasterDown, when a replica takes over within the failover time", () => {
    const series = healthy({
      info0: s("redis_instance_info", { instance: r0, role: "master" }, "1x60 stale"),
      info1: s("redis_instance_info", { instance: r1, role: "slave" }, "1x60 stale"),
      info1m: s("redis_instance_info", { instance: r1, role: "master" }, "_x61 1x300"),
    });
    const promoted = { labels: { instance: r1, job, role: "master" } };
    passes(
      testRules(c, series, [
        { at: "4m", alert: "RedisFailover", fires: [] },
        { at: "5m30s", alert: "RedisMasterDown", fires: [] },
        { at: "6m", alert: "RedisMasterDown", fires: [] },
        { at: "5m10s", alert: "RedisFailover", fires: [promoted] },
        { at: "19m", alert: "RedisFailover", fires: [promoted] },
        // The last sample as a replica was at 5m: 15 minutes later the alert ends.
        { at: "21m", alert: "RedisFailover", fires: [] },
      ]),
    );
  });

  test("RedisInstanceDown: an exporter that cannot reach its Redis for 2m", () => {
    const series = healthy({ up2: s("redis_up", { instance: r2 }, "1x60 0x300"), sup1: s("redis_up", { instance: sentinels[1] }, "1x60 0 1x300") });
    passes(
      testRules(c, series, [
        { at: "6m", alert: "RedisInstanceDown", fires: [] },
        { at: "8m", alert: "RedisInstanceDown", fires: [{ labels: { instance: r2, job } }] },
      ]),
    );
  });

  test("RedisReplicationBroken: a replica's link is down, and the master misses a replica", () => {
    const series = healthy({
      link1: s("redis_master_link_up", { instance: r1, ...link }, "1x60 0x300"),
      slaves0: s("redis_connected_slaves", { instance: r0 }, "2x60 1x300"),
    });
    passes(
      testRules(c, series, [
        { at: "6m", alert: "RedisReplicationBroken", fires: [] },
        {
          at: "8m",
          alert: "RedisReplicationBroken",
          fires: [
            { labels: { instance: r1, job, ...link, reason: "master-link-down" } },
            { labels: { instance: r0, job, reason: "replicas-missing" }, value: "1" },
          ],
        },
      ]),
    );
  });

  test("RedisReplicaLag: lag above 1 s for a minute; a short spike stays quiet", () => {
    const series = healthy({
      lag1: s("redis_connected_slave_lag_seconds", { instance: r0, ...replica("10.0.2.10") }, "0x60 3x300"),
      lag2: s("redis_connected_slave_lag_seconds", { instance: r0, ...replica("10.0.3.10") }, "0x60 9x6 0x300"),
    });
    passes(
      testRules(c, series, [
        { at: "5m30s", alert: "RedisReplicaLag", fires: [] },
        { at: "7m", alert: "RedisReplicaLag", fires: [{ labels: { instance: r0, job, ...replica("10.0.2.10") }, value: "3" }] },
      ]),
    );
  });

  test("RedisReplicaLag follows replicaLagSeconds", () => {
    const series = healthy({ lag1: s("redis_connected_slave_lag_seconds", { instance: r0, ...replica("10.0.2.10") }, steady(3)) });
    passes(testRules(c, series, [{ at: "10m", alert: "RedisReplicaLag", fires: [] }], { replicaLagSeconds: 5 }));
  });

  test("RedisHighMemoryUsage: above 90% of maxmemory for 5m; exactly 90% and maxmemory 0 stay quiet", () => {
    const series = healthy({
      used0: s("redis_memory_used_bytes", { instance: r0 }, "500x60 950x300"),
      max0: s("redis_memory_max_bytes", { instance: r0 }, steady(1000)),
      used1: s("redis_memory_used_bytes", { instance: r1 }, steady(900)),
      max1: s("redis_memory_max_bytes", { instance: r1 }, steady(1000)),
      used2: s("redis_memory_used_bytes", { instance: r2 }, steady(5000)),
      max2: s("redis_memory_max_bytes", { instance: r2 }, steady(0)),
    });
    passes(
      testRules(c, series, [
        { at: "9m", alert: "RedisHighMemoryUsage", fires: [] },
        { at: "11m", alert: "RedisHighMemoryUsage", fires: [{ labels: { instance: r0, job }, value: "95%" }] },
      ]),
    );
  });

  test("RedisHighMemoryUsage follows memoryUsageRatio", () => {
    const series = healthy({
      used0: s("redis_memory_used_bytes", { instance: r0 }, steady(800)),
      max0: s("redis_memory_max_bytes", { instance: r0 }, steady(1000)),
    });
    passes(testRules(c, series, [{ at: "10m", alert: "RedisHighMemoryUsage", fires: [{ labels: { instance: r0, job }, value: "80%" }] }], { memoryUsageRatio: 0.75 }));
  });

  test("RedisEvictingKeys: the eviction counter rises; a flat one stays quiet", () => {
    const series = healthy({
      evicted0: s("redis_evicted_keys_total", { instance: r0 }, "0x60 0+10x300"),
      evicted1: s("redis_evicted_keys_total", { instance: r1 }, steady(5000)),
    });
    passes(
      testRules(c, series, [
        { at: "5m", alert: "RedisEvictingKeys", fires: [] },
        // 10 keys every 5 s.
        { at: "15m", alert: "RedisEvictingKeys", fires: [{ labels: { instance: r0, job }, value: "2" }] },
      ]),
    );
  });

  test("RedisSentinelQuorumUnreachable: no sentinel sees a quorum (2) of sentinels", () => {
    const ok = (instance: string, values: string) =>
      s("redis_sentinel_master_ok_sentinels", { instance, master_name: "mymaster", master_address: "10.0.1.10:6379" }, values);
    const series = healthy({ ok0: ok(sentinels[0], "3x60 1x300"), ok1: ok(sentinels[1], "3x60 1x300"), ok2: null });
    passes(
      testRules(c, series, [
        { at: "5m", alert: "RedisSentinelQuorumUnreachable", fires: [] },
        { at: "6m", alert: "RedisSentinelQuorumUnreachable", fires: [{ labels: { master_name: "mymaster" }, value: "1" }] },
      ]),
    );
  });

  test("RedisSentinelQuorumUnreachable: one partitioned sentinel alone stays quiet", () => {
    const series = healthy({
      ok2: s("redis_sentinel_master_ok_sentinels", { instance: sentinels[2], master_name: "mymaster", master_address: "10.0.1.10:6379" }, "3x60 1x300"),
    });
    passes(testRules(c, series, [{ at: "10m", alert: "RedisSentinelQuorumUnreachable", fires: [] }]));
  });

  test("RedisSentinelQuorumUnreachable: no sentinel reports at all", () => {
    const series = healthy({ ok0: null, ok1: null, ok2: null });
    passes(
      testRules(c, series, [
        { at: "1m", alert: "RedisSentinelQuorumUnreachable", fires: [{ labels: { job, master_name: "mymaster" }, value: "0" }] },
      ]),
    );
  });

  test("sentinel series of another master do not count", () => {
    const series = healthy({ ok0: null, ok1: null, ok2: null, other: s("redis_sentinel_master_ok_sentinels", { instance: sentinels[0], master_name: "other" }, steady(3)) });
    passes(
      testRules(c, series, [
        { at: "1m", alert: "RedisSentinelQuorumUnreachable", fires: [{ labels: { job, master_name: "mymaster" }, value: "0" }] },
      ]),
    );
  });
});

describe("rules follow the config", () => {
  test("5 nodes: the master needs 4 replicas, and a failover needs the quorum of 4 sentinels", () => {
    const c = config({ topology: { nodeCount: 5 }, sentinel: { quorum: 4 } });
    const ok = (instance: string) => s("redis_sentinel_master_ok_sentinels", { instance, master_name: "mymaster" }, "5x60 3x300");
    const series = healthy({ slaves0: s("redis_connected_slaves", { instance: r0 }, "4x60 3x300"), ok0: ok(sentinels[0]), ok1: ok(sentinels[1]), ok2: ok(sentinels[2]) });
    passes(
      testRules(c, series, [
        { at: "4m", alert: "RedisReplicationBroken", fires: [] },
        { at: "8m", alert: "RedisReplicationBroken", fires: [{ labels: { instance: r0, job, reason: "replicas-missing" }, value: "3" }] },
        { at: "8m", alert: "RedisSentinelQuorumUnreachable", fires: [{ labels: { master_name: "mymaster" }, value: "3" }] },
      ]),
    );
  });

  test("slow sentinels wait longer before RedisMasterDown: down-after 30 s plus failover-timeout 60 s", () => {
    const c = config({ sentinel: { downAfterMilliseconds: 30_000, failoverTimeout: 60_000 } });
    const rules = alertRuleGroups(c)[0].rules;
    expect(rules.find((r) => r.alert === "RedisMasterDown")?.for).toBe("90s");
    expect(rules.find((r) => r.alert === "RedisSentinelQuorumUnreachable")?.for).toBe("30s");
    expect(rules.find((r) => r.alert === "RedisInstanceDown")?.for).toBe("3m");
    const series = healthy({ info0: s("redis_instance_info", { instance: r0, role: "master" }, "1x60 stale") });
    passes(
      testRules(c, series, [
        { at: "6m", alert: "RedisMasterDown", fires: [] },
        { at: "7m", alert: "RedisMasterDown", fires: [{ labels: { job, role: "master" } }] },
      ]),
    );
  });

  test("the master name labels every rule and filters the sentinel series", () => {
    const c = config({ topology: { masterName: "spoke-redis" } });
    const [group] = alertRuleGroups(c);
    expect(group.name).toBe("redis-sentinel-spoke-redis");
    for (const rule of group.rules) {
      expect(rule.labels.master_name).toBe("spoke-redis");
      expect(["critical", "warning"]).toContain(rule.labels.severity);
      expect(rule.annotations.summary).not.toBe("");
      expect(rule.annotations.description).not.toBe("");
    }
    expect(group.rules.find((r) => r.alert === "RedisSentinelQuorumUnreachable")?.expr).toContain('master_name="spoke-redis"');
  });

  test("the selector picks the cluster's series: another job's dead master raises nothing", () => {
    const options = { selector: 'job="redis-ha", cluster="a"' };
    const series = [
      s("redis_instance_info", { instance: r0, role: "master", cluster: "a" }, steady(1)),
      s("redis_sentinel_master_ok_sentinels", { instance: sentinels[0], cluster: "a", master_name: "mymaster" }, steady(3)),
      s("redis_up", { instance: r1, cluster: "b" }, steady(0)),
    ];
    passes(testRules(config(), series, [{ at: "10m", alert: "RedisMasterDown", fires: [] }, { at: "10m", alert: "RedisInstanceDown", fires: [] }], options));
    expect(alertRuleGroups(config())[0].rules[0].expr).toBe(`absent(redis_instance_info{${DEFAULT_ALERT_SELECTOR}, role="master"})`);
  });

  test("a separate sentinel job is watched for RedisInstanceDown too", () => {
    const options = { sentinelSelector: 'job="redis-sentinel"' };
    const series = [...healthy(), s("redis_up", { job: "redis-sentinel", instance: sentinels[0] }, "0x360")];
    passes(testRules(config(), series, [{ at: "10m", alert: "RedisInstanceDown", fires: [{ labels: { job: "redis-sentinel", instance: sentinels[0] } }] }], options));
  });
});

describe("alertRuleGroups and renderAlertRules", () => {
  test("the rules file holds exactly the groups, for a PrometheusRule's spec.groups", () => {
    const c = config({ topology: { masterName: "spoke-redis" } });
    expect(parse(renderAlertRules(c))).toEqual({ groups: alertRuleGroups(c) });
  });

  test("options are checked, every problem at once", () => {
    expect(() =>
      alertRuleGroups(config(), {
        selector: "{job=\"redis-ha\"}",
        memoryUsageRatio: 90,
        replicaLagSeconds: -1,
        failoverAlertMinutes: 0.5,
      }),
    ).toThrow(
      [
        "Invalid alert rule options (5 problems):",
        '  - selector = "{job=\\"redis-ha\\"}": must be PromQL label matchers without braces, such as job="redis-ha" or job="redis-ha", cluster="spoke"',
        '  - sentinelSelector = "{job=\\"redis-ha\\"}": must be PromQL label matchers without braces, such as job="redis-ha" or job="redis-ha", cluster="spoke"',
        "  - memoryUsageRatio = 90: must be a share of maxmemory above 0 and at most 1, such as 0.9",
        "  - replicaLagSeconds = -1: must be 0 or more seconds, such as 1",
        "  - failoverAlertMinutes = 0.5: must be a whole number of minutes, at least 1, such as 5",
      ].join("\n"),
    );
  });
});
