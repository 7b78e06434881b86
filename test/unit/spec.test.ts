import { parseSpec, secretKeys, SpecError, type SpecProblem } from "../../src/spec";

const auth = { secrets: { source: "env", prefix: "REDIS_HA_" } } as const;

function problemsOf(input: unknown): readonly SpecProblem[] {
  try {
    parseSpec(input);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  throw new Error("expected the spec to be rejected");
}

describe("parseSpec defaults", () => {
  test("a spec with only a password reference gets every default", () => {
    const config = parseSpec({ auth });
    expect(config.topology).toEqual({
      nodeCount: 3,
      initialMaster: 0,
      masterName: "mymaster",
      replicaPriority: [100, 100, 100],
    });
    expect(config.sentinel).toEqual({
      port: 26379,
      quorum: 2,
      downAfterMilliseconds: 5000,
      failoverTimeout: 10000,
      parallelSyncs: 1,
    });
    expect(config.redis.port).toBe(6379);
    expect(config.redis.protectedMode).toBe(true);
    expect(config.redis.extraBindAddresses).toEqual([]);
    expect(config.redis.persistence).toEqual({
      save: [
        { seconds: 900, changes: 1 },
        { seconds: 300, changes: 10 },
        { seconds: 60, changes: 10000 },
      ],
      stopWritesOnBgsaveError: true,
      rdbCompression: true,
      dbFilename: "dump.rdb",
      appendOnly: true,
      appendFsync: "everysec",
    });
    expect(config.redis.replication).toEqual({
      disklessSync: false,
      disklessSyncDelay: 5,
      pingReplicaPeriod: 2,
      timeout: 10,
      minReplicasToWrite: 1,
      minReplicasMaxLag: 2,
    });
    expect(config.redis.memory).toEqual({ maxmemory: "2gb", policy: "allkeys-lru" });
    expect(config.redis.clients).toEqual({ maxclients: 10000, timeout: 300, tcpKeepalive: 300 });
    expect(config.redis.loglevel).toBe("notice");
    expect(config.auth).toEqual({ secrets: { source: "env", prefix: "REDIS_HA_" } });
    expect(config.acl).toEqual({ enabled: true, users: [{ name: "app", rules: "~* &* +@all -@admin -@dangerous +info" }] });
    expect(config.tls).toEqual({ enabled: false, authClients: "optional" });
  });

  test("ACL mode names one password per user; password mode names one", () => {
    expect(secretKeys(parseSpec({ auth }))).toEqual(["app-password", "admin-password", "replication-password", "sentinel-password"]);
    expect(secretKeys(parseSpec({ auth, acl: { users: [{ name: "spoke" }, { name: "reports", rules: "~* -@all +@read" }] } }))).toEqual([
      "spoke-password",
      "reports-password",
      "admin-password",
      "replication-password",
      "sentinel-password",
    ]);
    expect(secretKeys(parseSpec({ auth, acl: { enabled: false } }))).toEqual(["password"]);
    expect(parseSpec({ auth, acl: { enabled: false } }).acl.users).toEqual([]);
  });

  test.each([
    [3, 2],
    [5, 3],
    [7, 4],
  ])("the default quorum of %i nodes is the majority, %i", (nodeCount, quorum) => {
    expect(parseSpec({ topology: { nodeCount }, auth }).sentinel.quorum).toBe(quorum);
  });

  test("given values are kept", () => {
    const config = parseSpec({
      topology: { nodeCount: 5, initialMaster: 2, masterName: "spoke-redis", replicaPriority: [10, 20, 30, 0, 100] },
      sentinel: { quorum: 4, downAfterMilliseconds: 3000, failoverTimeout: 9000, parallelSyncs: 2 },
      redis: { memory: { maxmemory: "512mb", policy: "volatile-lru" }, persistence: { save: [] } },
      auth: { secrets: { source: "directory", path: "/run/secrets/redis" } },
    });
    expect(config.topology.replicaPriority).toEqual([10, 20, 30, 0, 100]);
    expect(config.sentinel.quorum).toBe(4);
    expect(config.redis.persistence.save).toEqual([]);
    expect(config.auth.secrets).toEqual({ source: "directory", path: "/run/secrets/redis" });
  });
});

test("a replica lag bound at or above down-after is accepted while writes need no replica", () => {
  const config = parseSpec({ auth, redis: { replication: { minReplicasToWrite: 0, minReplicasMaxLag: 10 } } });
  expect(config.redis.replication.minReplicasMaxLag).toBe(10);
});

describe("parseSpec rejects bad input with the field path, the value and a fix", () => {
  test.each<[string, unknown, SpecProblem[]]>([
    [
      "no password reference",
      {},
      [
        {
          path: "auth",
          value: "(missing)",
          message: 'says where the passwords live, and is required: add auth: { secrets: { source: "env", prefix: "REDIS_HA_" } }',
        },
      ],
    ],
    [
      "an even node count",
      { topology: { nodeCount: 4 }, auth },
      [{ path: "topology.nodeCount", value: "4", message: "must be odd, so that the sentinels always form a majority. Use 3, 5 or 7" }],
    ],
    [
      "too few nodes",
      { topology: { nodeCount: 1 }, auth },
      [
        {
          path: "topology.nodeCount",
          value: "1",
          message: "a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. Use 3, 5 or 7",
        },
      ],
    ],
    [
      "two nodes: one problem, not also 'must be odd'",
      { topology: { nodeCount: 2 }, auth },
      [
        {
          path: "topology.nodeCount",
          value: "2",
          message: "a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. Use 3, 5 or 7",
        },
      ],
    ],
    [
      "too many nodes",
      { topology: { nodeCount: 11 }, auth },
      [{ path: "topology.nodeCount", value: "11", message: "at most 9 nodes are supported. Use 3, 5 or 7" }],
    ],
    [
      "a fractional node count",
      { topology: { nodeCount: 3.5 }, auth },
      [{ path: "topology.nodeCount", value: "3.5", message: "nodeCount must be a whole number" }],
    ],
    [
      "a master index past the last node",
      { topology: { initialMaster: 3 }, auth },
      [{ path: "topology.initialMaster", value: "3", message: "must be a node index from 0 to 2" }],
    ],
    [
      "a master name with a space",
      { topology: { masterName: "my master" }, auth },
      [
        {
          path: "topology.masterName",
          value: '"my master"',
          message: "use 1 to 64 letters, digits, '.', '_' or '-', such as spoke-redis",
        },
      ],
    ],
    [
      "replica priorities that do not match the node count",
      { topology: { replicaPriority: [100, 100] }, auth },
      [{ path: "topology.replicaPriority", value: "[100,100]", message: "must have one entry per node: 3 entries" }],
    ],
    [
      "no replica that may ever be promoted",
      { topology: { replicaPriority: [100, 0, 0] }, auth },
      [
        {
          path: "topology.replicaPriority",
          value: "[100,0,0]",
          message:
            "every replica has priority 0, so no failover can ever happen. Give at least one replica a priority above 0 (100 is the default)",
        },
      ],
    ],
    [
      "a negative replica priority",
      { topology: { replicaPriority: [100, -1, 100] }, auth },
      [{ path: "topology.replicaPriority[1]", value: "-1", message: "must be 0 (never promoted) or more" }],
    ],
    [
      "a quorum below the majority",
      { sentinel: { quorum: 1 }, auth },
      [
        {
          path: "sentinel.quorum",
          value: "1",
          message: "is less than a majority of 3 sentinels, so a minority could start a failover. Use 2 to 3",
        },
      ],
    ],
    [
      "a quorum of zero",
      { sentinel: { quorum: 0 }, auth },
      [{ path: "sentinel.quorum", value: "0", message: "must be at least 1: a majority of the sentinels" }],
    ],
    [
      "a quorum above the node count",
      { topology: { nodeCount: 5 }, sentinel: { quorum: 6 }, auth },
      [{ path: "sentinel.quorum", value: "6", message: "is more than the 5 sentinels that exist. Use 3 to 5" }],
    ],
    [
      "a failover timeout not above down-after",
      { sentinel: { downAfterMilliseconds: 5000, failoverTimeout: 5000 }, auth },
      [
        {
          path: "sentinel.failoverTimeout",
          value: "5000",
          message: "must be greater than sentinel.downAfterMilliseconds (5000). Use at least twice it, such as 10000",
        },
      ],
    ],
    [
      "a tiny down-after",
      { sentinel: { downAfterMilliseconds: 10 }, auth },
      [{ path: "sentinel.downAfterMilliseconds", value: "10", message: "must be at least 100 ms; 5000 is the usual value" }],
    ],
    [
      "more parallel syncs than replicas",
      { sentinel: { parallelSyncs: 3 }, auth },
      [{ path: "sentinel.parallelSyncs", value: "3", message: "must be at most the 2 replicas. Use 1 to 2" }],
    ],
    [
      "a relative notification script",
      { sentinel: { notificationScript: "notify.sh" }, auth },
      [
        {
          path: "sentinel.notificationScript",
          value: '"notify.sh"',
          message: "notificationScript must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /etc/redis-ha/notify.sh",
        },
      ],
    ],
    [
      "sentinel and redis on one port",
      { sentinel: { port: 6379 }, auth },
      [{ path: "sentinel.port", value: "6379", message: "must differ from redis.port (6379). 26379 is the usual value" }],
    ],
    [
      "a port out of range",
      { redis: { port: 70000 }, auth },
      [{ path: "redis.port", value: "70000", message: "port must be a TCP port from 1 to 65535" }],
    ],
    [
      "a maxmemory that is not a size",
      { redis: { memory: { maxmemory: "2 gigs" } }, auth },
      [{ path: "redis.memory.maxmemory", value: '"2 gigs"', message: 'must be a size string above zero such as "512mb" or "2gb"' }],
    ],
    [
      "an unknown eviction policy",
      { redis: { memory: { policy: "lru" } }, auth },
      [
        {
          path: "redis.memory.policy",
          value: '"lru"',
          message:
            "must be one of noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl",
        },
      ],
    ],
    [
      "an unknown appendfsync",
      { redis: { persistence: { appendFsync: "sometimes" } }, auth },
      [{ path: "redis.persistence.appendFsync", value: '"sometimes"', message: 'must be "always", "everysec" or "no"' }],
    ],
    [
      "binding every interface",
      { redis: { extraBindAddresses: ["0.0.0.0"] }, auth },
      [
        {
          path: "redis.extraBindAddresses[0]",
          value: '"0.0.0.0"',
          message:
            "binding every interface exposes Redis wherever the node has an address. The node's own address is always bound; list only extra addresses, such as 127.0.0.1",
        },
      ],
    ],
    [
      "a bind address that is not an address",
      { redis: { extraBindAddresses: ["localhost"] }, auth },
      [{ path: "redis.extraBindAddresses[0]", value: '"localhost"', message: "must be an IPv4 or IPv6 address, such as 127.0.0.1" }],
    ],
    [
      "a replication timeout not above the ping period",
      { redis: { replication: { pingReplicaPeriod: 10, timeout: 10 } }, auth },
      [
        {
          path: "redis.replication.timeout",
          value: "10",
          message: "must be greater than redis.replication.pingReplicaPeriod (10), or replicas time out between pings",
        },
      ],
    ],
    [
      "a replica lag bound not below down-after",
      { redis: { replication: { minReplicasMaxLag: 5 } }, auth },
      [
        {
          path: "redis.replication.minReplicasMaxLag",
          value: "5",
          message:
            "must be below sentinel.downAfterMilliseconds (5000 ms), or a master cut off from its replicas keeps acknowledging writes after the sentinels promote another node, and loses them all. Use 1 to 4",
        },
      ],
    ],
    [
      "a down-after too short for any replica lag bound while writes need a replica",
      { sentinel: { downAfterMilliseconds: 900 }, auth },
      [
        {
          path: "redis.replication.minReplicasMaxLag",
          value: "2",
          message:
            "must be below sentinel.downAfterMilliseconds (900 ms), or a master cut off from its replicas keeps acknowledging writes after the sentinels promote another node, and loses them all. Raise sentinel.downAfterMilliseconds above 1000, or set redis.replication.minReplicasToWrite to 0",
        },
      ],
    ],
    [
      "more replicas required for writes than exist",
      { redis: { replication: { minReplicasToWrite: 3 } }, auth },
      [
        {
          path: "redis.replication.minReplicasToWrite",
          value: "3",
          message: "must be at most the 2 replicas, or the master never accepts a write. Use 0 to 2; 1 is the default",
        },
      ],
    ],
    [
      "an unknown log level",
      { redis: { loglevel: "loud" }, auth },
      [{ path: "redis.loglevel", value: '"loud"', message: 'must be "debug", "verbose", "notice" or "warning"' }],
    ],
    [
      "a misspelt field",
      { redis: { maxmemory: "1gb" }, auth },
      [
        {
          path: "redis.maxmemory",
          value: "(present)",
          message: "unknown field. Check the spelling; the fields are listed in the README's spec reference",
        },
      ],
    ],
    [
      "an SSM parameter store with a relative path and no real region",
      { auth: { secrets: { source: "ssm-parameters", path: "redis/prod", region: "Ireland" } } },
      [
        {
          path: "auth.secrets.path",
          value: "(hidden)",
          message: "auth.secrets.path must be an SSM parameter path without a trailing slash, such as /redis-sentinel/prod",
        },
        { path: "auth.secrets.region", value: "(hidden)", message: "must be an AWS region, such as eu-west-1" },
      ],
    ],
    [
      "a secret store with a bad variable prefix",
      { auth: { secrets: { source: "env", prefix: "redis-" } } },
      [{ path: "auth.secrets.prefix", value: "(hidden)", message: "an environment variable prefix in capitals, such as REDIS_HA_" }],
    ],
  ])("%s", (_title, input, expected) => {
    expect(problemsOf(input)).toEqual(expected);
  });

  test("a secret directory that would run a command in the boot script is refused", () => {
    expect(problemsOf({ auth: { secrets: { source: "directory", path: "/run/$(reboot)" } } })).toEqual([
      {
        path: "auth.secrets.path",
        value: "(hidden)",
        message: "auth.secrets.path must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /etc/redis-ha/notify.sh",
      },
    ]);
  });

  test("a literal password is refused and never echoed", () => {
    let message = "";
    try {
      parseSpec({ auth: { secrets: "hunter2-literal" } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      "Invalid Redis Sentinel spec (1 problem):\n" +
        '  - auth.secrets = (hidden): a literal secret is not accepted: the spec says where secrets live. Use { source: "env", prefix: "REDIS_HA_" }, { source: "directory", path: "/run/secrets/redis-ha" } or { source: "ssm-parameters", path: "/redis-sentinel/prod", region: "eu-west-1" }',
    );
    expect(message).not.toContain("hunter2-literal");
  });

  test("one error lists every problem, field errors and cross-field rules together", () => {
    expect(() =>
      parseSpec({
        topology: { masterName: "bad name" },
        sentinel: { quorum: 1, failoverTimeout: 1000 },
        redis: { port: "6379" },
        auth,
      }),
    ).toThrow(
      "Invalid Redis Sentinel spec (4 problems):\n" +
        "  - topology.masterName = \"bad name\": use 1 to 64 letters, digits, '.', '_' or '-', such as spoke-redis\n" +
        '  - redis.port = "6379": port must be a whole number\n' +
        "  - sentinel.quorum = 1: is less than a majority of 3 sentinels, so a minority could start a failover. Use 2 to 3\n" +
        "  - sentinel.failoverTimeout = 1000: must be greater than sentinel.downAfterMilliseconds (5000). Use at least twice it, such as 10000",
    );
  });
});
