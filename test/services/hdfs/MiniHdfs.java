// A real HDFS for the hdfs check's tests: Hadoop's MiniDFSCluster (a NameNode with its HTTP
// server, /jmx and WebHDFS, and real DataNodes) on 127.0.0.1, with a replicated file written.
// Usage: java -cp <libs>/*:<classes> MiniHdfs <work dir> <NameNode HTTP port> <data nodes>
// Prints "graft-hdfs-ready" once the file is written. Commands arrive as empty files in
// <work dir>/commands (the test writes them); each is done once and answered on stdout with
// "graft-hdfs-done <command>":
//   stop-datanode-<i>  stops DataNode i (the NameNode declares it dead after ~12 s)
//   safemode-enter     puts the NameNode into safe mode by hand
import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
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

  public static void main(String[] args) throws Exception {
    Path work = Paths.get(args[0]);
    int httpPort = Integer.parseInt(args[1]);
    int dataNodes = Integer.parseInt(args[2]);
    Path commands = Files.createDirectories(work.resolve("commands"));

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
    System.out.println("graft-hdfs-ready");

    for (;;) {
      File[] pending = commands.toFile().listFiles();
      if (pending != null) {
        Arrays.sort(pending);
        for (File command : pending) {
          String name = command.getName();
          Files.delete(command.toPath());
          if (name.startsWith("stop-datanode-")) {
            cluster.stopDataNode(Integer.parseInt(name.substring("stop-datanode-".length())));
          } else if (name.equals("safemode-enter")) {
            cluster.getNameNodeRpc().setSafeMode(HdfsConstants.SafeModeAction.SAFEMODE_ENTER, false);
          } else {
            System.out.println("graft-hdfs-unknown " + name);
            continue;
          }
          System.out.println("graft-hdfs-done " + name);
        }
      }
      Thread.sleep(100);
    }
  }
}
