import { App } from "cdktf";
import { ENVIRONMENTS, type Environment } from "./environments";
import { RedisSentinelStack } from "./redis-sentinel-stack";

/** The cdktf app: one stack per environment, named `redis-sentinel-<environment>`. */
export function buildApp(environments: readonly Environment[] = ENVIRONMENTS, app: App = new App()): App {
  for (const environment of environments) {
    new RedisSentinelStack(app, `redis-sentinel-${environment.name}`, environment);
  }
  return app;
}
