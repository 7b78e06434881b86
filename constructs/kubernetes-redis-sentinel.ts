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
  renderSentinelUrl,
  EXPORTER_PORT,
  exporterEnvironment,
  NODE_FILES,
  renderClientReconfigScript,
  renderNotificationScript,
  terraformLiteral,
  POD_PATHS,
  POD_SCRIPT,
  preStopSeconds,
  renderPodFiles,
  type AlertRulesOptions,
} from "../src/render";
import {
  passwordKey,
  PASSWORD_KEY,
  SYSTEM_USERS,
  assertProps,
  describeValue,
  kubernetesPeerProblem,
  parseKubernetesProps,
  CERTIFICATE_KEYS,
  secretKeys,
  SpecError,
  type KubernetesMonitoringInput,
  type KubernetesNotifications,
  type KubernetesPeer,
  type KubernetesPropsInput,
  type RedisSentinelConfig,
  type ResolvedKubernetesProps,
} from "../src/spec";

// The props' defaults and checks live in the spec layer (src/spec/kubernetes.ts); their public names stay here too.
export { DEFAULT_EXPORTER_IMAGE, DEFAULT_MEMORY_LIMIT, DEFAULT_REDIS_IMAGE, MAXMEMORY_SHARE_OF_LIMIT } from "../src/spec";
export type { KubernetesNotifications, KubernetesPeer } from "../src/spec";

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
export interface KubernetesMonitoring extends KubernetesMonitoringInput {
  /**
   * Options of the alert rules, such as the `selector` matching the job your PodMonitor or scrape config gives the
   * exporters. @default alertRuleGroups' defaults, such as the selector DEFAULT_ALERT_SELECTOR (`job="redis-ha"`)
   */
  readonly alertRules?: AlertRulesOptions;
}

/**
 * The props of a KubernetesRedisSentinel, documented on KubernetesPropsInput, where the spec layer checks them and
 * applies their defaults.
 */
export interface KubernetesRedisSentinelProps extends KubernetesPropsInput {
  /** Prometheus scraping and alerting (KubernetesPropsInput.monitoring), with the options of the alert rules. @default no monitoring */
  readonly monitoring?: KubernetesMonitoring;
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
  /**
   * `host:port` of the Service that clients ask for the master: one entry, the twin of the EC2 construct's list of
   * every sentinel.
   */
  readonly sentinelEndpoints: string[];
  readonly masterName: string;
  /** The Secret holding the passwords. */
  readonly passwordSecretName: string;
  /**
   * The sentinel URL clients find the master by, through the Service (`redis://<master>@<service>/master/<master>`,
   * `rediss://` with TLS): Spoke's SPOKE_REDIS_URL.
   */
  readonly sentinelUrl: string;

  private readonly ports: number[];
  private readonly policyBase: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  private peers: number;

