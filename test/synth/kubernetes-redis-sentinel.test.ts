import { spawnSync } from "node:child_process";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { StatefulSetV1 } from "@cdktf/provider-kubernetes/lib/stateful-set-v1";
import { Testing, TerraformStack } from "cdktf";
import { KubernetesRedisSentinel, type KubernetesRedisSentinelProps } from "../../constructs/kubernetes-redis-sentinel";
import { workloadsOfSynth } from "../../src/local/workloads";
import { renderPodFiles, terraformLiteral } from "../../src/render";

const props: KubernetesRedisSentinelProps = {
  namespace: "spoke",
  passwordSecret: "redis-passwords",
  spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "512mb" } } },
  clients: [{ podSelector: { app: "spoke" } }],
};

function synth(p: KubernetesRedisSentinelProps = props) {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new KubernetesRedisSentinel(stack, "redis", p);
  const text = Testing.synth(stack);
  return { stack, cluster, text, json: JSON.parse(text) };
}
const { cluster, text, json } = synth();
// Shared by every pod of the cluster (network policies); the StatefulSets and their Services add a component.
const labels = { "app.kubernetes.io/name": "redis-sentinel", "app.kubernetes.io/instance": "redis" };
const redisLabels = { ...labels, "app.kubernetes.io/component": "redis" };
const statefulSet = Object.values(json.resource.kubernetes_stateful_set_v1)[0] as any;
// cdktf's matchers compare nested blocks exactly; deep partial checks use the synthesized JSON.
const all = (type: string) => Object.values(json.resource[type] as Record<string, any>);
const pod = statefulSet.spec.template.spec;

test("pods are known by stable names through a headless Service that publishes them before they are ready", () => {
  expect(cluster.podAddresses).toEqual([0, 1, 2].map((i) => `redis-${i}.redis-headless.spoke.svc.cluster.local`));
  expect(text).toHaveResource(ServiceV1);
  expect(all("kubernetes_service_v1")).toEqual([
    expect.objectContaining({
      metadata: { name: "redis-headless", namespace: "spoke", labels: redisLabels },
      spec: expect.objectContaining({ cluster_ip: "None", publish_not_ready_addresses: true, selector: redisLabels }),
    }),
    expect.objectContaining({
      metadata: { name: "redis-sentinel", namespace: "spoke", labels },
      spec: { selector: redisLabels, port: [{ name: "sentinel", port: 26379, target_port: "26379" }] },
    }),
  ]);
  expect(cluster.sentinelEndpoints).toEqual(["redis-sentinel.spoke.svc.cluster.local:26379"]);
});

test("the ConfigMap holds the rendered files, byte for byte, from the renderer the VMs use", () => {
  expect(text).toHaveResourceWithProperties(ConfigMapV1, {
    data: Object.fromEntries(
      Object.entries(renderPodFiles(cluster.config, { addresses: cluster.podAddresses })).map(([k, v]) => [k, terraformLiteral(v)]),
    ),
  });
  const data = (Object.values(json.resource.kubernetes_config_map_v1)[0] as any).data;
  expect(data["sentinel-1.conf"]).toContain("sentinel resolve-hostnames yes");
  expect(data["redis-1.conf"]).toContain("replicaof redis-0.redis-headless.spoke.svc.cluster.local 6379");
  const podScript = renderPodFiles(cluster.config, { addresses: cluster.podAddresses })["pod.sh"];
  const shellcheck = spawnSync("shellcheck", ["--shell=bash", "-"], { input: podScript, encoding: "utf8" });
  expect(shellcheck.stdout).toBe("");
  expect(shellcheck.status).toBe(0);
  // The copies in the emptyDir are replaced on a re-run of the init container (the ConfigMap's files are 0555).
  expect(podScript).toContain('install -m 0600 "/etc/redis-ha/redis-$ordinal.conf" "/stage/redis.conf"');
  expect(podScript).not.toMatch(/^\s*cp /m);
});

test("the emulated kubelet reads back exactly the rendered files and the pod template from the synthesized JSON", () => {
  const workloads = workloadsOfSynth(json);
  expect(workloads.configMaps["redis-config"]).toEqual(renderPodFiles(cluster.config, { addresses: cluster.podAddresses }));
  const [set] = workloads.statefulSets;
  expect(set).toMatchObject({ name: "redis", serviceName: "redis-headless", replicas: 3, podManagementPolicy: "Parallel", runAsUser: 999, fsGroup: 999 });
  expect(set.volumes.map((v) => [v.name, v.kind])).toEqual([["config", "configMap"], ["secret", "secret"], ["stage", "emptyDir"], ["data", "claim"]]);
  expect(set.containers[0].startupProbe?.command).toEqual(["bash", "/etc/redis-ha/pod.sh", "probe", "started"]);
  expect(set.containers[0].readOnlyRootFilesystem).toBe(true);
  expect(set.volumes[0]).toMatchObject({ configMap: "redis-config", defaultMode: 0o555 });
});

