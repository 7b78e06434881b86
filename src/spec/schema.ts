import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import {
  DEFAULT_DOWN_AFTER_MILLISECONDS,
  DEFAULT_FAILOVER_TIMEOUT_MILLISECONDS,
  DEFAULT_MASTER_NAME,
  DEFAULT_MAXMEMORY,
  DEFAULT_MAXMEMORY_POLICY,
  DEFAULT_MIN_REPLICAS_MAX_LAG,
  DEFAULT_MIN_REPLICAS_TO_WRITE,
  DEFAULT_PING_REPLICA_PERIOD,
  DEFAULT_REPL_TIMEOUT,
  DEFAULT_NODE_COUNT,
  DEFAULT_PARALLEL_SYNCS,
  DEFAULT_REDIS_PORT,
  DEFAULT_SAVE_RULES,
  DEFAULT_SENTINEL_PORT,
  DEFAULT_APP_USER_RULES,
  MAX_NODE_COUNT,
} from "./defaults";
import { AWS_REGION } from "./aws";
import { REDIS_COMMAND_TABLE } from "./redis-commands";
import { isObject } from "./values";
import { parseSize } from "./size";

// No `abort` on any check: in zod 4 an explicit abort also stops the cross-field rules below, and one error
// should list every problem. Rules that would repeat another's complaint guard themselves instead.
const int = (field: string) => z.number({ error: `${field} must be a whole number` }).int(`${field} must be a whole number`);
const port = (field: string) =>
  int(field).min(1, `${field} must be a TCP port from 1 to 65535`).max(65535, `${field} must be a TCP port from 1 to 65535`);
const absolutePath = (field: string) =>
  z
    .string()
    // Letters, digits and . _ - / only: the rendered scripts use paths inside double quotes, where $ and ` expand.
    .regex(/^\/[A-Za-z0-9._\/-]*$/, `${field} must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /etc/redis-ha/notify.sh`);

const SECRET_STORE_EXAMPLES =
  '{ source: "env", prefix: "REDIS_HA_" }, { source: "directory", path: "/run/secrets/redis-ha" } or { source: "ssm-parameters", path: "/redis-sentinel/prod", region: "eu-west-1" }';

const ssmPath = (field: string) =>
  z
    .string()
    .regex(/^\/[A-Za-z0-9_.\-/]{1,900}[A-Za-z0-9_.-]$/, `${field} must be an SSM parameter path without a trailing slash, such as /redis-sentinel/prod`);
const awsRegion = z.string().regex(AWS_REGION, "must be an AWS region, such as eu-west-1");

/**
 * Where a cluster's secrets live: one place holding one entry per secret, named by `secretKeys` (such as
 * `app-password`). The spec never holds a secret itself.
 */
const secretStore = (field: string, examples: string) =>
  z.discriminatedUnion(
    "source",
    [
      z.strictObject({
        source: z.literal("env"),
        /** Each secret is the environment variable PREFIX + its key in capitals, `-` and `.` as `_` (REDIS_HA_APP_PASSWORD). */
        prefix: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable prefix in capitals, such as REDIS_HA_"),
      }),
      z.strictObject({
        source: z.literal("directory"),
        /** Each secret is the file of its key's name in this directory, such as a mounted Kubernetes Secret. */
        path: absolutePath(field),
      }),
      z.strictObject({
        source: z.literal("ssm-parameters"),
        /** Each secret is the SSM SecureString parameter PATH/KEY; the node's role must be allowed to read them. */
        path: ssmPath(field),
        /** AWS region of the parameters. */
        region: awsRegion,
      }),
    ],
    {
      error: (issue) =>
        typeof issue.input === "string"
          ? `a literal secret is not accepted: the spec says where secrets live. Use ${examples}`
          : `must be ${examples}`,
    },
  );

