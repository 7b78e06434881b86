import {
  checkNodes,
  renderBootScript,
  renderCluster,
  renderRedisConf,
  renderSentinelConf,
  renderSystemdUnits,
} from "../../src/render";
import { parseSpec, type RedisSentinelSpec } from "../../src/spec";

const auth = { secrets: { source: "env", prefix: "REDIS_HA_" } } as const;
const addresses = ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
const config = (spec: Partial<RedisSentinelSpec> = {}) => parseSpec({ auth, ...spec });

/** The directive lines of a config file: no comments, no blank lines. */
const directives = (text: string) => text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));

describe("rendered text (snapshots, for reviewers)", () => {
  const nodes = renderCluster(config(), { addresses });
  test("master redis.conf", () => expect(nodes[0].redisConf).toMatchSnapshot());
  test("replica redis.conf", () => expect(nodes[1].redisConf).toMatchSnapshot());
  test("sentinel.conf", () => expect(nodes[1].sentinelConf).toMatchSnapshot());
  test("boot script", () => expect(nodes[0].bootScript).toMatchSnapshot());
  test("systemd units", () => expect(nodes[0].units).toMatchSnapshot());
});

describe("redis.conf", () => {
  test("every node includes the secret file that holds masterauth, the master included", () => {
    for (const index of [0, 1, 2]) {
      expect(directives(renderRedisConf(config(), { addresses }, index))).toContain("include redis-auth.conf");
    }
  });

  test("the secret file is included before `dir` changes the working directory", () => {
    const lines = directives(renderRedisConf(config(), { addresses }, 0));
    expect(lines.indexOf("include redis-auth.conf")).toBeLessThan(lines.indexOf("dir data"));
  });

  test("only replicas name the initial master, and each node announces its own address", () => {
    const c = config({ topology: { initialMaster: 1 } });
    const [a, b, d] = [0, 1, 2].map((i) => directives(renderRedisConf(c, { addresses }, i)));
    expect(a).toContain("replicaof 10.0.2.10 6379");
    expect(b.some((l) => l.startsWith("replicaof"))).toBe(false);
    expect(d).toContain("replicaof 10.0.2.10 6379");
    expect(a).toContain("replica-announce-ip 10.0.1.10");
    expect(b).toContain("replica-announce-ip 10.0.2.10");
    expect(d).toContain("replica-announce-ip 10.0.3.10");
  });

  test("binds the node's own address, then the extra addresses", () => {
    const lines = directives(renderRedisConf(config({ redis: { extraBindAddresses: ["127.0.0.1"] } }), { addresses }, 2));
    expect(lines).toContain("bind 10.0.3.10 127.0.0.1");
  });

  test("maps every Redis setting of the spec to its directive", () => {
    const c = config({
      topology: { replicaPriority: [100, 50, 0] },
      redis: {
        port: 6380,
        protectedMode: false,
        persistence: {
          save: [{ seconds: 120, changes: 5 }],
          stopWritesOnBgsaveError: false,
          rdbCompression: false,
          dbFilename: "spoke.rdb",
          appendOnly: false,
          appendFsync: "always",
        },
        replication: {
          disklessSync: true,
          disklessSyncDelay: 0,
          pingReplicaPeriod: 5,
          timeout: 30,
          minReplicasToWrite: 2,
          minReplicasMaxLag: 4,
        },
        memory: { maxmemory: "512mb", policy: "volatile-ttl" },
        clients: { maxclients: 500, timeout: 0, tcpKeepalive: 60 },
        loglevel: "warning",
      },
      sentinel: { port: 26380 },
    });
    const lines = directives(renderRedisConf(c, { addresses }, 1));
    for (const expected of [
      "protected-mode no",
      "port 6380",
      "save 120 5",
      "stop-writes-on-bgsave-error no",
      "rdbcompression no",
      "dbfilename spoke.rdb",
      "appendonly no",
      "appendfsync always",
      "repl-diskless-sync yes",
      "repl-diskless-sync-delay 0",
      "repl-ping-replica-period 5",
      "repl-timeout 30",
      "min-replicas-to-write 2",
      "min-replicas-max-lag 4",
      "maxmemory 512mb",
      "maxmemory-policy volatile-ttl",
      "maxclients 500",
      "timeout 0",
      "tcp-keepalive 60",
      "loglevel warning",
      "replica-priority 50",
      "replicaof 10.0.1.10 6380",
      "replica-announce-port 6380",
    ]) {
      expect(lines).toContain(expected);
    }
  });

  test("an empty save list turns RDB snapshots off", () => {
    const lines = directives(renderRedisConf(config({ redis: { persistence: { save: [] } } }), { addresses }, 0));
    expect(lines).toContain('save ""');
    expect(lines.filter((l) => l.startsWith("save"))).toHaveLength(1);
  });

  test("runs in the foreground and logs to standard output", () => {
    const lines = directives(renderRedisConf(config(), { addresses }, 0));
    expect(lines).toEqual(expect.arrayContaining(["daemonize no", 'logfile ""', "supervised auto"]));
  });
});