test("a StatefulSet of 3 pods: a boot init container, Redis and a Sentinel sidecar, a volume per pod", () => {
  expect(text).toHaveResource(StatefulSetV1);
  expect(statefulSet.spec).toMatchObject({ replicas: "3", service_name: "redis-headless", pod_management_policy: "Parallel" });
  expect(pod.init_container.map((c: any) => [c.name, c.command])).toEqual([["boot", ["bash", "/etc/redis-ha/pod.sh", "boot", "both"]]]);
  expect(pod.container.map((c: any) => [c.name, c.command, c.working_dir])).toEqual([
    ["redis", ["redis-server", "redis.conf"], "/data"],
    ["sentinel", ["redis-sentinel", "sentinel.conf"], "/data"],
  ]);
  expect(statefulSet.spec.volume_claim_template[0].spec).toMatchObject({
    access_modes: ["ReadWriteOnce"],
    resources: { requests: { storage: "10Gi" } },
  });
});

test("non-root, read-only root file system, no privilege escalation, no capabilities, seccomp, no API token", () => {
  expect(pod.security_context).toEqual({
    run_as_non_root: true,
    run_as_user: "999",
    run_as_group: "999",
    fs_group: "999",
    seccomp_profile: { type: "RuntimeDefault" },
  });
  for (const c of [...pod.init_container, ...pod.container]) {
    expect(c.security_context).toEqual({
      run_as_non_root: true,
      read_only_root_filesystem: true,
      allow_privilege_escalation: false,
      capabilities: { drop: ["ALL"] },
    });
  }
  expect(pod.automount_service_account_token).toBe(false);
});

test("probes and the preStop hand-over run the rendered scripts; the grace period covers the hand-over", () => {
  const [redis, sentinel] = pod.container;
  expect(redis.liveness_probe.exec.command).toEqual(["bash", "/etc/redis-ha/pod.sh", "probe", "live"]);
  expect(redis.readiness_probe.exec.command).toEqual(["bash", "/etc/redis-ha/pod.sh", "probe", "ready"]);
  expect(sentinel.readiness_probe.exec.command).toEqual(["bash", "/etc/redis-ha/pod.sh", "probe", "sentinel"]);
  expect(redis.lifecycle.pre_stop[0].exec.command).toEqual(["bash", "/etc/redis-ha/pod.sh", "prestop"]);
  // Liveness and readiness wait for the startup probes: every answering sentinel has heard from the new process.
  expect(redis.startup_probe).toEqual({
    exec: { command: ["bash", "/etc/redis-ha/pod.sh", "probe", "started"] },
    period_seconds: 2,
    timeout_seconds: 5,
    failure_threshold: 300,
  });
  expect(sentinel.startup_probe.exec.command).toEqual(["bash", "/etc/redis-ha/pod.sh", "probe", "sentinel-started"]);
  expect(pod.termination_grace_period_seconds).toBe(30); // 5 s catch-up + 10 s failover + 5 s agreeing + 5 s margin, + 5 s
});

test("spread over nodes and zones; at most one pod down at a time", () => {
  expect(pod.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term.topology_key).toBe(
    "kubernetes.io/hostname",
  );
  expect(pod.topology_spread_constraint[0]).toMatchObject({ topology_key: "topology.kubernetes.io/zone", max_skew: 1 });
  expect(text).toHaveResourceWithProperties(PodDisruptionBudgetV1, { spec: { max_unavailable: "1", selector: { match_labels: redisLabels } } });
});

test("network policies admit the cluster's own pods and each client, on the two ports only", () => {
  const ports = [{ port: "6379", protocol: "TCP" }, { port: "26379", protocol: "TCP" }];
  const policy = (name: string, from: object) => ({
    metadata: { name, namespace: "spoke", labels },
    spec: { pod_selector: { match_labels: labels }, policy_types: ["Ingress"], ingress: [{ from: [from], ports }] },
  });
  expect(text).toHaveResource(NetworkPolicyV1);
  expect(all("kubernetes_network_policy_v1")).toEqual(
    expect.arrayContaining([
      policy("redis", { pod_selector: { match_labels: labels } }),
      policy("redis-client-0", { pod_selector: { match_labels: { app: "spoke" } } }),
    ]),
  );
  const { cluster: c, stack } = synth();
  c.allowFrom({ namespaceSelector: { team: "payments" } });
  const after = Object.values(JSON.parse(Testing.synth(stack)).resource.kubernetes_network_policy_v1);
  expect(after).toContainEqual(policy("redis-client-1", { namespace_selector: { match_labels: { team: "payments" } } }));
  expect(after).toHaveLength(3);
  expect(() => c.allowFrom({})).toThrow("allowFrom = {}: names no pods");
});

test("the passwords come from the existing Secret, mounted read-only; no secret in the synthesized JSON", () => {
  expect(pod.volume.find((v: any) => v.name === "secret").secret).toEqual({
    secret_name: "redis-passwords",
    default_mode: "0400",
    items: ["app-password", "admin-password", "replication-password", "sentinel-password"].map((key) => ({ key, path: key })),
  });
  expect(text).not.toMatch(/requirepass "|masterauth "/);
});

