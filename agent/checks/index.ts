/**
 * Check type → runner, one line per type, one module per type (agent/checks/<type>.ts). Each
 * module is imported only when a check of its type is configured: an agent that runs http
 * checks never loads kafkajs. A type missing here is refused at agent start-up, naming the check.
 */
import type { CheckType, ResolvedCheck } from "../../core/checks.js";
import type { CheckContext, CheckResult, CheckRunner } from "./types.js";

export type RunnerLoaders = { [K in CheckType]?: () => Promise<CheckRunner<K>> };

export const RUNNERS: RunnerLoaders = {
  "deployment-manager": async () => (await import("./deployment-manager.js")).checkDeploymentManager,
  dns: async () => (await import("./dns.js")).checkDns,
  elasticsearch: async () => (await import("./elasticsearch.js")).checkElasticsearch,
  flink: async () => (await import("./flink.js")).checkFlink,
  hbase: async () => (await import("./hbase.js")).checkHbase,
  hdfs: async () => (await import("./hdfs.js")).checkHdfs,
  hive: async () => (await import("./hive.js")).checkHive,
  http: async () => (await import("./http.js")).checkHttp,
  jupyterhub: async () => (await import("./jupyterhub.js")).checkJupyterhub,
  kafka: async () => (await import("./kafka.js")).checkKafka,
  opentsdb: async () => (await import("./opentsdb.js")).checkOpentsdb,
  rabbitmq: async () => (await import("./rabbitmq.js")).checkRabbitmq,
  redis: async () => (await import("./redis.js")).checkRedis,
  spark: async () => (await import("./spark.js")).checkSpark,
  tcp: async () => (await import("./tcp.js")).checkTcp,
  zookeeper: async () => (await import("./zookeeper.js")).checkZookeeper,
};

export type BoundRunner = (context: CheckContext) => Promise<CheckResult>;

/** Checks this build has no runner for, as messages naming each check; empty when all can run. */
export function unsupportedChecks(checks: ResolvedCheck[], loaders: RunnerLoaders = RUNNERS): string[] {
  return checks
    .filter((check) => loaders[check.type] === undefined)
    .map((check) => `check "${check.name}": type "${check.type}" is not supported by this agent`);
}

/** Loads the runner of one check's type (once per type) and binds it to the check. */
export async function loadRunner(
  check: ResolvedCheck,
  loaders: RunnerLoaders = RUNNERS,
): Promise<BoundRunner> {
  // The lookup and the spec share `check.type`, which TypeScript cannot correlate across a union.
  const load = loaders[check.type] as (() => Promise<CheckRunner<typeof check.type>>) | undefined;
  if (!load) throw new Error(unsupportedChecks([check], loaders)[0]);
  const runner = await load();
  return (context) => runner(check, context);
}
