import { MAXMEMORY_SHARE_OF_MEMORY } from "./defaults";
import { describeValue, nestedPropProblems, parseSpec, prefixProblem, unknownPropsProblem, SpecError, TOKEN_AT_SYNTH, withoutTokens, type SpecProblem } from "./parse";
import type { RedisSentinelConfig, RedisSentinelSpec } from "./schema";
import { maxmemoryProblem, withDefaultMaxmemory } from "./size";
import { isObject } from "./values";

/** Redis image: Debian-based, with bash, redis-cli and redis-sentinel; runs as user redis (999). */
export const DEFAULT_REDIS_IMAGE = "redis:7.2";
/** redis_exporter image of the monitoring sidecars: the exporter whose metrics the alert rules were written against. */
export const DEFAULT_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.45.0";
/** Default memory limit of the Redis container. */
export const DEFAULT_MEMORY_LIMIT = "1Gi";
/** maxmemory may use this share of the container's memory limit; the rest covers buffers and fork copy-on-write. */
export const MAXMEMORY_SHARE_OF_LIMIT = MAXMEMORY_SHARE_OF_MEMORY;
const DEFAULT_NAME = "redis";
const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
const DEFAULT_STORAGE_SIZE = "10Gi";
const DEFAULT_CPU_REQUEST = "100m";
/** Memory request of the Redis container, unless the memory limit is smaller (then the limit). */
const DEFAULT_MEMORY_REQUEST = "256Mi";

/** Pods allowed to reach Redis and Sentinel: those matching both selectors (an empty selector matches all). */
export interface KubernetesPeer {
  readonly podSelector?: Record<string, string>;
  readonly namespaceSelector?: Record<string, string>;
}

/** Prometheus scraping and alerting for the cluster: exporters, their network policies, a PrometheusRule. */
export interface KubernetesMonitoringInput {
  /** The Prometheus pods: each gets a network policy admitting it to the exporters' ports only. */
  readonly peers: readonly KubernetesPeer[];
  /** @default DEFAULT_EXPORTER_IMAGE ("oliver006/redis_exporter:v1.45.0") */
  readonly image?: string;
  /**
   * Create a PrometheusRule (monitoring.coreos.com/v1) holding `alertRuleGroups(config, alertRules)`. It needs the
   * Prometheus Operator's CRD in the cluster when Terraform plans: turn it off where there is none. @default true
   */
  readonly prometheusRule?: boolean;
}

/** Failover notifications: Sentinel's notification-script and client-reconfig-script. */
export interface KubernetesNotifications {
  /**
   * POST every event as JSON to the URL held in this Secret's key. The URL is read from the mounted file at each
   * event: it never enters the ConfigMap or the Terraform configuration. The scripts post with curl, which the
   * default image (redis:7.2, Debian slim) does not ship as far as we know (its Dockerfile installs no curl; not
   * checked against a running image here): without curl every event is still logged, and each webhook delivery
   * logs `curl did not run`. Use an `image` with curl for webhooks.
   * @default no webhook: the scripts only log each event (Sentinel's log, `kubectl logs -c sentinel`)
   */
  readonly webhookUrlSecret?: { readonly name: string; readonly key: string };
}

