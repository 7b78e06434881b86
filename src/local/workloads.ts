import { terraformLiteralText } from "../render";

/**
 * The StatefulSets of a synthesized stack, as a kubelet would read them: the fields of the pod template that decide
 * how its processes run. Read from the synthesized JSON (the Kubernetes provider's snake_case blocks), so that the
 * emulated pods run exactly the commands a cluster would.
 */

/** An exec probe. */
export interface ProbeSpec {
  readonly command: readonly string[];
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

export interface VolumeMountSpec {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

export interface ContainerSpec {
  readonly name: string;
  readonly command: readonly string[];
  /** @default "/" */
  readonly workingDir: string;
  readonly volumeMounts: readonly VolumeMountSpec[];
  readonly readOnlyRootFilesystem: boolean;
  readonly startupProbe?: ProbeSpec;
  readonly livenessProbe?: ProbeSpec;
  readonly readinessProbe?: ProbeSpec;
  /** The preStop hook's exec command. */
  readonly preStop?: readonly string[];
}

export type VolumeSpec =
  | { readonly name: string; readonly kind: "configMap"; readonly configMap: string; readonly defaultMode: number }
  | {
      readonly name: string;
      readonly kind: "secret";
      readonly secretName: string;
      readonly defaultMode: number;
      readonly items: ReadonlyArray<{ readonly key: string; readonly path: string }>;
    }
  | { readonly name: string; readonly kind: "emptyDir" }
  /** A claim of the volume claim templates: one PersistentVolume per pod, kept across the pod's deletion. */
  | { readonly name: string; readonly kind: "claim" };

export interface StatefulSetSpec {
  readonly name: string;
  readonly namespace: string;
  /** The headless Service that gives each pod its DNS name. */
  readonly serviceName: string;
  readonly replicas: number;
  readonly podManagementPolicy: "OrderedReady" | "Parallel";
  readonly runAsUser: number;
  readonly runAsGroup: number;
  readonly fsGroup: number;
  readonly terminationGracePeriodSeconds: number;
  readonly initContainers: readonly ContainerSpec[];
  readonly containers: readonly ContainerSpec[];
  readonly volumes: readonly VolumeSpec[];
}

export interface SynthesizedWorkloads {
  /** ConfigMap data by ConfigMap name, unescaped from Terraform's template syntax (what the pods' files hold). */
  readonly configMaps: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly statefulSets: readonly StatefulSetSpec[];
}

type Json = any;

const octal = (mode: string | number | undefined, fallback: number) =>
  mode === undefined ? fallback : typeof mode === "number" ? mode : parseInt(mode, 8);

function probe(p: Json): ProbeSpec | undefined {
  if (!p) return undefined;
  return {
    command: p.exec.command,
    initialDelaySeconds: p.initial_delay_seconds ?? 0,
    periodSeconds: p.period_seconds ?? 10,
    timeoutSeconds: p.timeout_seconds ?? 1,
    failureThreshold: p.failure_threshold ?? 3,
  };
}

function container(c: Json): ContainerSpec {
  return {
    name: c.name,
    command: c.command,
    workingDir: c.working_dir ?? "/",
    volumeMounts: (c.volume_mount ?? []).map((m: Json) => ({ name: m.name, mountPath: m.mount_path, readOnly: m.read_only === true })),
    readOnlyRootFilesystem: c.security_context?.read_only_root_filesystem === true,
    startupProbe: probe(c.startup_probe),
    livenessProbe: probe(c.liveness_probe),
    readinessProbe: probe(c.readiness_probe),
    preStop: c.lifecycle?.pre_stop?.[0]?.exec?.command,
  };
}

/** The ConfigMaps and StatefulSets of a synthesized stack (`Testing.synth`'s JSON, parsed). */
export function workloadsOfSynth(json: Json): SynthesizedWorkloads {
  const resources = json.resource ?? {};
  const configMapIds: Record<string, string> = {};
  const configMaps: Record<string, Record<string, string>> = {};
  for (const [id, cm] of Object.entries<Json>(resources.kubernetes_config_map_v1 ?? {})) {
    configMapIds[id] = cm.metadata.name;
    configMaps[cm.metadata.name] = Object.fromEntries(
      Object.entries<string>(cm.data ?? {}).map(([file, text]) => [file, terraformLiteralText(text)]),
    );
  }
  // A volume names its ConfigMap through a reference to the resource: `${kubernetes_config_map_v1.ID.metadata[0].name}`.
  const configMapName = (name: string) => {
    const ref = /^\$\{kubernetes_config_map_v1\.([^.]+)\.metadata\[0\]\.name\}$/.exec(name);
    return ref ? configMapIds[ref[1]] : name;
  };
  const statefulSets = Object.values<Json>(resources.kubernetes_stateful_set_v1 ?? {}).map((set): StatefulSetSpec => {
    const pod = set.spec.template.spec;
    const security = pod.security_context ?? {};
    const volumes: VolumeSpec[] = (pod.volume ?? []).map((v: Json): VolumeSpec => {
      if (v.config_map) return { name: v.name, kind: "configMap", configMap: configMapName(v.config_map.name), defaultMode: octal(v.config_map.default_mode, 0o644) };
      if (v.secret) {
        return {
          name: v.name,
          kind: "secret",
          secretName: v.secret.secret_name,
          defaultMode: octal(v.secret.default_mode, 0o644),
          items: v.secret.items ?? [],
        };
      }
      if (v.empty_dir) return { name: v.name, kind: "emptyDir" };
      throw new Error(`volume ${v.name}: only configMap, secret and emptyDir volumes are emulated`);
    });
    for (const claim of set.spec.volume_claim_template ?? []) volumes.push({ name: claim.metadata.name, kind: "claim" });
    return {
      name: set.metadata.name,
      namespace: set.metadata.namespace,
      serviceName: set.spec.service_name,
      replicas: Number(set.spec.replicas),
      podManagementPolicy: set.spec.pod_management_policy ?? "OrderedReady",
      runAsUser: Number(security.run_as_user ?? 0),
      runAsGroup: Number(security.run_as_group ?? security.run_as_user ?? 0),
      fsGroup: Number(security.fs_group ?? security.run_as_group ?? 0),
      terminationGracePeriodSeconds: Number(pod.termination_grace_period_seconds ?? 30),
      initContainers: (pod.init_container ?? []).map(container),
      containers: (pod.container ?? []).map(container),
      volumes,
    };
  });
  return { configMaps, statefulSets };
}
