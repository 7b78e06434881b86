import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NetworkPolicyV1, type NetworkPolicyV1SpecIngressFrom } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { StatefulSetV1 } from "@cdktf/provider-kubernetes/lib/stateful-set-v1";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import {
  alertRuleGroups,
  EXPORTER_PORT,
  exporterEnvironment,
  NODE_FILES,
  passwordKey,
  PASSWORD_KEY,
  renderClientReconfigScript,
  renderNotificationScript,
  SYSTEM_USERS,
  assertProps,
  describeValue,
  withoutTokens,
  TOKEN_AT_SYNTH,
  withDefaultMaxmemory,
  isObject,
  MAXMEMORY_SHARE_OF_MEMORY,
  maxmemoryProblem,
  parseSpec,
  prefixProblem,
  CERTIFICATE_KEYS,
  secretKeys,
  terraformLiteral,
  POD_PATHS,
  POD_SCRIPT,
  preStopSeconds,
  renderPodFiles,
  SpecError,
  type AlertRulesOptions,
  type RedisSentinelConfig,
  type RedisSentinelSpec,
  type SpecProblem,
} from "../src";

/** Redis image: Debian-based, with bash, redis-cli and redis-sentinel; runs as user redis (999). */
export const DEFAULT_REDIS_IMAGE = "redis:7.2";

/** Pods allowed to reach Redis and Sentinel: those matching both selectors (an empty selector matches all). */
export interface KubernetesPeer {
  readonly podSelector?: Record<string, string>;
  readonly namespaceSelector?: Record<string, string>;
}

/** redis_exporter image of the monitoring sidecars: the exporter whose metrics the alert rules were written against. */
export const DEFAULT_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.45.0";
/** Port of the second exporter of a Redis pod with a Sentinel sidecar: the one that scrapes the sentinel. */
export const SENTINEL_EXPORTER_PORT = 9122;
/** Where the notification scripts lie in a pod: in the ConfigMap, under POD_PATHS.config. */
export const POD_NOTIFY_SCRIPTS = {
  notification: `${POD_PATHS.config}/notify.sh`,
  clientReconfig: `${POD_PATHS.config}/client-reconfig.sh`,
} as const;
/** The file the scripts read the webhook URL from: the key of `notifications.webhookUrlSecret`, mounted alone. */
export const POD_WEBHOOK_URL_FILE = "/etc/redis-ha-webhook/webhook-url";

/** Prometheus scraping and alerting for the cluster: exporters, their network policies, a PrometheusRule. */
export interface KubernetesMonitoring {
  /** The Prometheus pods: each gets a network policy admitting it to the exporters' ports only. */
  readonly peers: readonly KubernetesPeer[];
  /** @default DEFAULT_EXPORTER_IMAGE ("oliver006/redis_exporter:v1.45.0") */
  readonly image?: string;
  /**
   * Create a PrometheusRule (monitoring.coreos.com/v1) holding `alertRuleGroups(config, alertRules)`. It needs the
   * Prometheus Operator's CRD in the cluster when Terraform plans: turn it off where there is none. @default true
   */
  readonly prometheusRule?: boolean;
  /**
   * Options of the alert rules, such as the `selector` matching the job your PodMonitor or scrape config gives the
   * exporters. @default alertRuleGroups' defaults (selector `job="redis-ha"`)
   */
  readonly alertRules?: AlertRulesOptions;
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

export interface KubernetesRedisSentinelProps {
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
  /** @default "redis:7.2" */
  readonly image?: string;
  /** Size of each pod's data volume. @default "10Gi" */
  readonly storageSize?: string;
  /** @default the cluster's default storage class */
  readonly storageClassName?: string;
  /**
   * Requests and limits of the Redis container. @default 100m CPU and 256Mi requested (at most the memory limit),
   * 1Gi memory limit
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
  readonly monitoring?: KubernetesMonitoring;
  /**
   * Sentinel runs the notification and client-reconfig scripts at every event and failover; they lie in the
   * ConfigMap (POD_NOTIFY_SCRIPTS) and sentinel.conf names them. Leave `spec.sentinel.notificationScript` and
   * `clientReconfigScript` out. @default no scripts
   */
  readonly notifications?: KubernetesNotifications;
}

/** One StatefulSet of the cluster: Redis pods (with a Sentinel sidecar, or alone) or Sentinel pods. */
interface Workload {
  readonly id: string;
  readonly name: string;
  readonly headless: string;
  readonly labels: Record<string, string>;
  /** What its pods run; passed to the boot step. */
  readonly processes: "both" | "redis" | "sentinel";
}

/**
 * Redis with Sentinel on Kubernetes: a StatefulSet whose pods each run Redis and a Sentinel sidecar, or,
 * with `sentinels: "separate"`, a second StatefulSet of Sentinel pods; pods know each other by stable
 * DNS names through headless Services. An init container runs the same boot script as a VM (it asks the sentinels
 * for the current master; an empty pod never becomes master while a peer holds data), a preStop hook hands the
 * master over before a Redis pod stops, and network policies admit only the cluster's own pods and the clients.
 */
export class KubernetesRedisSentinel extends Construct {
  readonly config: RedisSentinelConfig;
  /** Each Redis pod's stable DNS name. */
  readonly podAddresses: string[];
  /** Each Sentinel's stable DNS name (the Redis pods' own names when the sentinels are sidecars). */
  readonly sentinelAddresses: string[];
  /** `host:port` of the Service that clients ask for the master. */
  readonly sentinelEndpoint: string;
  readonly masterName: string;
  /** The Secret holding the passwords. */
  readonly passwordSecretName: string;
  /** Spoke's SPOKE_REDIS_URL, in the sentinel form of its Redis guide (`rediss://` with TLS), through the client Service. */
  readonly spokeRedisUrl: string;

