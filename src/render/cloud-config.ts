import { stringify } from "yaml";
import type { RedisSentinelConfig } from "../spec";
import { NODE_FILES, UNIT_NAMES, VM_STAGE } from "./layout";
import { renderCluster } from "./node";
import type { ClusterNodes } from "./nodes";

/** Where the boot script is installed on a VM. */
export const VM_BOOT_SCRIPT = "/usr/local/sbin/redis-ha-boot";
/** EC2 user data is limited to 16 KB. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface CloudConfigOptions {
  /** Block device of the node's data volume, formatted on first use and mounted on the data directory. */
  readonly dataDevice?: string;
}

/**
 * The `#cloud-config` user data of node `index` on a Debian VM. It installs Redis and Sentinel from the
 * distribution without letting the packages start their own services (Debian's sentinel would listen on every
 * interface with protected mode off), places the rendered configs, boot script and units, and runs the boot script
 * once the packages exist. It holds no secret: the boot script fetches the passwords where `auth.secrets` points.
 */
export function renderCloudConfig(
  config: RedisSentinelConfig,
  nodes: ClusterNodes,
  index: number,
  options: CloudConfigOptions = {},
): string {
  const node = renderCluster(config, nodes)[index];
  const packages = ["redis-server", "redis-sentinel", "redis-tools"];
  const usesSsm = [config.auth.secrets, config.tls.certificates].some((store) => store?.source === "ssm-parameters");
  if (usesSsm) packages.push("awscli");
  if (options.dataDevice) packages.push("amazon-ec2-utils"); // udev names for EBS NVMe devices (/dev/sdf)

  const file = (path: string, content: string, permissions: string) => ({ path, owner: "root:root", permissions, content });
  const body = {
    package_update: true,
    packages,
    write_files: [
      // Refuses every service start while the packages install; removed before the boot script runs.
      file("/usr/sbin/policy-rc.d", "#!/bin/sh\n# Written by cloud-init for cdktf-redis-sentinel: no service starts during package installation.\nexit 101\n", "0755"),
      file(`${VM_STAGE}/${NODE_FILES.redisConf}`, node.redisConf, "0644"),
      file(`${VM_STAGE}/${NODE_FILES.sentinelConf}`, node.sentinelConf, "0644"),
      file(VM_BOOT_SCRIPT, node.bootScript, "0755"),
      file(`/etc/systemd/system/${UNIT_NAMES.redis}`, node.units.redis, "0644"),
      file(`/etc/systemd/system/${UNIT_NAMES.sentinel}`, node.units.sentinel, "0644"),
    ],
    runcmd: [
      "rm -f /usr/sbin/policy-rc.d",
      "systemctl disable --now redis-server.service redis-sentinel.service",
      options.dataDevice ? `REDIS_HA_DATA_DEVICE=${options.dataDevice} ${VM_BOOT_SCRIPT}` : VM_BOOT_SCRIPT,
    ],
  };
  const header = [
    "#cloud-config",
    `# Node ${index} (${node.address}) of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
  ];
  return `${header.join("\n")}\n${stringify(body, { blockQuote: "literal", lineWidth: 0 })}`;
}
