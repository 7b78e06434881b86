import type { RedisSentinelConfig } from "../spec";
import { renderBootScript } from "./boot-script";
import { checkNodes, type ClusterNodes } from "./nodes";
import { renderRedisConf } from "./redis-conf";
import { renderSentinelConf } from "./sentinel-conf";
import { renderSystemdUnits } from "./systemd-units";

/** Everything one node runs, as text. None of it holds a secret. */
export interface RenderedNode {
  readonly index: number;
  readonly address: string;
  readonly redisConf: string;
  readonly sentinelConf: string;
  readonly bootScript: string;
  readonly units: { readonly redis: string; readonly sentinel: string };
}

/** Renders every node of a cluster. */
export function renderCluster(config: RedisSentinelConfig, nodes: ClusterNodes): RenderedNode[] {
  checkNodes(config, nodes);
  const units = renderSystemdUnits(config);
  return nodes.addresses.map((address, index) => ({
    index,
    address,
    redisConf: renderRedisConf(config, nodes, index),
    sentinelConf: renderSentinelConf(config, nodes, index),
    bootScript: renderBootScript(config, nodes, index),
    units,
  }));
}