  private readonly ports: number[];
  private readonly policyBase: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  private peers: number;

  constructor(scope: Construct, id: string, props: KubernetesRedisSentinelProps) {
    // Validated before the construct joins the tree: bad props leave nothing behind.
    assertProps(props, 'new KubernetesRedisSentinel(scope, "redis", { namespace: "redis", passwordSecret: "redis-passwords" })');
    const config = validate(props);
    super(scope, id);
    const name = props.name ?? "redis";
    const { namespace } = props;
    const domain = props.clusterDomain ?? "cluster.local";
    const separate = props.sentinels === "separate";
    // Shared by every pod of the cluster (network policies); `component` keeps the StatefulSets' selectors apart.
    const labels = { "app.kubernetes.io/name": "redis-sentinel", "app.kubernetes.io/instance": name };
    const redis: Workload = {
      id: "statefulset",
      name,
      headless: `${name}-headless`,
      labels: { ...labels, "app.kubernetes.io/component": "redis" },
      processes: separate ? "redis" : "both",
    };
    const sentinels: Workload = {
      id: "sentinel-statefulset",
      name: `${name}-sentinel`,
      headless: `${name}-sentinel-headless`,
      labels: { ...labels, "app.kubernetes.io/component": "sentinel" },
      processes: "sentinel",
    };
    this.config = config;
    this.masterName = config.topology.masterName;
    this.passwordSecretName = props.passwordSecret;
    this.ports = [config.redis.port, config.sentinel.port];
    if (config.tls.plaintextPort !== undefined) this.ports.push(config.tls.plaintextPort);
    const n = config.topology.nodeCount;
    const addressesOf = (w: Workload) => Array.from({ length: n }, (_, i) => `${w.name}-${i}.${w.headless}.${namespace}.svc.${domain}`);
    this.podAddresses = addressesOf(redis);
    this.sentinelAddresses = separate ? addressesOf(sentinels) : this.podAddresses;
    this.sentinelEndpoint = `${name}-sentinel.${namespace}.svc.${domain}:${config.sentinel.port}`;

    this.spokeRedisUrl = `${config.tls.enabled ? "rediss" : "redis"}://${this.masterName}@${this.sentinelEndpoint}/master/${this.masterName}`;

    if (props.generatePasswords) {
      new SecretV1(this, "password", {
        metadata: { name: props.passwordSecret, namespace, labels },
        data: Object.fromEntries(secretKeys(config).map((key) => [key, `${Fn.uuid()}-${Fn.uuid()}`])),
        // uuid() changes at every plan: the first value stays.
        lifecycle: { ignoreChanges: ["data"] },
      });
    }

    const configMap = new ConfigMapV1(this, "config", {
      metadata: { name: `${name}-config`, namespace, labels },
      // Terraform reads strings as templates: the scripts' ${...} are escaped so that they arrive as written.
      data: Object.fromEntries(
        Object.entries({
          ...renderPodFiles(config, {
            addresses: this.podAddresses,
            ...(separate ? { sentinelAddresses: this.sentinelAddresses } : {}),
          }),
          ...(props.notifications ? notificationFiles(config, props.notifications) : {}),
        }).map(([file, text]) => [file, terraformLiteral(text)]),
      ),
    });

    const workloads = separate ? [redis, sentinels] : [redis];
    for (const w of workloads) this.workload(w, config, props, configMap.metadata.name, namespace);
    // Clients ask the sentinels, wherever they run.
    new ServiceV1(this, "sentinel-service", {
      metadata: { name: `${name}-sentinel`, namespace, labels },
      spec: {
        selector: separate ? sentinels.labels : redis.labels,
        port: [{ name: "sentinel", port: config.sentinel.port, targetPort: String(config.sentinel.port) }],
      },
    });

    // Network policies add up: one admits the cluster's own pods, and each client gets a policy of its own.
    this.policyBase = { name, namespace, labels };
    this.peers = 0;
    this.admit("network-policy", name, { podSelector: { matchLabels: labels } });
    for (const client of props.clients ?? []) this.allowFrom(client);

    if (props.monitoring) {
      const metricsPorts = separate ? [EXPORTER_PORT] : [EXPORTER_PORT, SENTINEL_EXPORTER_PORT];
      props.monitoring.peers.forEach((peer, k) =>
        this.admit(`monitoring-${k}`, `${name}-monitoring-${k}`, peerOf(peer), metricsPorts),
      );
      if (props.monitoring.prometheusRule ?? true) {
        new Manifest(this, "prometheus-rule", {
          manifest: {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name, namespace, labels },
            // The annotations' {{ $labels.x }} pass through Terraform as written; any ${ or %{ is escaped.
            spec: { groups: literalStrings(alertRuleGroups(config, props.monitoring.alertRules)) },
          },
        });
      }
    }
  }

