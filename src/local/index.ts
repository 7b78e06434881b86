export { LOCAL_FIRST_ADDRESS, localAddresses } from "./addresses";
export { LocalCluster } from "./cluster";
export { clusterFromUserData, userDataOfStack } from "./user-data";
export type { ClusterFromUserData } from "./user-data";
export type { ProcessKind } from "./cluster";
export type { LocalUpOptions } from "./cluster";
export { formatStatus, inspectCluster } from "./status";
export type { ClusterStatus, NodeEndpoint, NodeStatus, RedisStatus, SentinelStatus } from "./status";
export { withClient } from "./client";
