export * from "./defaults";
export { majority, redisSentinelSpecSchema } from "./schema";
export type { RedisSentinelConfig, RedisSentinelSpec, SecretReference } from "./schema";
export { parseSpec, SpecError } from "./parse";
export type { SpecProblem } from "./parse";
export { parseSize } from "./size";