  /** Admits `peer`'s pods to the Redis and Sentinel ports, with a network policy of its own. */
  allowFrom(peer: KubernetesPeer): void {
    const problem = peerProblem(peer);
    if (problem) throw new SpecError([{ path: "allowFrom", value: describeValue(peer), message: problem }]);
    const k = this.peers++;
    this.admit(`client-${k}`, `${this.policyBase.name}-client-${k}`, peerOf(peer));
  }

  private admit(id: string, name: string, from: NetworkPolicyV1SpecIngressFrom, ports: readonly number[] = this.ports): void {
    const { namespace, labels } = this.policyBase;
    new NetworkPolicyV1(this, id, {
      metadata: { name, namespace, labels },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ["Ingress"],
        ingress: [{ from: [from], ports: ports.map((port) => ({ port: String(port), protocol: "TCP" })) }],
      },
    });
  }

  /** A StatefulSet with its headless Service and disruption budget. */
  private workload(w: Workload, config: RedisSentinelConfig, props: KubernetesRedisSentinelProps, configMap: string, namespace: string): void {
    const suffix = w.processes === "sentinel" ? "sentinel-" : "";
    const ports = [
      ...(w.processes !== "sentinel" ? [{ name: "redis", port: config.redis.port }] : []),
      ...(w.processes !== "redis" ? [{ name: "sentinel", port: config.sentinel.port }] : []),
    ];
    new ServiceV1(this, `${suffix}headless`, {
      metadata: { name: w.headless, namespace, labels: w.labels },
      spec: {
        clusterIp: "None",
        // Pods find each other by name before they are ready: the boot step asks the other sentinels.
        publishNotReadyAddresses: true,
        selector: w.labels,
        port: ports.map((p) => ({ name: p.name, port: p.port, targetPort: String(p.port) })),
      },
    });
    new PodDisruptionBudgetV1(this, `${suffix}disruption-budget`, {
      metadata: { name: w.name, namespace, labels: w.labels },
      spec: { maxUnavailable: "1", selector: { matchLabels: w.labels } },
    });

    const mounts = (...names: string[]) =>
      [
        { name: "data", mountPath: POD_PATHS.data },
        { name: "config", mountPath: POD_PATHS.config, readOnly: true },
        { name: "secret", mountPath: POD_PATHS.secret, readOnly: true },
        { name: "tls", mountPath: POD_PATHS.tls, readOnly: true },
        { name: "stage", mountPath: POD_PATHS.stage },
        { name: "webhook", mountPath: POD_WEBHOOK_URL_FILE.replace(/\/[^/]*$/, ""), readOnly: true },
      ].filter((m) => names.includes(m.name));
    const run = (...args: string[]) => ["bash", `${POD_PATHS.config}/${POD_SCRIPT}`, ...args];
    const containerSecurity = {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    };
    const image = props.image ?? DEFAULT_REDIS_IMAGE;
    const secrets = config.tls.enabled ? ["secret", "tls"] : ["secret"];
    const probe = (kind: string, initialDelaySeconds: number) => ({
      exec: { command: run("probe", kind) },
      initialDelaySeconds,
      periodSeconds: 5,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    // Until the startup probe passes, neither liveness nor readiness runs: a Redis loading a large dataset is not
    // killed, and a pod is not Ready (a rolling update does not move on) before every answering sentinel has heard
    // from its new process. Two seconds apart, for up to ten minutes.
    const startupProbe = (kind: string) => ({
      exec: { command: run("probe", kind) },
      periodSeconds: 2,
      timeoutSeconds: 5,
      failureThreshold: 300,
    });
    const redisContainer = {
      name: "redis",
      image,
      command: ["redis-server", NODE_FILES.redisConf],
      workingDir: POD_PATHS.data,
      port: [{ name: "redis", containerPort: config.redis.port }],
      volumeMount: mounts("data", "config", "secret"),
      securityContext: containerSecurity,
      resources: {
        // The default memory request is at most the memory limit: the defaults always pass together.
        requests: { cpu: "100m", memory: defaultMemoryRequest(props.resources?.limits?.memory), ...props.resources?.requests },
        limits: { memory: DEFAULT_MEMORY_LIMIT, ...props.resources?.limits },
      },
      startupProbe: startupProbe("started"),
      livenessProbe: probe("live", 10),
      readinessProbe: probe("ready", 5),
      lifecycle: { preStop: [{ exec: { command: run("prestop") } }] },
    };
    const webhook = props.notifications?.webhookUrlSecret;
    const acl = config.acl.enabled;
    // One exporter per process: REDIS_ADDR is the process on this pod. With TLS the address is the pod's DNS name,
    // which its certificate holds ($(POD_NAME) is expanded by the kubelet, not Terraform).
    const exporter = (name: string, portName: string, port: number, target: number, user: string) => {
      const settings = exporterEnvironment(config, {
        address: config.tls.enabled
          ? `rediss://$(POD_NAME).${w.headless}.${namespace}.svc.${props.clusterDomain ?? "cluster.local"}:${target}`
          : `redis://localhost:${target}`,
        user,
        listenPort: port,
        tlsDir: config.tls.enabled ? POD_PATHS.tls : undefined,
      });
      const login = settings.filter((v) => v.name === "REDIS_ADDR" || v.name === "REDIS_USER");
      return {
        name,
        image: props.monitoring?.image ?? DEFAULT_EXPORTER_IMAGE,
        env: [
          ...(config.tls.enabled ? [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] : []),
          ...login,
          // From the Secret through the environment: never in the arguments, the pod spec or the Terraform state.
          {
            name: "REDIS_PASSWORD",
            valueFrom: { secretKeyRef: { name: props.passwordSecret, key: acl ? passwordKey(user) : PASSWORD_KEY } },
          },
          ...settings.filter((v) => !login.includes(v)),
        ],
        port: [{ name: portName, containerPort: port }],
        volumeMount: config.tls.enabled ? mounts("tls") : [],
        securityContext: containerSecurity,
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
      };
    };
    // The sentinels' ACL has no admin user: their exporter logs in as the sentinel user.
    const exporters = !props.monitoring
      ? []
      : w.processes === "sentinel"
        ? [exporter("exporter", "metrics", EXPORTER_PORT, config.sentinel.port, SYSTEM_USERS.sentinel)]
        : [
            exporter("exporter", "metrics", EXPORTER_PORT, config.redis.port, SYSTEM_USERS.admin),
            ...(w.processes === "both"
              ? [exporter("sentinel-exporter", "sentinel-metric", SENTINEL_EXPORTER_PORT, config.sentinel.port, SYSTEM_USERS.sentinel)]
              : []),
          ];
    const sentinelContainer = {
      name: "sentinel",
      image,
      command: ["redis-sentinel", NODE_FILES.sentinelConf],
      workingDir: POD_PATHS.data,
      port: [{ name: "sentinel", containerPort: config.sentinel.port }],
      volumeMount: mounts("data", "config", "secret", ...(webhook ? ["webhook"] : [])),
      securityContext: containerSecurity,
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
      startupProbe: startupProbe("sentinel-started"),
      livenessProbe: probe("sentinel", 10),
      readinessProbe: probe("sentinel", 5),
    };

    new StatefulSetV1(this, w.id, {
      metadata: { name: w.name, namespace, labels: w.labels },
      spec: {
        serviceName: w.headless,
        replicas: String(config.topology.nodeCount),
        podManagementPolicy: "Parallel",
        selector: { matchLabels: w.labels },
        template: {
          metadata: { labels: w.labels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: w.processes === "sentinel" ? 10 : preStopSeconds(config) + 5,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: "999",
              runAsGroup: "999",
              fsGroup: "999",
              seccompProfile: { type: "RuntimeDefault" },
            },
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: [{ matchLabels: w.labels }] },
                  },
                ],
              },
            },
            topologySpreadConstraint: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: [{ matchLabels: w.labels }],
              },
            ],
            initContainer: [
              {
                name: "boot",
                image,
                command: run("boot", w.processes),
                volumeMount: mounts("data", "config", "stage", ...secrets),
                securityContext: containerSecurity,
              },
            ],
            container: [
              ...(w.processes !== "sentinel" ? [redisContainer] : []),
              ...(w.processes !== "redis" ? [sentinelContainer] : []),
              ...exporters,
            ],
            volume: [
              { name: "config", configMap: { name: configMap, defaultMode: "0555" } },
              {
                name: "secret",
                secret: {
                  secretName: props.passwordSecret,
                  defaultMode: "0400",
                  items: secretKeys(config).map((key) => ({ key, path: key })),
                },
              },
              ...(props.tlsSecret
                ? [
                    {
                      name: "tls",
                      secret: {
                        secretName: props.tlsSecret,
                        defaultMode: "0400",
                        items: Object.values(CERTIFICATE_KEYS).map((key) => ({ key, path: key })),
                      },
                    },
                  ]
                : []),
              { name: "stage", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
              ...(webhook && w.processes !== "redis"
                ? [
                    {
                      name: "webhook",
                      secret: {
                        secretName: webhook.name,
                        defaultMode: "0400",
                        items: [{ key: webhook.key, path: POD_WEBHOOK_URL_FILE.replace(/^.*\//, "") }],
                      },
                    },
                  ]
                : []),
            ],
          },
        },
        volumeClaimTemplate: [
          {
            metadata: { name: "data" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: props.storageClassName,
              resources: { requests: { storage: w.processes === "sentinel" ? "1Gi" : props.storageSize ?? "10Gi" } },
            },
          },
        ],
      },
    });
  }
}

