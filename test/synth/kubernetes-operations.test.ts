import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { Testing, TerraformStack } from "cdktf";
import {
  KubernetesRedisSentinel,
  POD_NOTIFY_SCRIPTS,
  POD_WEBHOOK_URL_FILE,
  type KubernetesRedisSentinelProps,
} from "../../constructs/kubernetes-redis-sentinel";
import { alertRuleGroups, renderClientReconfigScript, renderNotificationScript, terraformLiteral } from "../../src/render";

const prometheus = { namespaceSelector: { "kubernetes.io/metadata.name": "monitoring" }, podSelector: { app: "prometheus" } };
const props: KubernetesRedisSentinelProps = {
  namespace: "spoke",
  passwordSecret: "redis-passwords",
  generatePasswords: true,
  spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "512mb" } } },
  clients: [{ podSelector: { app: "spoke" } }],
  monitoring: { peers: [prometheus] },
  notifications: { webhookUrlSecret: { name: "redis-webhook", key: "url" } },
};

function synth(p: KubernetesRedisSentinelProps = props) {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new KubernetesRedisSentinel(stack, "redis", p);
  const text = Testing.synth(stack);
  return { cluster, text, json: JSON.parse(text) };
}
const all = (json: any, type: string) => Object.values((json.resource[type] ?? {}) as Record<string, any>);
const podsOf = (json: any) => all(json, "kubernetes_stateful_set_v1").map((s) => s.spec.template.spec);
const container = (pod: any, name: string) => pod.container.find((c: any) => c.name === name);
const secretRef = (key: string) => ({ secret_key_ref: { name: "redis-passwords", key } });