/** The props of a Redis Sentinel cluster on Kubernetes (KubernetesRedisSentinelProps), as parseKubernetesProps reads them. */
export interface KubernetesPropsInput {
  /** Namespace of every object. */
  readonly namespace: string;
  /** Name of the StatefulSet; pods are `<name>-0`, `<name>-1`, ... @default "redis" */
  readonly name?: string;
  /**
   * The cluster: topology, Sentinel, Redis, ACL and TLS settings. The passwords come from `passwordSecret`, and with
   * TLS the certificates from `tlsSecret`: leave `spec.tls.certificates` out. Without `redis.memory.maxmemory`,
   * Redis gets DEFAULT_MAXMEMORY capped at MAXMEMORY_SHARE_OF_LIMIT of the Redis container's memory limit.
   */
  readonly spec?: Omit<RedisSentinelSpec, "auth">;
  /**
   * The Secret holding the passwords, one key per password: in ACL mode `app-password` (one per application user,
   * `<user>-password`), `admin-password`, `replication-password` and `sentinel-password`; with ACL off, `password`.
   */
  readonly passwordSecret: string;
  /**
   * Create `passwordSecret` with passwords Terraform generates when it applies (two random UUIDs each, 244 bits) and
   * keeps afterwards; the Terraform state holds them. Otherwise the Secret must exist. @default false
   */
  readonly generatePasswords?: boolean;
  /**
   * With TLS: a Secret holding `tls.crt`, `tls.key` and `ca.crt` (a cert-manager Certificate's Secret) valid for the
   * pods' DNS names. Required when `spec.tls.enabled`.
   */
  readonly tlsSecret?: string;
  /** @default DEFAULT_REDIS_IMAGE ("redis:7.2") */
  readonly image?: string;
  /** Size of each pod's data volume. @default "10Gi" */
  readonly storageSize?: string;
  /** @default the cluster's default storage class */
  readonly storageClassName?: string;
  /**
   * Requests and limits of the Redis container. @default 100m CPU and 256Mi requested (at most the memory limit),
   * a memory limit of DEFAULT_MEMORY_LIMIT ("1Gi")
   */
  readonly resources?: { readonly requests?: Record<string, string>; readonly limits?: Record<string, string> };
  /** Client pods allowed in by the network policy. @default none (add with allowFrom) */
  readonly clients?: readonly KubernetesPeer[];
  /** @default "cluster.local" */
  readonly clusterDomain?: string;
  /** Sentinels as sidecars of the Redis pods, or in a StatefulSet of their own. @default "sidecar" */
  readonly sentinels?: "sidecar" | "separate";
  /**
   * A redis_exporter sidecar in every pod (port 9121 named `metrics`, scraping Redis, or the sentinel in a Sentinel pod
   * of its own; a Redis pod with a Sentinel sidecar has a second one on 9122 named `sentinel-metric` for the sentinel),
   * network policies admitting `peers` to those ports only, and a PrometheusRule of the cluster's alert rules.
   * The exporters log in as `admin` (Redis) and `sentinel` (Sentinel) in ACL mode, with the password from
   * `passwordSecret` through the environment. @default no monitoring
   */
  readonly monitoring?: KubernetesMonitoringInput;
  /**
   * Sentinel runs the notification and client-reconfig scripts at every event and failover; they lie in the
   * ConfigMap (POD_NOTIFY_SCRIPTS) and sentinel.conf names them. Leave `spec.sentinel.notificationScript` and
   * `clientReconfigScript` out. @default no scripts
   */
  readonly notifications?: KubernetesNotifications;
}

/** Where a pod holds what the construct mounts and places there: the config is rendered with these paths. */
export interface KubernetesPodFiles {
  /** Directory of the mounted `passwordSecret`: the spec's `auth.secrets`. */
  readonly secretDir: string;
  /** Directory of the mounted `tlsSecret`: the spec's `tls.certificates`. */
  readonly tlsDir: string;
  /** The notification scripts that sentinel.conf names with `notifications`. */
  readonly notifyScripts: { readonly notification: string; readonly clientReconfig: string };
}

/** Validated props, every default applied: what a Kubernetes cluster is built from. */
export interface ResolvedKubernetesProps {
  /** The validated cluster config, every default applied, reading its secrets and certificates from the pod's mounts. */
  readonly config: RedisSentinelConfig;
  readonly namespace: string;
  readonly name: string;
  readonly clusterDomain: string;
  readonly sentinels: "sidecar" | "separate";
  readonly passwordSecret: string;
  readonly generatePasswords: boolean;
  readonly tlsSecret?: string;
  readonly image: string;
  readonly storageSize: string;
  readonly storageClassName?: string;
  /** Requests and limits of the Redis container, the defaults filled in around the given ones. */
  readonly resources: { readonly requests: Readonly<Record<string, string>>; readonly limits: Readonly<Record<string, string>> };
  readonly clients: readonly KubernetesPeer[];
  readonly monitoring?: { readonly peers: readonly KubernetesPeer[]; readonly image: string; readonly prometheusRule: boolean };
  readonly notifications?: KubernetesNotifications;
}

