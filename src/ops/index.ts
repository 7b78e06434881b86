export { CREDENTIAL_VARIABLES, credentialsFromEnv, formatEndpoint, parseEndpoints } from "./connect";
export type { Auth, Credentials, Endpoint } from "./connect";
export { DEFAULT_MAX_LAG_SECONDS, formatCheck, formatVerdict, verifyCluster } from "./verify";
export type { Check, CheckId, ReplicaView, SentinelView, VerifyOptions, VerifyResult } from "./verify";
export { drill, formatDrill } from "./drill";
export type { DrillOptions, DrillResult, DrillWrites, Kill, Killer, SentinelEvent } from "./drill";
export { rotatePassword } from "./rotate";
export type { RotateOptions, RotationPhase, RotationResult, RotationStep } from "./rotate";
