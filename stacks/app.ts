import { App } from "cdktf";
import { ENVIRONMENTS, type Environment } from "./environments";
import { KUBERNETES_ENVIRONMENTS, KubernetesRedisSentinelStack, type KubernetesEnvironment } from "./kubernetes-stack";
import { RedisSentinelStack } from "./redis-sentinel-stack";

/** The cdktf app: one stack per environment, named `redis-sentinel-<environment>`. */
export function buildApp(
  environments: readonly Environment[] = ENVIRONMENTS,
  app: App = new App(),
  kubernetes: readonly KubernetesEnvironment[] = KUBERNETES_ENVIRONMENTS,
): App {
  for (const environment of environments) {
    new RedisSentinelStack(app, `redis-sentinel-${environment.name}`, environment);
  }
  for (const environment of kubernetes) {
    new KubernetesRedisSentinelStack(app, `redis-sentinel-${environment.name}`, environment);
  }
  return app;
}
