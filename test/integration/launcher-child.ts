/**
 * A test process that starts a Java launcher (HDFS, one DataNode), prints `work <dir>` once it is
 * ready and then waits to be killed: java-launcher.test.ts kills it outright (SIGKILL, no
 * teardown) and checks that its JVM goes with it.
 */
import { startHdfs } from "../services/hdfs.js";

const hdfs = await startHdfs({ dataNodes: 1 });
console.log(`work ${hdfs.launcher.work}`);
setInterval(() => {}, 60_000);