test('sentinels: "separate" runs them in a StatefulSet of their own, which the client Service selects', () => {
  const { cluster: c, json: j } = synth({ ...props, sentinels: "separate" });
  const sentinelLabels = { ...labels, "app.kubernetes.io/component": "sentinel" };
  const sets = (Object.values(j.resource.kubernetes_stateful_set_v1) as any[]).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  expect(sets.map((set) => [set.metadata.name, set.spec.template.spec.container.map((x: any) => x.name), set.spec.template.spec.init_container[0].command[3]])).toEqual([
    ["redis", ["redis"], "redis"],
    ["redis-sentinel", ["sentinel"], "sentinel"],
  ]);
  expect(sets[1].spec.selector.match_labels).toEqual(sentinelLabels);
  expect(c.sentinelAddresses).toEqual([0, 1, 2].map((i) => `redis-sentinel-${i}.redis-sentinel-headless.spoke.svc.cluster.local`));
  const services = Object.values(j.resource.kubernetes_service_v1) as any[];
  expect(services.find((x) => x.metadata.name === "redis-sentinel").spec.selector).toEqual(sentinelLabels);
  expect(services.find((x) => x.metadata.name === "redis-sentinel-headless").spec).toMatchObject({ cluster_ip: "None", selector: sentinelLabels });
  const data = (Object.values(j.resource.kubernetes_config_map_v1)[0] as any).data;
  expect(data["sentinel-1.conf"]).toContain(`sentinel announce-ip ${c.sentinelAddresses[1]}`);
  expect(data["boot-1.sh"]).toContain(`sentinels=(${c.sentinelAddresses.join(" ")})`);
  expect(Object.keys(j.resource.kubernetes_pod_disruption_budget_v1)).toHaveLength(2);
});

test("by default the Secret must exist; with generatePasswords, Terraform generates each password when it applies", () => {
  expect(json.resource.kubernetes_secret_v1).toBeUndefined();
  const { text: generated } = synth({ ...props, generatePasswords: true });
  expect(generated).toHaveResourceWithProperties(SecretV1, {
    data: {
      "app-password": "${uuid()}-${uuid()}",
      "admin-password": "${uuid()}-${uuid()}",
      "replication-password": "${uuid()}-${uuid()}",
      "sentinel-password": "${uuid()}-${uuid()}",
    },
    lifecycle: { ignore_changes: ["data"] },
  });
  expect(generated).not.toMatch(/requirepass "|masterauth "/);
});

test("bad props fail before anything joins the tree", () => {
  const stack = new TerraformStack(Testing.app(), "bad");
  expect(() => new KubernetesRedisSentinel(stack, "redis", { ...props, spec: { topology: { nodeCount: 4 } } })).toThrow(
    "  - spec.topology.nodeCount = 4: must be odd",
  );
  expect(() => new KubernetesRedisSentinel(stack, "redis", { ...props, spec: { redis: { memory: { maxmemory: "2gb" } } } })).toThrow(
    '  - spec.redis.memory.maxmemory = "2gb": is above 75% of the Redis container\'s memory limit (1Gi): the pod would be killed before Redis evicts. Lower maxmemory, or raise resources.limits.memory',
  );
  expect(stack.node.children).toEqual([]);
});

test("TLS: the certificates come from tlsSecret, mounted for the boot step only; clients are told rediss://", () => {
  const { cluster: c, json: j } = synth({ ...props, tlsSecret: "redis-tls", spec: { ...props.spec, tls: { enabled: true } } });
  expect(c.config.tls).toMatchObject({ enabled: true, certificates: { source: "directory", path: "/etc/redis-ha-tls" } });
  expect(c.sentinelUrl).toBe("rediss://spoke-redis@redis-sentinel.spoke.svc.cluster.local:26379/master/spoke-redis");
  const p = (Object.values(j.resource.kubernetes_stateful_set_v1)[0] as any).spec.template.spec;
  expect(p.volume.find((v: any) => v.name === "tls").secret).toEqual({
    secret_name: "redis-tls",
    default_mode: "0400",
    items: ["tls.crt", "tls.key", "ca.crt"].map((key) => ({ key, path: key })),
  });
  expect(p.init_container[0].volume_mount).toContainEqual({ name: "tls", mount_path: "/etc/redis-ha-tls", read_only: true });
  for (const container of p.container) expect(container.volume_mount.map((m: any) => m.name)).not.toContain("tls");
  const data = (Object.values(j.resource.kubernetes_config_map_v1)[0] as any).data;
  expect(data["redis-0.conf"]).toMatch(/^port 0\ntls-port 6379\ntls-replication yes\ntls-auth-clients optional$/m);
  expect(data["sentinel-0.conf"]).toMatch(/^tls-port 26379$/m);
  expect(data["boot-0.sh"]).toContain('certificate tls.crt | write_private "$home/tls/tls.crt"');
  expect(JSON.stringify(j)).not.toMatch(/BEGIN (CERTIFICATE|PRIVATE KEY)/);
});
