/**
 * `hdfs`: the NameNode's JMX servlet. `NameNodeInfo` carries the data nodes as JSON encoded in
 * string fields (`LiveNodes`, `DeadNodes`) and the safe-mode text; `FSNamesystem` the block counts.
 * Missing blocks, safe mode or no live data node: ERROR. Corrupt or under-replicated blocks,
 * dead data nodes: WARN.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, decodeReply, getJsonAs, type Reply } from "./http-json.js";
import { error, type Finding, failedWith, resultOf, warn } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

const Count = Type.Integer({ minimum: 0 });
const Beans = <T extends ReturnType<typeof Type.Object>>(bean: T) => Type.Object({ beans: Type.Array(bean) });

export const NameNodeInfo = Type.Object({
  Version: Type.String(),
  Safemode: Type.String(),
  LiveNodes: Type.String(),
  DeadNodes: Type.String(),
  NumberOfMissingBlocks: Count,
});
export type NameNodeInfo = Static<typeof NameNodeInfo>;

export const FSNamesystem = Type.Object({
  "tag.HAState": Type.Optional(Type.String()),
  MissingBlocks: Count,
  CorruptBlocks: Count,
  UnderReplicatedBlocks: Count,
  CapacityTotal: Type.Number(),
  CapacityRemaining: Type.Number(),
});
export type FSNamesystem = Static<typeof FSNamesystem>;

/** `LiveNodes`/`DeadNodes` decode to an object keyed by data node. */
const NodeMap = Type.Record(Type.String(), Type.Object({}));

export function parseNodeMap(text: string, field: string, target: string): Reply<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: { cause: `${target}: NameNodeInfo.${field} is not JSON-encoded` } };
  }
  const nodes = decodeReply(NodeMap, parsed, `${target}: NameNodeInfo.${field}`);
  return nodes.ok ? { ok: true, value: Object.keys(nodes.value) } : nodes;
}

export function assessNameNode(info: NameNodeInfo, fs: FSNamesystem, target: string): CheckResult {
  const live = parseNodeMap(info.LiveNodes, "LiveNodes", target);
  if (!live.ok) return failedWith(live.error);
  const dead = parseNodeMap(info.DeadNodes, "DeadNodes", target);
  if (!dead.ok) return failedWith(dead.error);

  const findings: Finding[] = [];
  const missing = Math.max(fs.MissingBlocks, info.NumberOfMissingBlocks);
  if (info.Safemode.trim() !== "") {
    findings.push(error(`${target}: NameNode is in safe mode: ${info.Safemode.split("\n")[0]}`));
  }
  if (missing > 0) findings.push(error(`${target}: ${missing} missing blocks (no replica left)`));
  if (live.value.length === 0) findings.push(error(`${target}: no live data node`));
  if (dead.value.length > 0) {
    findings.push(
      warn(`${target}: ${dead.value.length} dead data node(s): ${dead.value.slice(0, 5).join(", ")}`),
    );
  }
  if (fs.CorruptBlocks > 0) findings.push(warn(`${target}: ${fs.CorruptBlocks} corrupt blocks`));
  if (fs.UnderReplicatedBlocks > 0) {
    findings.push(warn(`${target}: ${fs.UnderReplicatedBlocks} under-replicated blocks`));
  }
  return resultOf(findings, {
    live_datanodes: live.value.length,
    dead_datanodes: dead.value.length,
    missing_blocks: missing,
    corrupt_blocks: fs.CorruptBlocks,
    under_replicated_blocks: fs.UnderReplicatedBlocks,
    capacity_bytes: fs.CapacityTotal,
    capacity_remaining_bytes: fs.CapacityRemaining,
    active: fs["tag.HAState"] === undefined || fs["tag.HAState"] === "active" ? 1 : 0,
  });
}

/** The one bean a `qry` selects; a reply without it means the URL is not a NameNode's. */
function firstBean<T>(reply: Reply<{ beans: T[] }>, name: string, url: string): Reply<T> {
  if (!reply.ok) return reply;
  const bean = reply.value.beans[0];
  return bean === undefined
    ? { ok: false, error: { cause: `${url}: no ${name} bean (is this a NameNode?)` } }
    : { ok: true, value: bean };
}

export const checkHdfs: CheckRunner<"hdfs"> = async (spec, { signal, replyBudget }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  const infoUrl = apiUrl(spec.url, "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo");
  const fsUrl = apiUrl(spec.url, "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystem");
  const [info, fs] = await Promise.all([
    getJsonAs(infoUrl, Beans(NameNodeInfo), request).then((reply) =>
      firstBean(reply, "NameNodeInfo", infoUrl),
    ),
    getJsonAs(fsUrl, Beans(FSNamesystem), request).then((reply) => firstBean(reply, "FSNamesystem", fsUrl)),
  ]);
  if (!info.ok) return failedWith(info.error);
  if (!fs.ok) return failedWith(fs.error);
  return assessNameNode(info.value, fs.value, spec.url);
};