/** A network policy peer of `peer`'s selectors. */
function peerOf(peer: KubernetesPeer): NetworkPolicyV1SpecIngressFrom {
  return {
    ...(peer.podSelector ? { podSelector: { matchLabels: peer.podSelector } } : {}),
    ...(peer.namespaceSelector ? { namespaceSelector: { matchLabels: peer.namespaceSelector } } : {}),
  };
}

/** `value` with every string escaped as a Terraform literal (`${` and `%{`), for a manifest that Terraform reads. */
function literalStrings<T>(value: T): T {
  if (typeof value === "string") return terraformLiteral(value) as T;
  if (Array.isArray(value)) return value.map(literalStrings) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literalStrings(v)])) as T;
  }
  return value;
}

/** The notification scripts, under the names POD_NOTIFY_SCRIPTS gives them in the ConfigMap. */
function notificationFiles(config: RedisSentinelConfig, notifications: KubernetesNotifications): Record<string, string> {
  const options = notifications.webhookUrlSecret ? { webhookUrlFile: POD_WEBHOOK_URL_FILE } : {};
  const file = (path: string) => path.slice(POD_PATHS.config.length + 1);
  return {
    [file(POD_NOTIFY_SCRIPTS.notification)]: renderNotificationScript(config, options),
    [file(POD_NOTIFY_SCRIPTS.clientReconfig)]: renderClientReconfigScript(config, options),
  };
}

