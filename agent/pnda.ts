/**
 * PNDA's component names. PNDA's console frontend draws a health tile only for the components it
 * knows (`zookeeper.health`, `kafka.health`, `hadoop.HDFS.health`, …: platform-console-frontend,
 * console-frontend/js/filters.js `metricNameForDisplay`, and the names of its component views), so
 * a check pushed to PNDA's data logger under its default source (its own name) is pushed under
 * its type's component name instead. /status and the metrics keep the check's source.
 */
export const PNDA_COMPONENTS: Readonly<Record<string, string>> = {
  zookeeper: "zookeeper",
  kafka: "kafka",
  hdfs: "hadoop.HDFS",
  hbase: "hadoop.HBASE",
  hive: "hadoop.HIVE",
  spark: "hadoop.SPARK_ON_YARN",
  opentsdb: "opentsdb",
  flink: "flink",
  "deployment-manager": "deployment-manager",
};

/** The source a check's events are pushed under: its own when set, else its type's PNDA component. */
export function pushedSource(check: { name: string; type: string; source: string }): string {
  if (check.source !== check.name) return check.source;
  return PNDA_COMPONENTS[check.type] ?? check.source;
}