/**
 * Validates the props of a Redis Sentinel cluster on Kubernetes and its spec together, and applies every default.
 * Throws one `SpecError` for every problem, each at its path in the props (such as `spec.sentinel.quorum` or
 * `resources.limits.memory`). `isUnresolved` (cdktf's `Token.isUnresolved`) tells Terraform tokens: refused where the
 * pods' files and host names are rendered from them, checked as a valid stand-in where they only become resource
 * attributes, and returned as given.
 */
export function parseKubernetesProps(
  given: KubernetesPropsInput,
  pod: KubernetesPodFiles,
  isUnresolved: (value: unknown) => boolean = () => false,
): ResolvedKubernetesProps {
  const problems: SpecProblem[] = [];
  const add = (path: string, value: unknown, message: string) => problems.push({ path, value: describeValue(value), message });
  // Terraform tokens: the names that the pods' files and host names are rendered from must be literals; props that
  // only become resource attributes may be tokens, and are checked as a valid stand-in.
  const props: Record<string, unknown> = { ...given };
  const literalStandIns = { namespace: "token", name: DEFAULT_NAME, clusterDomain: DEFAULT_CLUSTER_DOMAIN } as const;
  for (const [field, standIn] of Object.entries(literalStandIns)) {
    if (isUnresolved(props[field])) {
      problems.push({ path: field, value: "(a Terraform token)", message: TOKEN_AT_SYNTH });
      props[field] = standIn;
    }
  }
  const standIns = { passwordSecret: "token", tlsSecret: "token", image: "token", storageSize: "1Gi", storageClassName: "token" } as const;
  for (const [field, standIn] of Object.entries(standIns)) {
    if (isUnresolved(props[field])) props[field] = standIn;
  }
  const config = checkLiterals(props as unknown as KubernetesPropsInput, pod, isUnresolved, problems, add);
  const { resources, monitoring, notifications } = given;
  return {
    config,
    namespace: given.namespace,
    name: given.name ?? DEFAULT_NAME,
    clusterDomain: given.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
    sentinels: given.sentinels ?? "sidecar",
    passwordSecret: given.passwordSecret,
    generatePasswords: given.generatePasswords === true,
    tlsSecret: given.tlsSecret,
    image: given.image ?? DEFAULT_REDIS_IMAGE,
    storageSize: given.storageSize ?? DEFAULT_STORAGE_SIZE,
    storageClassName: given.storageClassName,
    resources: {
      // The default memory request is at most the memory limit: the defaults always pass together.
      requests: { cpu: DEFAULT_CPU_REQUEST, memory: defaultMemoryRequest(resources?.limits?.memory), ...resources?.requests },
      limits: { memory: DEFAULT_MEMORY_LIMIT, ...resources?.limits },
    },
    clients: given.clients ?? [],
    monitoring: monitoring && {
      peers: monitoring.peers,
      image: monitoring.image ?? DEFAULT_EXPORTER_IMAGE,
      prometheusRule: monitoring.prometheusRule ?? true,
    },
    notifications: notifications ? { webhookUrlSecret: notifications.webhookUrlSecret } : undefined,
  };
}

/** The props a KubernetesRedisSentinel reads: any other key is a typo. */
const PROP_NAMES: ReadonlySet<string> = new Set<keyof KubernetesPropsInput>([
  "namespace", "name", "spec", "passwordSecret", "generatePasswords", "tlsSecret", "image", "storageSize",
  "storageClassName", "resources", "clients", "clusterDomain", "sentinels", "monitoring", "notifications",
]);
const EMPTY_PEER = "names no pods: give a podSelector and/or a namespaceSelector (an empty peer would admit every pod)";
const labelsOf = (selector: unknown) => (isObject(selector) ? Object.keys(selector).length : 0);
// The StatefulSets, Services and pod host names are built from these (`<name>-sentinel-headless` within 63).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const WORKLOAD_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What is wrong with a Kubernetes peer: none, or one that admits every pod of the cluster (an empty namespaceSelector). */
export function kubernetesPeerProblem(peer: unknown): string | undefined {
  if (!isObject(peer)) return 'must be a peer, such as { namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }';
  if (!peer.podSelector && !peer.namespaceSelector) return EMPTY_PEER;
  if (peer.namespaceSelector !== undefined && labelsOf(peer.namespaceSelector) === 0 && labelsOf(peer.podSelector) === 0) {
    return 'admits every pod of every namespace (an empty namespaceSelector matches all): give the namespace\'s labels, such as { namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }';
  }
  return undefined;
}