const topology = z
  .strictObject({
    /**
     * Nodes in the cluster, each running one Redis server and one Sentinel. Odd, at least 3.
     * @default DEFAULT_NODE_COUNT (3)
     */
    nodeCount: int("nodeCount")
      .min(3, "a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. Use 3, 5 or 7")
      .max(MAX_NODE_COUNT, `at most ${MAX_NODE_COUNT} nodes are supported. Use 3, 5 or 7`)
      .refine(
        (n) => !Number.isInteger(n) || n < 3 || n > MAX_NODE_COUNT || n % 2 === 1,
        "must be odd, so that the sentinels always form a majority. Use 3, 5 or 7",
      )
      .default(DEFAULT_NODE_COUNT),
    /** Zero-based index of the node that starts as master. @default 0 */
    initialMaster: int("initialMaster").min(0, "must be a node index from 0").default(0),
    /** Name the sentinels monitor the master under. @default DEFAULT_MASTER_NAME ("mymaster") */
    masterName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, "use 1 to 64 letters, digits, '.', '_' or '-', such as spoke-redis")
      .default(DEFAULT_MASTER_NAME),
    /**
     * `replica-priority` per node, one entry per node. Lower is promoted first; 0 means never promoted.
     * @default DEFAULT_REPLICA_PRIORITY (100) on every node
     */
    replicaPriority: z.array(int("replicaPriority").min(0, "must be 0 (never promoted) or more")).optional(),
  })
  .prefault({});

const sentinel = z
  .strictObject({
    /** Sentinel port. @default DEFAULT_SENTINEL_PORT (26379) */
    port: port("port").default(DEFAULT_SENTINEL_PORT),
    /** Sentinels that must agree the master is down. At least a majority of the nodes. @default majority */
    quorum: int("quorum").min(1, "must be at least 1: a majority of the sentinels").optional(),
    /** @default DEFAULT_DOWN_AFTER_MILLISECONDS (5000) */
    downAfterMilliseconds: int("downAfterMilliseconds")
      .min(100, "must be at least 100 ms; 5000 is the usual value")
      .default(DEFAULT_DOWN_AFTER_MILLISECONDS),
    /** Must be greater than downAfterMilliseconds. @default DEFAULT_FAILOVER_TIMEOUT_MILLISECONDS (10000) */
    failoverTimeout: int("failoverTimeout").min(1, "must be positive").default(DEFAULT_FAILOVER_TIMEOUT_MILLISECONDS),
    /** @default DEFAULT_PARALLEL_SYNCS (1) */
    parallelSyncs: int("parallelSyncs").min(1, "must be at least 1").default(DEFAULT_PARALLEL_SYNCS),
    /** Script Sentinel runs on every warning-level event (`sentinel notification-script`). */
    notificationScript: absolutePath("notificationScript").optional(),
    /** Script Sentinel runs when the master changes (`sentinel client-reconfig-script`). */
    clientReconfigScript: absolutePath("clientReconfigScript").optional(),
  })
  .prefault({});

const evictionPolicies = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
] as const;

const bindAddress = z
  .union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address, such as 127.0.0.1" })
  .refine(
    // Compared as addresses, not text: "::0" and "0:0:0:0:0:0:0:0" are "::", "::ffff:0.0.0.0" is 0.0.0.0.
    (a) => !ipaddr.isValid(a) || ipaddr.process(a).range() !== "unspecified",
    "binding every interface exposes Redis wherever the node has an address. The node's own address is always bound; list only extra addresses, such as 127.0.0.1",
  );