describe("sentinel.conf", () => {
  test("monitors the initial master with the quorum, and announces its own address", () => {
    const c = config({ topology: { nodeCount: 5, initialMaster: 2, masterName: "spoke-redis" } });
    const five = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"];
    const lines = directives(renderSentinelConf(c, { addresses: five }, 4));
    expect(lines).toContain("sentinel monitor spoke-redis 10.0.0.3 6379 3");
    expect(lines).toContain("sentinel announce-ip 10.0.0.5");
    expect(lines).toContain("bind 10.0.0.5");
  });

  test("maps the sentinel settings, and the scripts when given", () => {
    const c = config({
      sentinel: {
        port: 26000,
        downAfterMilliseconds: 3000,
        failoverTimeout: 7000,
        parallelSyncs: 2,
        notificationScript: "/etc/redis-ha/notify.sh",
        clientReconfigScript: "/etc/redis-ha/reconfig.sh",
      },
    });
    const lines = directives(renderSentinelConf(c, { addresses }, 0));
    for (const expected of [
      "port 26000",
      "sentinel announce-port 26000",
      "sentinel down-after-milliseconds mymaster 3000",
      "sentinel failover-timeout mymaster 7000",
      "sentinel parallel-syncs mymaster 2",
      "sentinel notification-script mymaster /etc/redis-ha/notify.sh",
      "sentinel client-reconfig-script mymaster /etc/redis-ha/reconfig.sh",
    ]) {
      expect(lines).toContain(expected);
    }
    expect(directives(renderSentinelConf(config(), { addresses }, 0)).some((l) => l.includes("script mymaster"))).toBe(false);
  });

  test("includes the secret file after `sentinel monitor`, which auth-pass needs first", () => {
    const lines = directives(renderSentinelConf(config(), { addresses }, 0));
    expect(lines.indexOf("include sentinel-auth.conf")).toBeGreaterThan(
      lines.findIndex((l) => l.startsWith("sentinel monitor")),
    );
  });

  test("holds no sentinel myid: each sentinel makes its own", () => {
    for (const node of renderCluster(config(), { addresses })) expect(node.sentinelConf).not.toMatch(/myid/);
  });
});

describe("no secret in rendered text", () => {
  test.each([
    ["environment variables, ACL on", { auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }],
    ["a directory, ACL off", { auth: { secrets: { source: "directory", path: "/run/secrets/redis" } }, acl: { enabled: false } }],
  ] as const)("with the passwords in %s, no rendered file sets a password or a user", (_, spec) => {
    for (const node of renderCluster(parseSpec(spec), { addresses })) {
      for (const text of [node.redisConf, node.sentinelConf]) {
        expect(
          directives(text).filter((l) => /^(requirepass|masterauth|masteruser|aclfile|user |sentinel (auth-pass|sentinel-pass))/.test(l)),
        ).toEqual([]);
      }
    }
  });
});

describe("boot script", () => {
  test("reads each password from where auth.secrets points", () => {
    const env = parseSpec({ auth: { secrets: { source: "env", prefix: "SPOKE_" } } });
    expect(renderBootScript(env, { addresses }, 0)).toContain(`variable="SPOKE_$(printf '%s' "$1" | tr 'a-z.-' 'A-Z__')"`);
    expect(renderBootScript(env, { addresses }, 0)).toContain('user_password_0="$(secret app-password)"');
    const dir = parseSpec({ auth: { secrets: { source: "directory", path: "/run/secrets/pw" } } });
    expect(renderBootScript(dir, { addresses }, 0)).toContain('value="$(cat -- "/run/secrets/pw/$1")"');
  });

  test("writes sentinel auth-user and auth-pass for the configured master name", () => {
    const script = renderBootScript(config({ topology: { masterName: "spoke-redis" } }), { addresses }, 1);
    expect(script).toContain('echo "sentinel auth-user spoke-redis sentinel"');
    expect(script).toContain('echo "sentinel auth-pass spoke-redis $(quote "$sentinel_password")"');
  });
});

