import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { KubernetesRedisSentinel, type KubernetesRedisSentinelProps } from "../constructs/kubernetes-redis-sentinel";

/** A Kubernetes environment: which cluster (a kubeconfig context) and the construct's props. */
export interface KubernetesEnvironment {
  readonly name: string;
  /** kubeconfig file and context Terraform uses; nothing is contacted at synth time. */
  readonly kubeconfig: { readonly path: string; readonly context: string };
  readonly cluster: KubernetesRedisSentinelProps;
}

/** The example Kubernetes environment: Spoke's namespace, the passwords in an existing Secret, Spoke's pods as clients. */
export const KUBERNETES_ENVIRONMENTS: readonly KubernetesEnvironment[] = [
  {
    name: "k8s-dev",
    kubeconfig: { path: "~/.kube/config", context: "dev" },
    cluster: {
      namespace: "spoke",
      passwordSecret: "redis-passwords",
      spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "768mb" } } },
      storageSize: "5Gi",
      clients: [{ podSelector: { "app.kubernetes.io/name": "spoke" } }],
    },
  },
];

/** The stack of a Kubernetes environment: `redis-sentinel-<name>`, with local state and the client outputs. */
export class KubernetesRedisSentinelStack extends TerraformStack {
  readonly cluster: KubernetesRedisSentinel;

  constructor(scope: Construct, id: string, environment: KubernetesEnvironment) {
    super(scope, id);
    // The cluster first: bad props fail before the stack holds a backend or a provider.
    const c = (this.cluster = new KubernetesRedisSentinel(this, "redis-sentinel", environment.cluster));
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    new KubernetesProvider(this, "kubernetes", {
      configPath: environment.kubeconfig.path,
      configContext: environment.kubeconfig.context,
    });
    new TerraformOutput(this, "sentinel_service", { value: c.sentinelEndpoints[0], description: "Ask it for the master" });
    new TerraformOutput(this, "sentinel_master_name", { value: c.masterName });
    new TerraformOutput(this, "password_secret", { value: c.passwordSecretName, description: "Secret holding the passwords" });
    new TerraformOutput(this, "spoke_redis_url", { value: c.sentinelUrl, description: "SPOKE_REDIS_URL" });
    new TerraformOutput(this, "pod_addresses", { value: c.podAddresses });
  }
}