const redis = z
  .strictObject({
    /** Redis port. @default DEFAULT_REDIS_PORT (6379) */
    port: port("port").default(DEFAULT_REDIS_PORT),
    /** Addresses bound besides the node's own address, which is always bound. @default [] */
    extraBindAddresses: z.array(bindAddress).default([]),
    /** @default true */
    protectedMode: z.boolean().default(true),
    persistence: z
      .strictObject({
        /**
         * RDB snapshot rules (`save <seconds> <changes>`); an empty list turns snapshots off.
         * @default DEFAULT_SAVE_RULES (900/1, 300/10, 60/10000)
         */
        save: z
          .array(
            z.strictObject({
              seconds: int("seconds").min(1, "must be at least 1"),
              changes: int("changes").min(1, "must be at least 1"),
            }),
          )
          .default(DEFAULT_SAVE_RULES.map((r) => ({ ...r }))),
        /** @default true */
        stopWritesOnBgsaveError: z.boolean().default(true),
        /** @default true */
        rdbCompression: z.boolean().default(true),
        /** @default "dump.rdb" */
        dbFilename: z
          .string()
          .regex(/^[A-Za-z0-9._-]+$/, "must be a plain file name such as dump.rdb")
          .default("dump.rdb"),
        /** Append-only file. @default true */
        appendOnly: z.boolean().default(true),
        /** @default "everysec" */
        appendFsync: z
          .enum(["always", "everysec", "no"], { error: 'must be "always", "everysec" or "no"' })
          .default("everysec"),
      })
      .prefault({}),
    replication: z
      .strictObject({
        /** @default false */
        disklessSync: z.boolean().default(false),
        /** Seconds. @default 5 */
        disklessSyncDelay: int("disklessSyncDelay").min(0, "must be 0 or more seconds").default(5),
        /** Seconds (`repl-ping-replica-period`). @default DEFAULT_PING_REPLICA_PERIOD (2) */
        pingReplicaPeriod: int("pingReplicaPeriod").min(1, "must be at least 1 second").default(DEFAULT_PING_REPLICA_PERIOD),
        /** Seconds (`repl-timeout`); must be greater than pingReplicaPeriod. @default DEFAULT_REPL_TIMEOUT (10) */
        timeout: int("timeout").min(1, "must be at least 1 second").default(DEFAULT_REPL_TIMEOUT),
        /** 0 turns the check off. @default DEFAULT_MIN_REPLICAS_TO_WRITE (1) */
        minReplicasToWrite: int("minReplicasToWrite")
          .min(0, "must be 0 (off) or more")
          .default(DEFAULT_MIN_REPLICAS_TO_WRITE),
        /**
         * Seconds; below sentinel.downAfterMilliseconds while minReplicasToWrite is above 0.
         * @default DEFAULT_MIN_REPLICAS_MAX_LAG (2)
         */
        minReplicasMaxLag: int("minReplicasMaxLag").min(1, "must be at least 1 second").default(DEFAULT_MIN_REPLICAS_MAX_LAG),
      })
      .prefault({}),
    memory: z
      .strictObject({
        /**
         * A Redis size: bytes, or a number with k, kb, m, mb, g or gb. The constructs cap the default at
         * MAXMEMORY_SHARE_OF_MEMORY (0.75) of a node's memory (an EC2 instance type's, where known, or the Redis
         * container's limit): 1536mb on a t3.small, 768mb under a 1Gi limit.
         * @default DEFAULT_MAXMEMORY ("2gb")
         */
        maxmemory: z
          .string({ error: 'must be a size string such as "512mb" or "2gb"' })
          .refine((s) => (parseSize(s) ?? 0) > 0, 'must be a size string above zero such as "512mb" or "2gb"')
          // Redis warns that a maxmemory below 1 MB is surely a mistake; one past 64 bits does not load at all.
          .refine((s) => !((parseSize(s) ?? 0) > 0 && parseSize(s)! < 2 ** 20), 'is below 1mb, surely a mistake (Redis says so too): give a size such as "512mb" or "2gb"')
          .refine((s) => (parseSize(s) ?? 0) < 2 ** 63, "is larger than Redis can hold (64 bits): give a size such as \"64gb\"")
          .default(DEFAULT_MAXMEMORY),
        /** @default DEFAULT_MAXMEMORY_POLICY ("allkeys-lru") */
        policy: z
          .enum(evictionPolicies, { error: `must be one of ${evictionPolicies.join(", ")}` })
          .default(DEFAULT_MAXMEMORY_POLICY),
      })
      .prefault({}),
    clients: z
      .strictObject({
        /** @default 10000 */
        maxclients: int("maxclients").min(1, "must be at least 1").default(10000),
        /** Idle client timeout in seconds; 0 never closes idle clients. @default 300 */
        timeout: int("timeout").min(0, "must be 0 (never) or more seconds").default(300),
        /** Seconds. @default 300 */
        tcpKeepalive: int("tcpKeepalive").min(0, "must be 0 (off) or more seconds").default(300),
      })
      .prefault({}),
    /** @default "notice" */
    loglevel: z
      .enum(["debug", "verbose", "notice", "warning"], { error: 'must be "debug", "verbose", "notice" or "warning"' })
      .default("notice"),
  })
  .prefault({});

const auth = z.strictObject(
  {
    /** Where the passwords live (required; never the passwords themselves). `secretKeys(config)` names them. */
    secrets: secretStore("auth.secrets.path", SECRET_STORE_EXAMPLES),
  },
  {
    error: (issue) =>
      issue.input === undefined
        ? 'says where the passwords live, and is required: add auth: { secrets: { source: "env", prefix: "REDIS_HA_" } }'
        : undefined,
  },
);