describe("monitoring", () => {
  const { cluster, text, json } = synth();
  const [pod] = podsOf(json);

  test("each Redis pod runs an exporter for Redis (admin) and one for its sentinel, passwords from the Secret's env", () => {
    const redisExporter = container(pod, "exporter");
    expect(redisExporter).toEqual(
      expect.objectContaining({
        image: "oliver006/redis_exporter:v1.45.0",
        port: [{ name: "metrics", container_port: 9121 }],
        security_context: {
          run_as_non_root: true,
          read_only_root_filesystem: true,
          allow_privilege_escalation: false,
          capabilities: { drop: ["ALL"] },
        },
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
      }),
    );
    expect(redisExporter.args).toBeUndefined();
    expect(redisExporter.command).toBeUndefined();
    expect(redisExporter.env).toEqual([
      { name: "REDIS_ADDR", value: "redis://localhost:6379" },
      { name: "REDIS_USER", value: "admin" },
      { name: "REDIS_PASSWORD", value_from: secretRef("admin-password") },
      { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: ":9121" },
    ]);
    // The sentinels' ACL has no admin user: the sentinel's exporter logs in as sentinel.
    expect(container(pod, "sentinel-exporter").env).toEqual([
      { name: "REDIS_ADDR", value: "redis://localhost:26379" },
      { name: "REDIS_USER", value: "sentinel" },
      { name: "REDIS_PASSWORD", value_from: secretRef("sentinel-password") },
      { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: ":9122" },
    ]);
  });

  test("no password text appears in the synthesized JSON: generated passwords live only in the Secret resource", () => {
    const withoutSecret = { ...json, resource: { ...json.resource, kubernetes_secret_v1: undefined } };
    expect(JSON.stringify(withoutSecret)).not.toMatch(/uuid\(\)/);
    // Every mention of a password key outside the Secret is a reference by name, never a value.
    for (const p of podsOf(json)) {
      for (const c of p.container) {
        for (const e of c.env ?? []) if (/PASSWORD/.test(e.name)) expect(e).toEqual({ name: e.name, value_from: expect.anything() });
      }
    }
  });

  test("one network policy admits the Prometheus pods to the exporters' ports, and to nothing else", () => {
    expect(text).toHaveResourceWithProperties(NetworkPolicyV1, {
      metadata: { name: "redis-monitoring-0", namespace: "spoke", labels: { "app.kubernetes.io/name": "redis-sentinel", "app.kubernetes.io/instance": "redis" } },
      spec: {
        pod_selector: { match_labels: { "app.kubernetes.io/name": "redis-sentinel", "app.kubernetes.io/instance": "redis" } },
        policy_types: ["Ingress"],
        ingress: [
          {
            from: [
              {
                pod_selector: { match_labels: { app: "prometheus" } },
                namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "monitoring" } },
              },
            ],
            ports: [
              { port: "9121", protocol: "TCP" },
              { port: "9122", protocol: "TCP" },
            ],
          },
        ],
      },
    });
    const policies = all(json, "kubernetes_network_policy_v1");
    const metrics = policies.filter((p) => p.spec.ingress[0].ports.some((port: any) => ["9121", "9122"].includes(port.port)));
    expect(metrics).toHaveLength(1);
    // The client and the cluster's own policy stay on Redis and Sentinel.
    for (const p of policies.filter((p) => p !== metrics[0])) {
      expect(p.spec.ingress[0].ports.map((port: any) => port.port)).toEqual(["6379", "26379"]);
    }
  });

  test("the PrometheusRule holds alertRuleGroups(config), escaped for Terraform", () => {
    const groups = alertRuleGroups(cluster.config);
    expect(JSON.stringify(groups)).not.toMatch(/\$\{|%\{/);
    expect(text).toHaveResourceWithProperties(Manifest, {
      manifest: {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "redis", namespace: "spoke", labels: { "app.kubernetes.io/name": "redis-sentinel", "app.kubernetes.io/instance": "redis" } },
        spec: { groups },
      },
    });
  });

  test("prometheusRule: false leaves the PrometheusRule out (no CRD), keeping the exporters", () => {
    const off = synth({ ...props, monitoring: { peers: [prometheus], prometheusRule: false } });
    expect(off.json.resource.kubernetes_manifest).toBeUndefined();
    expect(container(podsOf(off.json)[0], "exporter")).toBeDefined();
  });

  test("separate sentinels: their pods get one exporter on 9121 for the sentinel, and the policy one port", () => {
    const s = synth({ ...props, sentinels: "separate", spec: { ...props.spec, acl: { enabled: false } } });
    const sets = all(s.json, "kubernetes_stateful_set_v1");
    const podOf = (name: string) => sets.find((set) => set.metadata.name === name).spec.template.spec;
    const [redisPod, sentinelPod] = [podOf("redis"), podOf("redis-sentinel")];
    expect(redisPod.container.map((c: any) => c.name)).toEqual(["redis", "exporter"]);
    expect(sentinelPod.container.map((c: any) => c.name)).toEqual(["sentinel", "exporter"]);
    expect(container(sentinelPod, "exporter").env).toEqual([
      { name: "REDIS_ADDR", value: "redis://localhost:26379" },
      { name: "REDIS_PASSWORD", value_from: secretRef("password") },
      { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: ":9121" },
    ]);
    const metrics = all(s.json, "kubernetes_network_policy_v1").find((p) => p.metadata.name === "redis-monitoring-0");
    expect(metrics.spec.ingress[0].ports).toEqual([{ port: "9121", protocol: "TCP" }]);
  });

  test("with TLS the exporters reach their process by the pod's DNS name (its certificate's) with the mounted certificates", () => {
    const tls = synth({ ...props, tlsSecret: "redis-tls", spec: { ...props.spec, tls: { enabled: true } } });
    const exporter = container(podsOf(tls.json)[0], "exporter");
    expect(exporter.env).toEqual([
      { name: "POD_NAME", value_from: { field_ref: { field_path: "metadata.name" } } },
      { name: "REDIS_ADDR", value: "rediss://$(POD_NAME).redis-headless.spoke.svc.cluster.local:6379" },
      { name: "REDIS_USER", value: "admin" },
      { name: "REDIS_PASSWORD", value_from: secretRef("admin-password") },
      { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: ":9121" },
      { name: "REDIS_EXPORTER_TLS_CA_CERT_FILE", value: "/etc/redis-ha-tls/ca.crt" },
      { name: "REDIS_EXPORTER_TLS_CLIENT_CERT_FILE", value: "/etc/redis-ha-tls/tls.crt" },
      { name: "REDIS_EXPORTER_TLS_CLIENT_KEY_FILE", value: "/etc/redis-ha-tls/tls.key" },
    ]);
    expect(exporter.volume_mount).toEqual([{ name: "tls", mount_path: "/etc/redis-ha-tls", read_only: true }]);
  });

  test("without monitoring there is no exporter, no policy for it and no PrometheusRule", () => {
    const { monitoring: _m, ...rest } = props;
    const plain = synth(rest);
    expect(podsOf(plain.json)[0].container.map((c: any) => c.name)).toEqual(["redis", "sentinel"]);
    expect(plain.json.resource.kubernetes_manifest).toBeUndefined();
  });

  test("monitoring without Prometheus peers, or with an empty one, is rejected naming the field", () => {
    expect(() => synth({ ...props, monitoring: { peers: [] } })).toThrow(/monitoring\.peers/);
    expect(() => synth({ ...props, monitoring: { peers: [{}] } })).toThrow(/monitoring\.peers\[0\].*names no pods/);
  });
});