describe("systemd units", () => {
  test("run in the node's home directory with a umask that keeps rewritten configs private", () => {
    const { redis, sentinel } = renderSystemdUnits(config());
    for (const unit of [redis, sentinel]) {
      expect(unit).toContain("WorkingDirectory=/var/lib/redis-ha\n");
      expect(unit).toContain("ReadWritePaths=/var/lib/redis-ha\n");
      expect(unit).toContain("UMask=0077\n");
      expect(unit).toContain("User=redis\n");
      expect(unit).toContain("RequiresMountsFor=/var/lib/redis-ha/data\n");
    }
    expect(redis).toContain("ExecStart=/usr/bin/redis-server redis.conf\n");
    expect(sentinel).toContain("ExecStart=/usr/bin/redis-sentinel sentinel.conf\n");
  });

  test("a Redis without persistence restarts only after the sentinels could fail it over", () => {
    expect(renderSystemdUnits(config()).redis).toContain("RestartSec=1\n");
    const volatile = config({ redis: { persistence: { save: [], appendOnly: false } }, sentinel: { downAfterMilliseconds: 4000 } });
    expect(renderSystemdUnits(volatile).redis).toContain("RestartSec=8\n");
  });
});

describe("node addresses", () => {
  test("one address per node, each distinct and well-formed", () => {
    expect(() => checkNodes(config(), { addresses: ["10.0.0.1", "10.0.0.1", "10.0.0 .3", "10.0.0.4"] })).toThrow(
      "Invalid Redis Sentinel spec (3 problems):\n" +
        '  - addresses = ["10.0.0.1","10.0.0.1","10.0.0 .3","10.0.0.4"]: must hold one address per node: 3 (topology.nodeCount), not 4\n' +
        '  - addresses[1] = "10.0.0.1": is also addresses[0]: every node needs its own address\n' +
        "  - addresses[2] = \"10.0.0 .3\": must be an IP address or a host name (letters, digits, '.', ':' and '-')",
    );
  });

  test("stable host names are accepted", () => {
    expect(() =>
      checkNodes(config(), { addresses: ["redis-0.redis-headless", "redis-1.redis-headless", "redis-2.redis-headless"] }),
    ).not.toThrow();
  });
});

describe("nodes known by host name (Kubernetes)", () => {
  const names = ["redis-0.redis-headless.spoke.svc.cluster.local", "redis-1.redis-headless.spoke.svc.cluster.local", "redis-2.redis-headless.spoke.svc.cluster.local"];

  test("bind every interface of the pod, announce the stable name, and let Sentinel resolve names before monitoring", () => {
    const redis = directives(renderRedisConf(config(), { addresses: names }, 1));
    expect(redis).toContain("bind * -::*");
    expect(redis).toContain(`replica-announce-ip ${names[1]}`);
    expect(redis).toContain(`replicaof ${names[0]} 6379`);
    const sentinel = directives(renderSentinelConf(config(), { addresses: names }, 1));
    expect(sentinel).toContain("bind * -::*");
    expect(sentinel).toContain(`sentinel announce-ip ${names[1]}`);
    const monitor = sentinel.indexOf(`sentinel monitor mymaster ${names[0]} 6379 2`);
    expect(monitor).toBeGreaterThan(sentinel.indexOf("sentinel resolve-hostnames yes"));
    expect(monitor).toBeGreaterThan(sentinel.indexOf("sentinel announce-hostnames yes"));
  });

  test("IP addresses keep their own bind and no host-name settings", () => {
    const sentinel = directives(renderSentinelConf(config(), { addresses }, 0));
    expect(sentinel).toContain("bind 10.0.1.10");
    expect(sentinel.some((l) => l.includes("hostnames"))).toBe(false);
  });
});

describe("sentinels apart from Redis", () => {
  const sentinelAddresses = ["10.0.1.20", "10.0.2.20", "10.0.3.20"];

  test("sentinel.conf binds and announces the sentinel's own address; the boot script asks those sentinels", () => {
    const sentinel = directives(renderSentinelConf(config(), { addresses, sentinelAddresses }, 2));
    expect(sentinel).toEqual(expect.arrayContaining(["bind 10.0.3.20", "sentinel announce-ip 10.0.3.20", "sentinel monitor mymaster 10.0.1.10 6379 2"]));
    const boot = renderBootScript(config(), { addresses, sentinelAddresses }, 2);
    expect(boot).toContain("nodes=(10.0.1.10 10.0.2.10 10.0.3.10)");
    expect(boot).toContain("sentinels=(10.0.1.20 10.0.2.20 10.0.3.20)");
  });

  test("one sentinel address per node, each its own", () => {
    expect(() => checkNodes(config(), { addresses, sentinelAddresses: ["10.0.1.20", "10.0.1.20"] })).toThrow(
      "Invalid Redis Sentinel spec (2 problems):\n" +
        '  - sentinelAddresses = ["10.0.1.20","10.0.1.20"]: must hold one address per node: 3 (topology.nodeCount), not 2\n' +
        '  - sentinelAddresses[1] = "10.0.1.20": is also sentinelAddresses[0]: every node needs its own address',
    );
  });
});