/** Names ACL mode keeps for its own users. */
export const RESERVED_USER_NAMES = ["default", "admin", "replication", "sentinel"] as const;
// One ACL rule: permissions only (commands, categories, keys, channels); no password, no on/off. Key and channel
// patterns hold no quote, `$`, backtick or backslash: the boot script writes the rules inside double quotes.
const PATTERN = "[^\\s\"$`\\\\]+";
const ACL_RULE = new RegExp(
  String.raw`^([+-]@?[a-z][a-z0-9|_-]*|~${PATTERN}|%R?W?~${PATTERN}|&${PATTERN}|allkeys|allchannels|allcommands|nocommands|resetkeys|resetchannels)$`,
  "i",
);

/**
 * What Redis would refuse in one permission rule (its command table: REDIS_COMMAND_TABLE): an unknown category,
 * command or subcommand, or a subcommand taken away (`-config|get`) from a command that has none.
 */
export function aclRuleProblem(rule: string): string | undefined {
  const { version, categories, commands } = REDIS_COMMAND_TABLE;
  const match = /^([+-])(@?)([^|]+)(?:\|(.+))?$/.exec(rule);
  if (!match) return undefined;
  const [, sign, category, name, sub] = match;
  const lower = name.toLowerCase();
  if (category) {
    return lower === "all" || categories.includes(lower)
      ? undefined
      : `${rule}: Redis ${version} has no ACL category "${name}" (ACL CAT: ${categories.join(", ")})`;
  }
  const subcommands = commands[lower];
  if (subcommands === undefined) return `${rule}: Redis ${version} has no command "${name}" (COMMAND LIST)`;
  if (sub === undefined) return undefined;
  if (subcommands.length > 0) {
    return subcommands.includes(sub.toLowerCase())
      ? undefined
      : `${rule}: ${lower} has no subcommand "${sub}" in Redis ${version}; it has ${subcommands.join(", ")}`;
  }
  // A command without subcommands may be allowed for one first argument (+select|0), never denied so.
  return sign === "+" ? undefined : `${rule}: Redis refuses to deny a first argument of ${lower}; deny the command, or allow the arguments you want with +${lower}|<argument>`;
}

const aclUser = z.strictObject({
  /** User name; its password is the secret `<name>-password`. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, "use 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter, such as spoke")
    .refine(
      (name) => !(RESERVED_USER_NAMES as readonly string[]).includes(name),
      `is kept for the cluster's own users (${RESERVED_USER_NAMES.join(", ")}). Choose another name, such as app`,
    ),
  /**
   * ACL rules: commands, categories, key and channel patterns, without passwords.
   * @default DEFAULT_APP_USER_RULES ("~* &* +@all -@admin -@dangerous +info")
   */
  rules: z
    .string()
    .refine(
      (rules) => rules.trim().length > 0 && rules.trim().split(/\s+/).every((rule) => ACL_RULE.test(rule)),
      'must list permissions only (such as "~* &* +@all -@admin -@dangerous +info"), with no quote, $, backtick or backslash in a pattern: passwords come from auth.secrets, and on/off/nopass are set by the cluster',
    )
    .superRefine((rules, ctx) => {
      // Commands and categories Redis does not know make redis-server refuse the ACL file, and abort at boot.
      for (const rule of rules.trim().split(/\s+/)) {
        const problem = ACL_RULE.test(rule) ? aclRuleProblem(rule) : undefined;
        if (problem) ctx.addIssue({ code: "custom", input: rules, message: problem });
      }
    })
    .default(DEFAULT_APP_USER_RULES),
});

const acl = z
  .strictObject({
    /**
     * ACL mode: the `default` user is off; applications log in as `users`, replicas as `replication`, sentinels as
     * `sentinel`, operators as `admin`, each with a password of its own. Off: one password (requirepass) for all.
     * @default true
     */
    enabled: z.boolean().default(true),
    /** Application users. @default one user, DEFAULT_APP_USER ("app"), with DEFAULT_APP_USER_RULES */
    users: z.array(aclUser).optional(),
  })
  .prefault({});