/** The checks of `parseKubernetesProps`, on props whose Terraform tokens were reported or replaced by valid stand-ins. */
function checkLiterals(
  props: KubernetesPropsInput,
  pod: KubernetesPodFiles,
  isUnresolved: (value: unknown) => boolean,
  problems: SpecProblem[],
  add: (path: string, value: unknown, message: string) => void,
): RedisSentinelConfig {
  const unknown = unknownPropsProblem(props, PROP_NAMES, "", "the props are listed on KubernetesRedisSentinelProps");
  if (unknown) problems.push(unknown);
  if (typeof props.namespace !== "string" || !DNS_LABEL.test(props.namespace)) {
    add("namespace", props.namespace, "must be a namespace name: up to 63 lower-case letters, digits and '-', such as spoke");
  }
  if (props.name !== undefined && (typeof props.name !== "string" || !WORKLOAD_NAME.test(props.name))) {
    add("name", props.name, "must be up to 40 lower-case letters, digits and '-', starting with a letter, such as redis");
  }
  if (props.clusterDomain !== undefined && (typeof props.clusterDomain !== "string" || !DNS_NAME.test(props.clusterDomain))) {
    add("clusterDomain", props.clusterDomain, "must be a DNS domain such as cluster.local");
  }
  const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
  if (typeof props.passwordSecret !== "string" || !SECRET_NAME.test(props.passwordSecret)) {
    add("passwordSecret", props.passwordSecret, "must be the name of a Secret: lower-case letters, digits, '-' and '.', such as redis-passwords");
  }
  if (props.tlsSecret !== undefined && (typeof props.tlsSecret !== "string" || !SECRET_NAME.test(props.tlsSecret))) {
    add("tlsSecret", props.tlsSecret, "must be the name of a Secret: lower-case letters, digits, '-' and '.', such as redis-tls");
  }
  if (props.storageSize !== undefined) {
    const bytes = typeof props.storageSize === "string" ? quantityBytes(props.storageSize) : undefined;
    if (bytes === undefined) add("storageSize", props.storageSize, 'must be a Kubernetes quantity such as "10Gi" or "500Mi"');
    else if (bytes <= 0) add("storageSize", props.storageSize, "must be above zero");
  }
  if (props.storageClassName !== undefined && (typeof props.storageClassName !== "string" || props.storageClassName.length > 253 || !DNS_NAME.test(props.storageClassName))) {
    add("storageClassName", props.storageClassName, "must be the name of a StorageClass: lower-case letters, digits, '-' and '.', such as gp3");
  }
  const monitoringImage = isObject(props.monitoring) ? props.monitoring.image : undefined;
  for (const [path, image] of [["image", props.image], ["monitoring.image", monitoringImage]] as const) {
    if (image !== undefined && (typeof image !== "string" || !/^[^\s]+$/.test(image))) {
      add(path, image, 'must be an image reference with no space, such as "redis:7.2"');
    }
  }
  resourcesProblems(props.resources, isUnresolved, add);
  if (props.sentinels !== undefined && props.sentinels !== "sidecar" && props.sentinels !== "separate") {
    add("sentinels", props.sentinels, 'must be "sidecar" or "separate"');
  }
  const flags: Record<string, unknown> = {
    generatePasswords: props.generatePasswords,
    "monitoring.prometheusRule": isObject(props.monitoring) ? props.monitoring.prometheusRule : undefined,
  };
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && typeof value !== "boolean") add(flag, value, `must be true or false, not a ${typeof value}`);
  }
  const clients: unknown = props.clients;
  if (clients !== undefined && !Array.isArray(clients)) {
    add("clients", clients, 'must be a list of peers, such as [{ namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }]');
  }
  (Array.isArray(clients) ? (clients as KubernetesPeer[]) : []).forEach((peer, i) => {
    const problem = kubernetesPeerProblem(peer);
    if (problem) add(`clients[${i}]`, peer, problem);
  });
  problems.push(
    ...nestedPropProblems(props, {
      monitoring: {
        keys: ["peers", "image", "prometheusRule", "alertRules"],
        example: '{ peers: [{ namespaceSelector: { "kubernetes.io/metadata.name": "monitoring" } }] }',
      },
      notifications: { keys: ["webhookUrlSecret"], example: '{ webhookUrlSecret: { name: "redis-webhook", key: "url" } }' },
    }),
  );
  const monitoring: unknown = props.monitoring;
  const notifications: unknown = props.notifications;
  if (isObject(monitoring)) {
    const peers = monitoring.peers;
    if (!Array.isArray(peers) || peers.length === 0) {
      add("monitoring.peers", peers, "must name the Prometheus pods, such as [{ namespaceSelector: { \"kubernetes.io/metadata.name\": \"monitoring\" } }]");
    } else {
      peers.forEach((peer, i) => {
        const problem = kubernetesPeerProblem(peer);
        if (problem) add(`monitoring.peers[${i}]`, peer, problem);
      });
    }
  }
  const webhookSecret = isObject(notifications) ? notifications.webhookUrlSecret : undefined;
  if (
    webhookSecret !== undefined &&
    (!isObject(webhookSecret) ||
      typeof webhookSecret.name !== "string" ||
      !DNS_NAME.test(webhookSecret.name) ||
      typeof webhookSecret.key !== "string" ||
      !SECRET_KEY.test(webhookSecret.key))
  ) {
    add("notifications.webhookUrlSecret", webhookSecret, "must name a Secret and one of its keys, such as { name: \"redis-webhook\", key: \"url\" }");
  }
  // Every spec value is rendered into the pods' files: a Terraform token there is refused.
  const literal = withoutTokens(props.spec ?? undefined, isUnresolved);
  problems.push(...literal.problems);
  const givenSpec = (literal.spec ?? undefined) as KubernetesPropsInput["spec"];
  const spec: Record<string, unknown> = { ...givenSpec };
  if (props.notifications) {
    const given = givenSpec?.sentinel ?? {};
    for (const field of ["notificationScript", "clientReconfigScript"] as const) {
      if (given[field] !== undefined) {
        add(`spec.sentinel.${field}`, given[field], "is set by the construct with notifications: remove it, or remove notifications");
      }
    }
    spec.sentinel = {
      ...given,
      notificationScript: pod.notifyScripts.notification,
      clientReconfigScript: pod.notifyScripts.clientReconfig,
    };
  }
  // With no maxmemory given, Redis gets the default capped at MAXMEMORY_SHARE_OF_LIMIT of the container's memory
  // limit, so that the defaults always pass together (1Gi: 768mb).
  Object.assign(spec, withDefaultMaxmemory(spec, quantityBytes(props.resources?.limits?.memory ?? DEFAULT_MEMORY_LIMIT)));
  if ("auth" in spec) {
    problems.push({
      path: "spec.auth",
      value: "(hidden)",
      message: "is set by the construct: the passwords come from the Secret named in passwordSecret. Remove spec.auth",
    });
  }
  const tls = givenSpec?.tls;
  if (tls?.certificates !== undefined) {
    add(
      "spec.tls.certificates",
      tls.certificates,
      "is set by the construct from tlsSecret: remove it, and name the Secret holding tls.crt, tls.key and ca.crt in tlsSecret",
    );
  }
  const { certificates: _given, ...ownTls } = tls ?? {};
  const certificates = props.tlsSecret ? { certificates: { source: "directory", path: pod.tlsDir } as const } : {};
  let config: RedisSentinelConfig | undefined;
  try {
    config = parseSpec({
      ...spec,
      ...(tls || props.tlsSecret ? { tls: { ...ownTls, ...certificates } } : {}),
      auth: { secrets: { source: "directory", path: pod.secretDir } },
    });
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    // The certificates come from tlsSecret: name that prop, with its value.
    for (const p of e.problems) {
      if (p.path === "tls.certificates" && p.value === "(missing)") {
        add("tlsSecret", undefined, "is required with TLS: name the Secret holding tls.crt, tls.key and ca.crt, such as a cert-manager Certificate's Secret");
      } else if (p.path === "tls.certificates") {
        add("tlsSecret", props.tlsSecret, "is only read with TLS: set spec.tls.enabled to true, or remove tlsSecret");
      } else {
        problems.push(prefixProblem("spec.", p));
      }
    }
  }
  const limit = props.resources?.limits?.memory ?? DEFAULT_MEMORY_LIMIT;
  const limitBytes = quantityBytes(limit);
  const tooMuch =
    config && limitBytes !== undefined
      ? maxmemoryProblem(config.redis.memory.maxmemory, limitBytes, {
          name: `the Redis container's memory limit (${limit})`,
          consequence: "the pod would be killed before Redis evicts",
          fix: "raise resources.limits.memory",
        })
      : undefined;
  if (tooMuch) problems.push(prefixProblem("spec.", tooMuch));
  if (problems.length > 0 || !config) throw new SpecError(problems);
  return config;
}