  constructor(scope: Construct, id: string, props: KubernetesRedisSentinelProps) {
    // Validated before the construct joins the tree: bad props leave nothing behind.
    assertProps(props, 'new KubernetesRedisSentinel(scope, "redis", { namespace: "redis", passwordSecret: "redis-passwords" })');
    const resolved = parseKubernetesProps(
      props,
      { secretDir: POD_PATHS.secret, tlsDir: POD_PATHS.tls, notifyScripts: POD_NOTIFY_SCRIPTS },
      Token.isUnresolved,
    );
    super(scope, id);
    const { config, name, namespace, clusterDomain: domain } = resolved;
    const separate = resolved.sentinels === "separate";
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
    this.passwordSecretName = resolved.passwordSecret;
    this.ports = [config.redis.port, config.sentinel.port];
    if (config.tls.plaintextPort !== undefined) this.ports.push(config.tls.plaintextPort);
    const n = config.topology.nodeCount;
    const addressesOf = (w: Workload) => Array.from({ length: n }, (_, i) => `${w.name}-${i}.${w.headless}.${namespace}.svc.${domain}`);
    this.podAddresses = addressesOf(redis);
    this.sentinelAddresses = separate ? addressesOf(sentinels) : this.podAddresses;
    this.sentinelEndpoints = [`${name}-sentinel.${namespace}.svc.${domain}:${config.sentinel.port}`];
    this.sentinelUrl = renderSentinelUrl({ masterName: this.masterName, sentinels: this.sentinelEndpoints, tls: config.tls.enabled });

    if (resolved.generatePasswords) {
      new SecretV1(this, "password", {
        metadata: { name: resolved.passwordSecret, namespace, labels },
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
          ...(resolved.notifications ? notificationFiles(config, resolved.notifications) : {}),
        }).map(([file, text]) => [file, terraformLiteral(text)]),
      ),
    });

    const workloads = separate ? [redis, sentinels] : [redis];
    for (const w of workloads) this.workload(w, resolved, configMap.metadata.name);
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
    for (const client of resolved.clients) this.allowFrom(client);

    if (resolved.monitoring) {
      const metricsPorts = separate ? [EXPORTER_PORT] : [EXPORTER_PORT, SENTINEL_EXPORTER_PORT];
      resolved.monitoring.peers.forEach((peer, k) =>
        this.admit(`monitoring-${k}`, `${name}-monitoring-${k}`, peerOf(peer), metricsPorts),
      );
      if (resolved.monitoring.prometheusRule) {
        new Manifest(this, "prometheus-rule", {
          manifest: {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name, namespace, labels },
            // The annotations' {{ $labels.x }} pass through Terraform as written; any ${ or %{ is escaped. The alert
            // rules' options are the renderer's to check (alertRuleGroups), and pass as given.
            spec: { groups: literalStrings(alertRuleGroups(config, props.monitoring?.alertRules)) },
          },
        });
      }
    }
  }

  /** Admits `peer`'s pods to the Redis and Sentinel ports, with a network policy of its own. */
  allowFrom(peer: KubernetesPeer): void {
    const problem = kubernetesPeerProblem(peer);
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
  private workload(w: Workload, resolved: ResolvedKubernetesProps, configMap: string): void {
    const { config, namespace } = resolved;
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
    const { image } = resolved;
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
      resources: resolved.resources,
      startupProbe: startupProbe("started"),
      livenessProbe: probe("live", 10),
      readinessProbe: probe("ready", 5),
      lifecycle: { preStop: [{ exec: { command: run("prestop") } }] },
    };
    const webhook = resolved.notifications?.webhookUrlSecret;
    const acl = config.acl.enabled;
    // One exporter per process: REDIS_ADDR is the process on this pod. With TLS the address is the pod's DNS name,
    // which its certificate holds ($(POD_NAME) is expanded by the kubelet, not Terraform).
    const exporter = (image: string, name: string, portName: string, port: number, target: number, user: string) => {
      const settings = exporterEnvironment(config, {
        address: config.tls.enabled
          ? `rediss://$(POD_NAME).${w.headless}.${namespace}.svc.${resolved.clusterDomain}:${target}`
          : `redis://localhost:${target}`,
        user,
        listenPort: port,
        tlsDir: config.tls.enabled ? POD_PATHS.tls : undefined,
      });
      const login = settings.filter((v) => v.name === "REDIS_ADDR" || v.name === "REDIS_USER");
      return {
        name,
        image,
        env: [
          ...(config.tls.enabled ? [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] : []),
          ...login,
          // From the Secret through the environment: never in the arguments, the pod spec or the Terraform state.
          {
            name: "REDIS_PASSWORD",
            valueFrom: { secretKeyRef: { name: resolved.passwordSecret, key: acl ? passwordKey(user) : PASSWORD_KEY } },
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
    const { monitoring } = resolved;
    const exporters = !monitoring
      ? []
      : w.processes === "sentinel"
        ? [exporter(monitoring.image, "exporter", "metrics", EXPORTER_PORT, config.sentinel.port, SYSTEM_USERS.sentinel)]
        : [
            exporter(monitoring.image, "exporter", "metrics", EXPORTER_PORT, config.redis.port, SYSTEM_USERS.admin),
            ...(w.processes === "both"
              ? [exporter(monitoring.image, "sentinel-exporter", "sentinel-metric", SENTINEL_EXPORTER_PORT, config.sentinel.port, SYSTEM_USERS.sentinel)]
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
                  secretName: resolved.passwordSecret,
                  defaultMode: "0400",
                  items: secretKeys(config).map((key) => ({ key, path: key })),
                },
              },
              ...(resolved.tlsSecret
                ? [
                    {
                      name: "tls",
                      secret: {
                        secretName: resolved.tlsSecret,
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
              storageClassName: resolved.storageClassName,
              resources: { requests: { storage: w.processes === "sentinel" ? "1Gi" : resolved.storageSize } },
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