const tls = z
  .strictObject({
    /** TLS on every link: clients, replication, sentinels. @default false */
    enabled: z.boolean().default(false),
    /**
     * Where the certificate (`tls.crt`), its key (`tls.key`) and the CA (`ca.crt`) live, in PEM; required with TLS.
     * The constructs set it on Kubernetes (the TLS Secret) and read it on AWS.
     */
    certificates: secretStore("tls.certificates.path", SECRET_STORE_EXAMPLES).optional(),
    /**
     * Keep a plain-text port open besides TLS, such as while clients move to TLS. TLS is on `redis.port` and
     * `sentinel.port` either way. @default none: plain text is refused
     */
    plaintextPort: port("plaintextPort").optional(),
    /** Whether clients must present a certificate (`tls-auth-clients`); nodes always do. @default "optional" */
    authClients: z.enum(["yes", "optional", "no"], { error: 'must be "yes", "optional" or "no"' }).default("optional"),
  })
  .prefault({});

/** Majority of `nodeCount` sentinels: the smallest quorum that is allowed, and the default. */
export function majority(nodeCount: number): number {
  return Math.floor(nodeCount / 2) + 1;
}

export const redisSentinelSpecSchema = z
  .strictObject(
    {
      topology,
      sentinel,
      redis,
      auth,
      acl,
      tls,
    },
    { error: 'must be an object, such as { auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }' },
  )
  .superRefine(
    (spec, ctx) => {
      // Not an object at all: the object's own message says so, and there is nothing to cross-check.
      if (!isObject(spec)) return;
      // Cross-field rules. They run even when other fields failed, so one error lists every problem; each rule
      // only looks at values that are themselves well-formed.
      const n = spec.topology?.nodeCount;
      const nodeCountOk = Number.isInteger(n) && n >= 3 && n % 2 === 1 && n <= MAX_NODE_COUNT;
      const add = (path: (string | number)[], input: unknown, message: string) =>
        ctx.addIssue({ code: "custom", path, input, message });

      const { initialMaster, replicaPriority } = spec.topology ?? {};
      if (nodeCountOk && Number.isInteger(initialMaster) && initialMaster >= n) {
        add(["topology", "initialMaster"], initialMaster, `must be a node index from 0 to ${n - 1}`);
      }
      if (nodeCountOk && Array.isArray(replicaPriority)) {
        if (replicaPriority.length !== n) {
          add(["topology", "replicaPriority"], replicaPriority, `must have one entry per node: ${n} entries`);
        } else if (
          Number.isInteger(initialMaster) &&
          replicaPriority.every((p, i) => i === initialMaster || p === 0)
        ) {
          add(
            ["topology", "replicaPriority"],
            replicaPriority,
            "every replica has priority 0, so no failover can ever happen. Give at least one replica a priority above 0 (100 is the default)",
          );
        }
      }

      const s = spec.sentinel ?? {};
      if (nodeCountOk && Number.isInteger(s.quorum) && (s.quorum as number) >= 1) {
        const q = s.quorum as number;
        if (q < majority(n)) {
          add(
            ["sentinel", "quorum"],
            q,
            `is less than a majority of ${n} sentinels, so a minority could start a failover. Use ${majority(n)} to ${n}`,
          );
        } else if (q > n) {
          add(["sentinel", "quorum"], q, `is more than the ${n} sentinels that exist. Use ${majority(n)} to ${n}`);
        }
      }
      if (
        Number.isInteger(s.failoverTimeout) &&
        Number.isInteger(s.downAfterMilliseconds) &&
        s.failoverTimeout <= s.downAfterMilliseconds
      ) {
        add(
          ["sentinel", "failoverTimeout"],
          s.failoverTimeout,
          `must be greater than sentinel.downAfterMilliseconds (${s.downAfterMilliseconds}). Use at least twice it, such as ${2 * s.downAfterMilliseconds}`,
        );
      }
      if (nodeCountOk && Number.isInteger(s.parallelSyncs) && s.parallelSyncs > n - 1) {
        add(["sentinel", "parallelSyncs"], s.parallelSyncs, `must be at most the ${n - 1} replicas. Use 1 to ${n - 1}`);
      }

      const r = spec.redis ?? {};
      if (Number.isInteger(s.port) && Number.isInteger(r.port) && s.port === r.port) {
        add(["sentinel", "port"], s.port, `must differ from redis.port (${r.port}). ${DEFAULT_SENTINEL_PORT} is the usual value`);
      }
      const repl = r.replication ?? {};
      if (Number.isInteger(repl.timeout) && Number.isInteger(repl.pingReplicaPeriod) && repl.timeout <= repl.pingReplicaPeriod) {
        add(
          ["redis", "replication", "timeout"],
          repl.timeout,
          `must be greater than redis.replication.pingReplicaPeriod (${repl.pingReplicaPeriod}), or replicas time out between pings`,
        );
      }
      const downAfterOk = Number.isInteger(s.downAfterMilliseconds) && s.downAfterMilliseconds >= 100;
      if (
        downAfterOk &&
        Number.isInteger(repl.minReplicasToWrite) &&
        repl.minReplicasToWrite > 0 &&
        Number.isInteger(repl.minReplicasMaxLag) &&
        repl.minReplicasMaxLag >= 1 &&
        repl.minReplicasMaxLag * 1000 >= s.downAfterMilliseconds
      ) {
        const most = Math.ceil(s.downAfterMilliseconds / 1000) - 1;
        add(
          ["redis", "replication", "minReplicasMaxLag"],
          repl.minReplicasMaxLag,
          `must be below sentinel.downAfterMilliseconds (${s.downAfterMilliseconds} ms), or a master cut off from its replicas ` +
            "keeps acknowledging writes after the sentinels promote another node, and loses them all. " +
            (most >= 1
              ? `Use 1 to ${most}`
              : "Raise sentinel.downAfterMilliseconds above 1000, or set redis.replication.minReplicasToWrite to 0"),
        );
      }
      if (nodeCountOk && Number.isInteger(repl.minReplicasToWrite) && repl.minReplicasToWrite > n - 1) {
        add(
          ["redis", "replication", "minReplicasToWrite"],
          repl.minReplicasToWrite,
          `must be at most the ${n - 1} replicas, or the master never accepts a write. Use 0 to ${n - 1}; 1 is the default`,
        );
      }

      const a = spec.acl ?? {};
      if (Array.isArray(a.users)) {
        if (a.enabled === false) {
          add(["acl", "users"], a.users.map((u) => u?.name), 'are only read in ACL mode: remove acl.users, or set acl.enabled to true');
        } else if (a.users.length === 0) {
          add(
            ["acl", "users"],
            a.users,
            'ACL mode needs at least one application user, or no client can log in. Add { name: "app" }, or leave acl.users out for that default',
          );
        }
        const seen = new Set<string>();
        a.users.forEach((user, i) => {
          if (typeof user?.name !== "string") return;
          if (seen.has(user.name)) add(["acl", "users", i, "name"], user.name, "is already the name of another user. Give each user its own name");
          seen.add(user.name);
        });
      }

      const t = spec.tls ?? {};
      if (t.enabled === true && t.certificates === undefined) {
        add(
          ["tls", "certificates"],
          undefined,
          'is required with TLS: say where tls.crt, tls.key and ca.crt live, such as { source: "directory", path: "/etc/redis-ha/tls" }',
        );
      }
      if (t.enabled !== true && t.certificates !== undefined) {
        add(["tls", "certificates"], t.certificates, "is only read with TLS: set tls.enabled to true, or remove tls.certificates");
      }
      if (Number.isInteger(t.plaintextPort)) {
        if (t.enabled !== true) {
          add(["tls", "plaintextPort"], t.plaintextPort, "is only read with TLS: without it, redis.port is plain text already. Remove it");
        } else if (t.plaintextPort === r.port || t.plaintextPort === s.port) {
          add(
            ["tls", "plaintextPort"],
            t.plaintextPort,
            `must differ from redis.port (${r.port}) and sentinel.port (${s.port}), which carry TLS. Use another port, such as ${DEFAULT_REDIS_PORT + 1000}`,
          );
        }
      }
    },
    { when: () => true },
  );

/** What a user writes: every field but `auth.secrets` is optional and defaulted. */
export type RedisSentinelSpec = z.input<typeof redisSentinelSpecSchema>;
/** A validated spec with every default applied, as the renderers and constructs read it. */
export type RedisSentinelConfig = Omit<z.output<typeof redisSentinelSpecSchema>, "topology" | "sentinel" | "acl"> & {
  readonly topology: Omit<z.output<typeof topology>, "replicaPriority"> & { readonly replicaPriority: readonly number[] };
  readonly sentinel: Omit<z.output<typeof sentinel>, "quorum"> & { readonly quorum: number };
  /** ACL mode; `users` is empty when it is off. */
  readonly acl: { readonly enabled: boolean; readonly users: readonly AclUser[] };
};
/** Where a set of secrets lives. */
export type SecretStore = z.output<ReturnType<typeof secretStore>>;
/** An application user of ACL mode. */
export type AclUser = z.output<typeof aclUser>;