/** Default memory limit of the Redis container. */
export const DEFAULT_MEMORY_LIMIT = "1Gi";
/** maxmemory may use this share of the container's memory limit; the rest covers buffers and fork copy-on-write. */
export const MAXMEMORY_SHARE_OF_LIMIT = MAXMEMORY_SHARE_OF_MEMORY;

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

/** Memory request of the Redis container when none is given: 256Mi, or the memory limit when that is smaller. */
function defaultMemoryRequest(limit: string | undefined): string {
  const limitBytes = limit === undefined ? undefined : quantityBytes(limit);
  return limitBytes !== undefined && limitBytes < 256 * 2 ** 20 ? limit! : "256Mi";
}

/** Cores in a Kubernetes CPU quantity (`100m`, `0.5`, `2`), or undefined for one that is not. */
function quantityCores(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  return match ? Number(match[1]) / (match[2] ? 1000 : 1) : undefined;
}

/** Problems of the Redis container's `resources`: quantities that are not, zero ones, requests above limits. */
function resourcesProblems(resources: unknown, add: (path: string, value: unknown, message: string) => void): void {
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
      if (Token.isUnresolved(quantity)) continue; // a resource attribute only: Kubernetes checks it
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

/** The props a KubernetesRedisSentinel reads: any other key is a typo. */
const PROP_NAMES: ReadonlySet<string> = new Set<keyof KubernetesRedisSentinelProps>([
  "namespace", "name", "spec", "passwordSecret", "generatePasswords", "tlsSecret", "image", "storageSize",
  "storageClassName", "resources", "clients", "clusterDomain", "sentinels", "monitoring", "notifications",
]);
const EMPTY_PEER = "names no pods: give a podSelector and/or a namespaceSelector (an empty peer would admit every pod)";
const labelsOf = (selector: unknown) => (isObject(selector) ? Object.keys(selector).length : 0);

/** What is wrong with a peer: none, or one that admits every pod of the cluster (an empty namespaceSelector). */
function peerProblem(peer: unknown): string | undefined {
  if (!isObject(peer)) return 'must be a peer, such as { namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }';
  if (!peer.podSelector && !peer.namespaceSelector) return EMPTY_PEER;
  if (peer.namespaceSelector !== undefined && labelsOf(peer.namespaceSelector) === 0 && labelsOf(peer.podSelector) === 0) {
    return 'admits every pod of every namespace (an empty namespaceSelector matches all): give the namespace\'s labels, such as { namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }';
  }
  return undefined;
}
// The StatefulSets, Services and pod host names are built from these (`<name>-sentinel-headless` within 63).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const WORKLOAD_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The props and the spec, validated together: one error lists every problem, before anything joins the tree. */
function validate(given: KubernetesRedisSentinelProps): RedisSentinelConfig {
  const problems: SpecProblem[] = [];
  const add = (path: string, value: unknown, message: string) => problems.push({ path, value: describeValue(value), message });
  // Terraform tokens: the names that the pods' files and host names are rendered from must be literals; props that
  // only become resource attributes may be tokens, and are checked as a valid stand-in.
  const props: Record<string, unknown> = { ...given };
  const literalStandIns = { namespace: "token", name: "redis", clusterDomain: "cluster.local" } as const;
  for (const [field, standIn] of Object.entries(literalStandIns)) {
    if (Token.isUnresolved(props[field])) {
      problems.push({ path: field, value: "(a Terraform token)", message: TOKEN_AT_SYNTH });
      props[field] = standIn;
    }
  }
  const standIns = { passwordSecret: "token", tlsSecret: "token", image: "token", storageSize: "1Gi", storageClassName: "token" } as const;
  for (const [field, standIn] of Object.entries(standIns)) {
    if (Token.isUnresolved(props[field])) props[field] = standIn;
  }
  return validateLiterals(props as unknown as KubernetesRedisSentinelProps, problems, add);
}

/** The checks of `validate`, on props whose Terraform tokens were reported or replaced by valid stand-ins. */
function validateLiterals(
  props: KubernetesRedisSentinelProps,
  problems: SpecProblem[],
  add: (path: string, value: unknown, message: string) => void,
): RedisSentinelConfig {
  const unknown = Object.keys(props).filter((key) => !PROP_NAMES.has(key));
  if (unknown.length > 0) {
    problems.push({
      path: unknown.join(", "),
      value: "(present)",
      message: `unknown prop${unknown.length === 1 ? "" : "s"}. Check the spelling; the props are listed on KubernetesRedisSentinelProps`,
    });
  }
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
  for (const [path, image] of [["image", props.image], ["monitoring.image", props.monitoring?.image]] as const) {
    if (image !== undefined && (typeof image !== "string" || !/^[^\s]+$/.test(image))) {
      add(path, image, 'must be an image reference with no space, such as "redis:7.2"');
    }
  }
  resourcesProblems(props.resources, add);
  if (props.sentinels !== undefined && props.sentinels !== "sidecar" && props.sentinels !== "separate") {
    add("sentinels", props.sentinels, 'must be "sidecar" or "separate"');
  }
  const flags: Record<string, unknown> = { generatePasswords: props.generatePasswords, "monitoring.prometheusRule": props.monitoring?.prometheusRule };
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && typeof value !== "boolean") add(flag, value, `must be true or false, not a ${typeof value}`);
  }
  const clients: unknown = props.clients;
  if (clients !== undefined && !Array.isArray(clients)) {
    add("clients", clients, 'must be a list of peers, such as [{ namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }]');
  }
  (Array.isArray(clients) ? (clients as KubernetesPeer[]) : []).forEach((peer, i) => {
    const problem = peerProblem(peer);
    if (problem) add(`clients[${i}]`, peer, problem);
  });
  if (props.monitoring !== undefined) {
    const peers = props.monitoring.peers;
    if (!Array.isArray(peers) || peers.length === 0) {
      add("monitoring.peers", peers, "must name the Prometheus pods, such as [{ namespaceSelector: { \"kubernetes.io/metadata.name\": \"monitoring\" } }]");
    } else {
      peers.forEach((peer, i) => {
        const problem = peerProblem(peer);
        if (problem) add(`monitoring.peers[${i}]`, peer, problem);
      });
    }
  }
  const webhookSecret = props.notifications?.webhookUrlSecret;
  if (webhookSecret !== undefined && (!DNS_NAME.test(webhookSecret.name ?? "") || !SECRET_KEY.test(webhookSecret.key ?? ""))) {
    add("notifications.webhookUrlSecret", webhookSecret, "must name a Secret and one of its keys, such as { name: \"redis-webhook\", key: \"url\" }");
  }
  // Every spec value is rendered into the pods' files: a Terraform token there is refused.
  const literal = withoutTokens(props.spec ?? undefined, (v) => Token.isUnresolved(v));
  problems.push(...literal.problems);
  const givenSpec = (literal.spec ?? undefined) as KubernetesRedisSentinelProps["spec"];
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
      notificationScript: POD_NOTIFY_SCRIPTS.notification,
      clientReconfigScript: POD_NOTIFY_SCRIPTS.clientReconfig,
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
  const certificates = props.tlsSecret ? { certificates: { source: "directory", path: POD_PATHS.tls } as const } : {};
  let config: RedisSentinelConfig | undefined;
  try {
    config = parseSpec({
      ...spec,
      ...(tls || props.tlsSecret ? { tls: { ...ownTls, ...certificates } } : {}),
      auth: { secrets: { source: "directory", path: POD_PATHS.secret } },
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
