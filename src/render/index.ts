export {
  alertRuleGroups,
  DEFAULT_ALERT_SELECTOR,
  DEFAULT_EVICTION_WINDOW_MINUTES,
  DEFAULT_FAILOVER_ALERT_MINUTES,
  DEFAULT_MEMORY_USAGE_RATIO,
  DEFAULT_REPLICA_LAG_SECONDS,
  renderAlertRules,
} from "./alert-rules";
export type { AlertRule, AlertRuleGroup, AlertRulesOptions } from "./alert-rules";
export { renderBackupScript } from "./backup-script";
export type { BackupOptions, BackupTarget } from "./backup-script";
export { emptyMasterWaitSeconds, renderBootScript } from "./boot-script";
export { renderCloudConfig, USER_DATA_LIMIT_BYTES, VM_BOOT_SCRIPT, VM_SYSCTL_FILE, VM_NOTIFY_SCRIPTS } from "./cloud-config";
export { EXPORTER_ENV_FILE, EXPORTER_PORT, exporterEnvironment, renderExporterScript, VM_EXPORTER_SCRIPT } from "./exporter";
export type { ExporterVariable } from "./exporter";
export type { CloudConfigOptions } from "./cloud-config";
export { POD_PATHS, POD_SCRIPT, renderPodFiles } from "./kubernetes";
export { NODE_FILES, UNIT_NAMES, VM_HOME, VM_STAGE, VM_USER } from "./layout";
export { renderCluster } from "./node";
export type { RenderedNode } from "./node";
export { bindLine, checkNodes, usesHostnames } from "./nodes";
export type { ClusterNodes } from "./nodes";
export { NOTIFY_LOG_TAG, NOTIFY_TIMEOUTS, renderClientReconfigScript, renderNotificationScript } from "./notify-script";
export type { NotifyOptions } from "./notify-script";
export { preStopSeconds, PRESTOP_CATCH_UP_SECONDS, renderPreStopScript } from "./prestop-script";
export { renderProbeScript } from "./probe-script";
export { renderRedisConf } from "./redis-conf";
export { renderSentinelConf } from "./sentinel-conf";
export { BACKUP_UNIT_NAMES, BOOT_UNIT_NAME, renderBackupUnits, renderBootUnit, renderSystemdUnits, VM_BACKUP_SCRIPT } from "./systemd-units";
export { base64GzipExpression, terraformLiteral, terraformLiteralText, textOfBase64GzipExpression } from "./terraform-text";
export { renderSsmAgentScript, renderSsmAgentUnit, SSM_AGENT_UNIT_NAME, ssmAgentPackageUrl, VM_SSM_AGENT_SCRIPT, type SsmAgentOptions } from "./ssm-agent";
export { renderSentinelUrl } from "./sentinel-url";
export type { SentinelUrlOptions } from "./sentinel-url";