/**
 * Bytes in a Kubernetes memory or storage quantity (`1Gi`, `1.5Gi`, `512Mi`, `1G`, `500M`, bytes), or undefined for
 * one that is not a quantity of bytes: a malformed one (`2GB`, `1K`), or one in milli-units (`512m`, 0.512 bytes).
 */
function quantityBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity);
  if (!match) return undefined;
  const units: Record<string, number> = {
    "": 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  };
  return Number(match[1]) * units[match[2] ?? ""];
}

/** Memory request of the Redis container when none is given: DEFAULT_MEMORY_REQUEST, or the memory limit when that is smaller. */
function defaultMemoryRequest(limit: string | undefined): string {
  const limitBytes = limit === undefined ? undefined : quantityBytes(limit);
  return limitBytes !== undefined && limitBytes < quantityBytes(DEFAULT_MEMORY_REQUEST)! ? limit! : DEFAULT_MEMORY_REQUEST;
}

/** Cores in a Kubernetes CPU quantity (`100m`, `0.5`, `2`), or undefined for one that is not. */
function quantityCores(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  return match ? Number(match[1]) / (match[2] ? 1000 : 1) : undefined;
}

/** Problems of the Redis container's `resources`: quantities that are not, zero ones, requests above limits. */
function resourcesProblems(
  resources: unknown,
  isUnresolved: (value: unknown) => boolean,
  add: (path: string, value: unknown, message: string) => void,
): void {
  if (resources === undefined) return;
  if (!isObject(resources)) return add("resources", resources, 'must be { requests?, limits? }, such as { limits: { memory: "2Gi" } }');
  const amounts: Record<string, Record<string, number>> = {};
  for (const kind of ["requests", "limits"] as const) {
    const given = resources[kind];
    if (given === undefined) continue;
    if (!isObject(given)) {
      add(`resources.${kind}`, given, 'must map a resource to a quantity, such as { memory: "2Gi", cpu: "500m" }');
      continue;
    }
    amounts[kind] = {};
    for (const [resource, quantity] of Object.entries(given)) {
      const path = `resources.${kind}.${resource}`;
      if (isUnresolved(quantity)) continue; // a resource attribute only: Kubernetes checks it
      const amount = typeof quantity !== "string" ? undefined : resource === "cpu" ? quantityCores(quantity) : quantityBytes(quantity);
      if (resource.includes("/") || resource.startsWith("hugepages-")) {
        continue; // an extended resource or huge pages: Kubernetes checks those
      } else if (resource !== "cpu" && resource !== "memory" && resource !== "ephemeral-storage") {
        add(path, quantity, "is not a resource of a container: use cpu, memory or ephemeral-storage (or an extended resource such as nvidia.com/gpu)");
      } else if (amount === undefined) {
        add(path, quantity, resource === "cpu" ? 'must be a CPU quantity such as "500m" or "2"' : 'must be a quantity of bytes such as "2Gi" or "512Mi" (not "2GB", and "m" means thousandths)');
      } else if (amount <= 0) {
        add(path, quantity, "must be above zero");
      } else {
        amounts[kind][resource] = amount;
      }
    }
  }
  for (const [resource, request] of Object.entries(amounts.requests ?? {})) {
    const limit = amounts.limits?.[resource];
    if (limit !== undefined && request > limit) {
      add(`resources.requests.${resource}`, (resources.requests as Record<string, unknown>)[resource], `is above its limit (${(resources.limits as Record<string, unknown>)[resource]}): Kubernetes refuses such a pod. Lower the request or raise the limit`);
    }
  }
}
