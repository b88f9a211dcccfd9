// A real HBase for the hbase check's tests: HBase's mini cluster (HBaseTestingUtility: a master,
// region servers, ZooKeeper and HDFS in one JVM) and HBase's REST server (/status/cluster,
// /version/cluster) on 127.0.0.1, with a table of a few rows.
// Usage: java -cp <libs>/*:<classes> MiniHbase <work dir> <REST port> <region servers>
// Prints "graft-hbase-zookeeper <port>" (its ZooKeeper's client port, for clients such as
// OpenTSDB), then "graft-hbase-ready" once the REST server answers. Commands arrive as empty
// files in <work dir>/commands (the test writes them); each is answered on stdout with
// "graft-hbase-done <command>" (or -unknown, or -failed with the exception: see
// ../java/GraftLauncher.java, which also ends the JVM on any other exception):
//   stop-regionserver-<i>   stops the i-th region server still running; the master lists it
//                           among the dead servers
//   abort-regionserver-<i>  aborts the i-th region server still running, as a crash would
//                           (the last one cannot be stopped cleanly: it waits for somewhere to
//                           move its regions)
//   create-opentsdb-tables  creates the tables OpenTSDB 2.4 requires (tsdb, tsdb-uid,
//                           tsdb-tree, tsdb-meta), as its src/create_table.sh does with
//                           COMPRESSION=NONE
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.HBaseTestingUtility;
import org.apache.hadoop.hbase.StartMiniClusterOption;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.Put;
import org.apache.hadoop.hbase.client.Table;
import org.apache.hadoop.hbase.client.TableDescriptorBuilder;
import org.apache.hadoop.hbase.io.encoding.DataBlockEncoding;
import org.apache.hadoop.hbase.regionserver.BloomType;
import org.apache.hadoop.hbase.rest.RESTServer;
import org.apache.hadoop.hbase.util.Bytes;

public final class MiniHbase {
  public static void main(String[] args) {
    Path work = Paths.get(args[0]);
    GraftLauncher launcher = new GraftLauncher("hbase");
    HBaseTestingUtility util = new HBaseTestingUtility();
    launcher.run(work.resolve("commands"), () -> {
      start(util, work, Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      launcher.say("zookeeper", String.valueOf(util.getZkCluster().getClientPort()));
    }, (cmd) -> {
      if (cmd.startsWith("stop-regionserver-")) {
        int index = regionServer(util, cmd.substring("stop-regionserver-".length()));
        util.getMiniHBaseCluster().stopRegionServer(index);
        util.getMiniHBaseCluster().waitOnRegionServer(index);
      } else if (cmd.startsWith("abort-regionserver-")) {
        int index = regionServer(util, cmd.substring("abort-regionserver-".length()));
        util.getMiniHBaseCluster().abortRegionServer(index);
        util.getMiniHBaseCluster().waitOnRegionServer(index);
      } else if (cmd.equals("create-opentsdb-tables")) {
        createOpentsdbTables(util.getAdmin());
      } else {
        return false;
      }
      return true;
    });
  }

  /** The index of a region server still running, or an exception naming what is there. */
  private static int regionServer(HBaseTestingUtility util, String index) {
    int i = Integer.parseInt(index);
    int running = util.getMiniHBaseCluster().getRegionServerThreads().size();
    if (i < 0 || i >= running) {
      throw new IllegalArgumentException("no region server " + i + " (" + running + " running)");
    }
    return i;
  }

  private static void start(HBaseTestingUtility util, Path work, int restPort, int regionServers)
      throws Exception {
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
  }

  /** OpenTSDB 2.4's tables and column families, as its src/create_table.sh makes them. */
  private static void createOpentsdbTables(Admin admin) throws Exception {
    String[][] tables = {
      {"tsdb-uid", "id", "name"},
      {"tsdb", "t"},
      {"tsdb-tree", "t"},
      {"tsdb-meta", "name"},
    };
    for (String[] table : tables) {
      TableDescriptorBuilder descriptor = TableDescriptorBuilder.newBuilder(TableName.valueOf(table[0]));
      for (int i = 1; i < table.length; i++) {
        ColumnFamilyDescriptorBuilder family =
            ColumnFamilyDescriptorBuilder.newBuilder(Bytes.toBytes(table[i]))
                .setBloomFilterType(BloomType.ROW)
                .setDataBlockEncoding(DataBlockEncoding.DIFF);
        // The data and tree tables keep one version of a cell.
        if (table[i].equals("t")) family.setMaxVersions(1);
        descriptor.setColumnFamily(family.build());
      }
      admin.createTable(descriptor.build());
    }
  }
}
