export { LocalCluster, LOCAL_FIRST_ADDRESS, localAddresses } from "./cluster";
export type { ProcessKind } from "./cluster";
export type { LocalUpOptions } from "./cluster";
export { formatStatus, inspectCluster } from "./status";
export type { ClusterStatus, NodeEndpoint, NodeStatus, RedisStatus, SentinelStatus } from "./status";
export { withClient } from "./client";
