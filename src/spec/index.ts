export * from "./defaults";
export { majority, redisSentinelSpecSchema } from "./schema";
export type { RedisSentinelConfig, RedisSentinelSpec, SecretReference } from "./schema";
export { parseSpec, SpecError } from "./parse";
export type { SpecProblem } from "./parse";
export { parseSize } from "./size";
export {
  cidrProblem,
  DEFAULT_DATA_VOLUME_GIB,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_ROOT_VOLUME_GIB,
  ec2PlacementSchema,
  FIRST_DERIVED_HOST,
  parseEc2Placement,
} from "./ec2";
export type { Ec2Placement, Ec2PlacementInput } from "./ec2";
