import { stringify } from "yaml";
import type { RedisSentinelConfig } from "../spec";
import { renderBackupScript, type BackupOptions } from "./backup-script";
import { emptyMasterWaitSeconds } from "./boot-script";
import { renderExporterScript, VM_EXPORTER_SCRIPT } from "./exporter";
import { NODE_FILES, UNIT_NAMES, VM_STAGE } from "./layout";
import { renderCluster } from "./node";
import type { ClusterNodes } from "./nodes";
import { renderSsmAgentScript, renderSsmAgentUnit, SSM_AGENT_UNIT_NAME, VM_SSM_AGENT_SCRIPT, type SsmAgentOptions } from "./ssm-agent";
import { renderClientReconfigScript, renderNotificationScript, type NotifyOptions } from "./notify-script";
import { BACKUP_UNIT_NAMES, BOOT_UNIT_NAME, renderBackupUnits, renderBootUnit, VM_BACKUP_SCRIPT } from "./systemd-units";

/** Where the boot script is installed on a VM. */
export const VM_BOOT_SCRIPT = "/usr/local/sbin/redis-ha-boot";
/**
 * Kernel settings of a VM node. Redis's admin guide asks for `vm.overcommit_memory = 1`: with the kernel's default
 * heuristic, the fork of a BGSAVE or an AOF rewrite can fail on a busy node, and with `stop-writes-on-bgsave-error`
 * the master then refuses writes.
 */
export const VM_SYSCTL_FILE = "/etc/sysctl.d/60-redis-ha.conf";
const SYSCTL_SETTINGS = "# Written by cloud-init for cdktf-redis-sentinel (Redis's admin guide).\nvm.overcommit_memory = 1\n";

/** EC2 user data is limited to 16 KB. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;
/** Where the failover scripts are installed on a VM (`notifications`); sentinel.conf names them. */
export const VM_NOTIFY_SCRIPTS = {
  notification: "/etc/redis-ha/notify.sh",
  clientReconfig: "/etc/redis-ha/client-reconfig.sh",
} as const;

export interface CloudConfigOptions {
  /** Block device of the node's data volume, formatted on first use and mounted on the data directory. */
  readonly dataDevice?: string;
  /**
   * Install Debian's prometheus-redis-exporter, pointed at this node by a rendered script that writes its
   * environment file (the password in a file, never on a command line). @default false
   */
  readonly exporter?: boolean;
  /**
   * Install the failover notification and client-reconfig scripts at VM_NOTIFY_SCRIPTS. The config must name them
   * (`sentinel.notificationScript`, `sentinel.clientReconfigScript`). @default none
   */
  readonly notifications?: NotifyOptions;
  /**
   * Install AWS's SSM Agent from AWS's package in the region's bucket (Session Manager's way into the node), from a
   * unit of its own that does not hold up Redis. @default none
   */
  readonly ssmAgent?: SsmAgentOptions;
  /** Install the backup script and a systemd timer that runs it. @default none */
  readonly backup?: BackupOptions & { /** systemd OnCalendar= expression. @default "daily" */ readonly onCalendar?: string };
}

/**
 * The `#cloud-config` user data of node `index` on a Debian VM. It installs Redis and Sentinel from the
 * distribution without letting the packages start their own services (Debian's sentinel would listen on every
 * interface with protected mode off), sets `vm.overcommit_memory = 1`, places the rendered configs, boot script and
 * units, and enables the boot unit once the packages exist: the boot script runs then and at every later boot. It
 * holds no secret: the boot script fetches the passwords where `auth.secrets` points.
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
  if (options.exporter) packages.push("prometheus-redis-exporter");
  if (options.ssmAgent) packages.push("curl");

  const file = (path: string, content: string, permissions: string) => ({ path, owner: "root:root", permissions, content });
  const backupFiles = options.backup && [
    file(VM_BACKUP_SCRIPT, renderBackupScript(config, nodes, index, options.backup), "0755"),
    file(`/etc/systemd/system/${BACKUP_UNIT_NAMES.service}`, renderBackupUnits(options.backup.onCalendar).service, "0644"),
    file(`/etc/systemd/system/${BACKUP_UNIT_NAMES.timer}`, renderBackupUnits(options.backup.onCalendar).timer, "0644"),
  ];
  const body = {
    package_update: true,
    packages,
    write_files: [
      // Refuses every service start while the packages install; removed before the boot script runs.
      file("/usr/sbin/policy-rc.d", "#!/bin/sh\n# Written by cloud-init for cdktf-redis-sentinel: no service starts during package installation.\nexit 101\n", "0755"),
      file(VM_SYSCTL_FILE, SYSCTL_SETTINGS, "0644"),
      file(`${VM_STAGE}/${NODE_FILES.redisConf}`, node.redisConf, "0644"),
      file(`${VM_STAGE}/${NODE_FILES.sentinelConf}`, node.sentinelConf, "0644"),
      file(VM_BOOT_SCRIPT, node.bootScript, "0755"),
      file(`/etc/systemd/system/${UNIT_NAMES.redis}`, node.units.redis, "0644"),
      file(`/etc/systemd/system/${UNIT_NAMES.sentinel}`, node.units.sentinel, "0644"),
      file(`/etc/systemd/system/${BOOT_UNIT_NAME}`, renderBootUnit(VM_BOOT_SCRIPT, { dataDevice: options.dataDevice, emptyMasterWaitSeconds: emptyMasterWaitSeconds(config) }), "0644"),
      ...(options.ssmAgent
        ? [
            file(VM_SSM_AGENT_SCRIPT, renderSsmAgentScript(options.ssmAgent), "0755"),
            file(`/etc/systemd/system/${SSM_AGENT_UNIT_NAME}`, renderSsmAgentUnit(VM_SSM_AGENT_SCRIPT), "0644"),
          ]
        : []),
      ...(options.exporter ? [file(VM_EXPORTER_SCRIPT, renderExporterScript(config, nodes, index), "0755")] : []),
      ...(options.notifications
        ? [
            file(VM_NOTIFY_SCRIPTS.notification, renderNotificationScript(config, options.notifications), "0755"),
            file(VM_NOTIFY_SCRIPTS.clientReconfig, renderClientReconfigScript(config, options.notifications), "0755"),
          ]
        : []),
      ...(backupFiles ?? []),
    ],
    runcmd: [
      // systemd-sysctl read /etc/sysctl.d before cloud-init wrote the file: apply it now, before Redis starts.
      `sysctl -p ${VM_SYSCTL_FILE}`,
      "rm -f /usr/sbin/policy-rc.d",
      "systemctl disable --now redis-server.service redis-sentinel.service",
      // The boot script runs from its unit, now and at every later boot.
      "systemctl daemon-reload",
      // The agent's download runs beside the boot, and its failure fails neither the boot nor cloud-init.
      ...(options.ssmAgent ? [`systemctl enable ${SSM_AGENT_UNIT_NAME}`, `systemctl start --no-block ${SSM_AGENT_UNIT_NAME}`] : []),
      `systemctl enable --now ${BOOT_UNIT_NAME}`,
      // After the boot script: the exporter reads the node's TLS files from where it wrote them.
      ...(options.exporter ? [VM_EXPORTER_SCRIPT] : []),
      ...(options.backup ? [`systemctl daemon-reload`, `systemctl enable --now ${BACKUP_UNIT_NAMES.timer}`] : []),
    ],
  };
  const header = [
    "#cloud-config",
    `# Node ${index} (${node.address}) of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
  ];
  return `${header.join("\n")}\n${stringify(body, { blockQuote: "literal", lineWidth: 0 })}`;
}
