export { renderBootScript } from "./boot-script";
export { NODE_FILES, UNIT_NAMES, VM_HOME, VM_STAGE, VM_USER } from "./layout";
export { renderCluster } from "./node";
export type { RenderedNode } from "./node";
export { checkNodes } from "./nodes";
export type { ClusterNodes } from "./nodes";
export { renderRedisConf } from "./redis-conf";
export { renderSentinelConf } from "./sentinel-conf";
export { renderSystemdUnits } from "./systemd-units";
