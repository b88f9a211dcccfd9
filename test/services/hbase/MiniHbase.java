// A real HBase for the hbase check's tests: HBase's mini cluster (HBaseTestingUtility: a master,
// region servers, ZooKeeper and HDFS in one JVM) and HBase's REST server (/status/cluster,
// /version/cluster) on 127.0.0.1, with a table of a few rows.
// Usage: java -cp <libs>/*:<classes> MiniHbase <work dir> <REST port> <region servers>
// Prints "graft-hbase-ready" once the REST server answers. Commands arrive as empty files in
// <work dir>/commands (the test writes them); each is answered on stdout with
// "graft-hbase-done <command>":
//   stop-regionserver-<i>   stops the i-th region server still running; the master lists it
//                           among the dead servers
//   abort-regionserver-<i>  aborts the i-th region server still running, as a crash would
//                           (the last one cannot be stopped cleanly: it waits for somewhere to
//                           move its regions)
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.HBaseTestingUtility;
import org.apache.hadoop.hbase.StartMiniClusterOption;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Put;
import org.apache.hadoop.hbase.client.Table;
import org.apache.hadoop.hbase.rest.RESTServer;
import org.apache.hadoop.hbase.util.Bytes;

public final class MiniHbase {
  public static void main(String[] args) throws Exception {
    Path work = Paths.get(args[0]);
    int restPort = Integer.parseInt(args[1]);
    int regionServers = Integer.parseInt(args[2]);
    Path commands = Files.createDirectories(work.resolve("commands"));

    HBaseTestingUtility util = new HBaseTestingUtility();
    Configuration conf = util.getConfiguration();
    conf.set("hbase.rootdir", work.resolve("hbase").toUri().toString());
    conf.set("test.build.data.basedirectory", work.resolve("data").toString());
    conf.set("hadoop.tmp.dir", work.resolve("tmp").toString());
    // Everything on the loopback interface; no web UIs.
    conf.set("hbase.master.hostname", "127.0.0.1");
    conf.set("hbase.regionserver.hostname", "127.0.0.1");
    conf.set("hbase.master.ipc.address", "127.0.0.1");
    conf.set("hbase.regionserver.ipc.address", "127.0.0.1");
    conf.set("hbase.zookeeper.quorum", "127.0.0.1");
    conf.setInt("hbase.master.info.port", -1);
    conf.setInt("hbase.regionserver.info.port", -1);
    // The REST server.
    conf.set("hbase.rest.host", "127.0.0.1");
    conf.setInt("hbase.rest.port", restPort);
    conf.setInt("hbase.rest.info.port", -1);

    util.startMiniCluster(
        StartMiniClusterOption.builder().numRegionServers(regionServers).numDataNodes(1).build());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        util.shutdownMiniCluster();
      } catch (Exception e) {
        // Stopping anyway.
      }
    }));

    TableName name = TableName.valueOf("graft");
    try (Table table = util.createTable(name, "d")) {
      for (int i = 0; i < 10; i++) {
        table.put(new Put(Bytes.toBytes("row-" + i)).addColumn(Bytes.toBytes("d"), Bytes.toBytes("v"), Bytes.toBytes(i)));
      }
    }

    RESTServer rest = new RESTServer(conf);
    rest.run();
    System.out.println("graft-hbase-ready");

    for (;;) {
      File[] pending = commands.toFile().listFiles();
      if (pending != null) {
        Arrays.sort(pending);
        for (File command : pending) {
          String cmd = command.getName();
          Files.delete(command.toPath());
          if (cmd.startsWith("stop-regionserver-")) {
            int index = Integer.parseInt(cmd.substring("stop-regionserver-".length()));
            util.getMiniHBaseCluster().stopRegionServer(index);
            util.getMiniHBaseCluster().waitOnRegionServer(index);
          } else if (cmd.startsWith("abort-regionserver-")) {
            int index = Integer.parseInt(cmd.substring("abort-regionserver-".length()));
            util.getMiniHBaseCluster().abortRegionServer(index);
            util.getMiniHBaseCluster().waitOnRegionServer(index);
          } else {
            System.out.println("graft-hbase-unknown " + cmd);
            continue;
          }
          System.out.println("graft-hbase-done " + cmd);
        }
      }
      Thread.sleep(100);
    }
  }
}