describe("notifications", () => {
  const { cluster, json } = synth();
  const data = (Object.values(json.resource.kubernetes_config_map_v1)[0] as any).data;
  const [pod] = podsOf(json);

  test("sentinel.conf of every node names the scripts, which lie in the ConfigMap as rendered", () => {
    for (const i of [0, 1, 2]) {
      expect(data[`sentinel-${i}.conf`]).toContain(`sentinel notification-script spoke-redis ${POD_NOTIFY_SCRIPTS.notification}\n`);
      expect(data[`sentinel-${i}.conf`]).toContain(`sentinel client-reconfig-script spoke-redis ${POD_NOTIFY_SCRIPTS.clientReconfig}\n`);
    }
    expect(POD_NOTIFY_SCRIPTS.notification).toBe("/etc/redis-ha/notify.sh");
    const options = { webhookUrlFile: POD_WEBHOOK_URL_FILE };
    expect(data["notify.sh"]).toBe(terraformLiteral(renderNotificationScript(cluster.config, options)));
    expect(data["client-reconfig.sh"]).toBe(terraformLiteral(renderClientReconfigScript(cluster.config, options)));
  });

  test("the webhook URL comes from the mounted Secret file, into the sentinel container only, never the ConfigMap", () => {
    expect(data["notify.sh"]).toContain(`cat -- ${POD_WEBHOOK_URL_FILE}`);
    expect(pod.volume).toContainEqual({
      name: "webhook",
      secret: { secret_name: "redis-webhook", default_mode: "0400", items: [{ key: "url", path: "webhook-url" }] },
    });
    expect(container(pod, "sentinel").volume_mount).toContainEqual({ name: "webhook", mount_path: "/etc/redis-ha-webhook", read_only: true });
    expect(container(pod, "redis").volume_mount.map((m: any) => m.name)).not.toContain("webhook");
  });

  test("a ConfigMap built with the typed class holds the scripts", () => {
    expect(synth().text).toHaveResourceWithProperties(ConfigMapV1, {
      data: expect.objectContaining({ "notify.sh": expect.stringContaining("#!/usr/bin/env bash") }),
    });
  });

  test("without a webhook the scripts only log, and no Secret is mounted", () => {
    const logOnly = synth({ ...props, notifications: {} });
    const d = (Object.values(logOnly.json.resource.kubernetes_config_map_v1)[0] as any).data;
    expect(d["notify.sh"]).toBe(terraformLiteral(renderNotificationScript(logOnly.cluster.config)));
    expect(podsOf(logOnly.json)[0].volume.map((v: any) => v.name)).not.toContain("webhook");
  });

  test("scripts the user set in the spec are rejected: the construct sets them", () => {
    expect(() =>
      synth({ ...props, spec: { ...props.spec, sentinel: { notificationScript: "/usr/local/bin/notify.sh" } } }),
    ).toThrow(/spec\.sentinel\.notificationScript.*is set by the construct with notifications/);
  });
});
