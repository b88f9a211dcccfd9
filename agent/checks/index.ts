/**
 * Check type → runner. One line per type, one module per type (agent/checks/<type>.ts).
 * A type missing here is refused at agent start-up, naming the check.
 */
import type { CheckType, ResolvedCheck } from "../../core/checks.js";
import { checkDeploymentManager } from "./deployment-manager.js";
import { checkDns } from "./dns.js";
import { checkElasticsearch } from "./elasticsearch.js";
import { checkFlink } from "./flink.js";
import { checkHdfs } from "./hdfs.js";
import { checkHttp } from "./http.js";
import { checkKafka } from "./kafka.js";
import { checkOpentsdb } from "./opentsdb.js";
import { checkRedis } from "./redis.js";
import { checkTcp } from "./tcp.js";
import { checkZookeeper } from "./zookeeper.js";
import type { CheckContext, CheckResult, CheckRunner } from "./types.js";

export type Runners = { [K in CheckType]?: CheckRunner<K> };

export const RUNNERS: Runners = {
  dns: checkDns,
  http: checkHttp,
  tcp: checkTcp,
  zookeeper: checkZookeeper,
  kafka: checkKafka,
  flink: checkFlink,
  hdfs: checkHdfs,
  elasticsearch: checkElasticsearch,
  redis: checkRedis,
  opentsdb: checkOpentsdb,
  "deployment-manager": checkDeploymentManager,
};

/** A runner bound to one check, or undefined when this build has no runner for its type. */
export function bindRunner(
  check: ResolvedCheck,
  runners: Runners = RUNNERS,
): ((context: CheckContext) => Promise<CheckResult>) | undefined {
  // The lookup and the spec share `check.type`, which TypeScript cannot correlate across a union.
  const runner = runners[check.type] as CheckRunner<typeof check.type> | undefined;
  return runner && ((context) => runner(check, context));
}
