import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { NODE_FILES, textOfBase64GzipExpression, VM_BOOT_SCRIPT, VM_STAGE } from "../render";
import type { NodeFiles } from "./boot";
import { localAddresses } from "./addresses";

/** A deployed cluster's nodes, taken from their user data and moved to loopback addresses. */
export interface ClusterFromUserData {
  readonly masterName: string;
  readonly redisPort: number;
  readonly sentinelPort: number;
  /** Each node's files with only the addresses changed, in node order. */
  readonly nodes: ReadonlyArray<NodeFiles & { readonly address: string; readonly deployedAddress: string }>;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Replaces whole addresses only: 10.0.1.1 must not match inside 10.0.1.10. */
const replaceAddress = (text: string, from: string, to: string) =>
  text.replace(new RegExp(`(?<![0-9.])${escape(from)}(?![0-9]|\\.[0-9])`, "g"), to);

function line(text: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(text);
  if (!match) throw new Error(`the user data holds no ${what}: is it from cdktf-redis-sentinel?`);
  return match;
}

/**
 * The nodes of a cluster from the `#cloud-config` user data of each node (node order), with every deployed address
 * replaced by a loopback address (127.0.0.11, .12, ... from `firstAddress`). Nothing else is changed: the secret is
 * given to the boot script through REDIS_HA_SECRETS_DIR (and REDIS_HA_TLS_DIR) when it runs.
 */
export function clusterFromUserData(userData: readonly string[], firstAddress?: string): ClusterFromUserData {
  const files = userData.map((text, index) => {
    const doc = parse(text) as { write_files?: Array<{ path: string; content: string }> };
    const file = (p: string) => {
      const content = doc.write_files?.find((f) => f.path === p)?.content;
      if (content === undefined) throw new Error(`the user data of node ${index} holds no ${p}`);
      return content;
    };
    return {
      redisConf: file(`${VM_STAGE}/${NODE_FILES.redisConf}`),
      sentinelConf: file(`${VM_STAGE}/${NODE_FILES.sentinelConf}`),
      bootScript: file(VM_BOOT_SCRIPT),
    };
  });
  const deployed = files.map((f) => line(f.redisConf, /^replica-announce-ip (\S+)$/m, "replica-announce-ip")[1]);
  const local = localAddresses(files.length, firstAddress);
  const move = (text: string) => deployed.reduce((out, from, i) => replaceAddress(out, from, local[i]), text);
  const [, masterName, redisPort] = line(files[0].sentinelConf, /^sentinel monitor (\S+) \S+ (\d+) \d+$/m, "sentinel monitor line");
  const sentinelPort = (/^tls-port (\d+)$/m.exec(files[0].sentinelConf) ?? line(files[0].sentinelConf, /^port (\d+)$/m, "sentinel port"))[1];
  return {
    masterName,
    redisPort: Number(redisPort),
    sentinelPort: Number(sentinelPort),
    nodes: files.map((f, i) => ({
      address: local[i],
      deployedAddress: deployed[i],
      redisConf: move(f.redisConf),
      sentinelConf: move(f.sentinelConf),
      bootScript: move(f.bootScript),
    })),
  };
}

/** The user data of every node of a synthesized stack (`cdktf.out/stacks/<stack>/cdk.tf.json`), in node order. */
export function userDataOfStack(outdir: string, stack: string): string[] {
  const file = path.join(outdir, "stacks", stack, "cdk.tf.json");
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: synthesize first (npm run synth)`);
  const instances = Object.values(JSON.parse(fs.readFileSync(file, "utf8")).resource?.aws_instance ?? {}) as Array<{
    user_data_base64?: string;
    "//"?: { metadata?: { path?: string } };
  }>;
  const nodes = instances
    .map((i) => ({ index: Number(/\/node-(\d+)$/.exec(i["//"]?.metadata?.path ?? "")?.[1]), userData: textOfBase64GzipExpression(i.user_data_base64 ?? "") }))
    .filter((n): n is { index: number; userData: string } => Number.isInteger(n.index) && typeof n.userData === "string")
    .sort((a, b) => a.index - b.index);
  if (nodes.length === 0) throw new Error(`${file} holds no Redis Sentinel node (aws_instance with user data)`);
  return nodes.map((n) => n.userData);
}
