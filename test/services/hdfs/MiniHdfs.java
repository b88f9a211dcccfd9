// A real HDFS for the hdfs check's tests: Hadoop's MiniDFSCluster (a NameNode with its HTTP
// server, /jmx and WebHDFS, and real DataNodes) on 127.0.0.1, with a replicated file written.
// Usage: java -cp <libs>/*:<classes> MiniHdfs <work dir> <NameNode HTTP port> <data nodes>
// Prints "graft-hdfs-ready" once the file is written. Commands arrive as empty files in
// <work dir>/commands (the test writes them); each is done once and answered on stdout with
// "graft-hdfs-done <command>" (or -unknown, or -failed with the exception: see
// ../java/GraftLauncher.java, which also ends the JVM on any other exception):
//   stop-datanode-<i>  stops DataNode i (the NameNode declares it dead after ~12 s)
//   safemode-enter     puts the NameNode into safe mode by hand
import java.io.OutputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.protocol.HdfsConstants;

public final class MiniHdfs {
  private static final int MIB = 1024 * 1024;

  public static void main(String[] args) {
    Path work = Paths.get(args[0]);
    MiniDFSCluster[] cluster = new MiniDFSCluster[1];
    new GraftLauncher("hdfs").run(work.resolve("commands"), () -> {
      cluster[0] = start(work, Integer.parseInt(args[1]), Integer.parseInt(args[2]));
    }, (name) -> {
      if (name.startsWith("stop-datanode-")) {
        int index = Integer.parseInt(name.substring("stop-datanode-".length()));
        if (cluster[0].stopDataNode(index) == null) throw new IllegalArgumentException("no DataNode " + index);
      } else if (name.equals("safemode-enter")) {
        cluster[0].getNameNodeRpc().setSafeMode(HdfsConstants.SafeModeAction.SAFEMODE_ENTER, false);
      } else {
        return false;
      }
      return true;
    });
  }

  private static MiniDFSCluster start(Path work, int httpPort, int dataNodes) throws Exception {
    Configuration conf = new HdfsConfiguration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, work.resolve("data").toString());
    conf.set("dfs.namenode.http-address", "127.0.0.1:" + httpPort);
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    conf.setLong("dfs.blocksize", MIB);
    // A stopped DataNode is declared dead after 2 * recheck + 10 * heartbeat = 12 s, not 10.5 min.
    conf.setLong("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.namenode.heartbeat.recheck-interval", 1000);
    conf.setInt("dfs.namenode.redundancy.interval.seconds", 1);

    MiniDFSCluster cluster =
        new MiniDFSCluster.Builder(conf).numDataNodes(dataNodes).nameNodeHttpPort(httpPort).build();
    Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown));
    cluster.waitActive();

    FileSystem fs = cluster.getFileSystem();
    byte[] block = new byte[MIB];
    Arrays.fill(block, (byte) 'g');
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path("/graft/replicated");
    try (OutputStream out = fs.create(file, (short) dataNodes)) {
      for (int i = 0; i < 3; i++) out.write(block);
    }
    return cluster;
  }
}
