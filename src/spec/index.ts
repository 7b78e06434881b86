export * from "./defaults";
export { AWS_REGION, AWS_REGION_PATTERN, SNS_TOPIC_ARN } from "./aws";
export { majority, redisSentinelSpecSchema, RESERVED_USER_NAMES } from "./schema";
export type { AclUser, RedisSentinelConfig, RedisSentinelSpec, SecretStore } from "./schema";
export {
  CERTIFICATE_KEYS,
  envVariable,
  PASSWORD_KEY,
  passwordKey,
  secretKeys,
  secretLocation,
  SYSTEM_USERS,
} from "./secrets";
export { assertProps, describeValue, nestedPropProblems, parseSpec, prefixProblem, SpecError, TOKEN_AT_SYNTH, withoutTokens } from "./parse";
export type { SpecProblem } from "./parse";
export { defaultMaxmemoryFor, maxmemoryProblem, parseSize, withDefaultMaxmemory } from "./size";
export type { NodeMemory } from "./size";
export {
  cidrProblem,
  DEFAULT_DATA_VOLUME_GIB,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_ROOT_VOLUME_GIB,
  ec2PlacementSchema,
  FIRST_DERIVED_HOST,
  instanceArchitecture,
  instanceMemoryBytes,
  ipv4CidrProblem,
  widePeerProblem,
  WIDEST_PEER_PREFIX,
  isXenInstanceType,
  parseEc2Placement,
} from "./ec2";
export type { Ec2Placement, Ec2PlacementInput } from "./ec2";
export {
  DEFAULT_EXPORTER_IMAGE,
  DEFAULT_MEMORY_LIMIT,
  DEFAULT_REDIS_IMAGE,
  kubernetesPeerProblem,
  MAXMEMORY_SHARE_OF_LIMIT,
  parseKubernetesProps,
} from "./kubernetes";
export type {
  KubernetesMonitoringInput,
  KubernetesNotifications,
  KubernetesPeer,
  KubernetesPodFiles,
  KubernetesPropsInput,
  ResolvedKubernetesProps,
} from "./kubernetes";
export { isObject } from "./values";
