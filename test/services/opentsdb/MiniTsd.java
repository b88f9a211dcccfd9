// A real OpenTSDB for the opentsdb check's tests: OpenTSDB 2.4's TSD (net.opentsdb.tools.TSDMain,
// its HTTP API on 127.0.0.1) storing into the HBase mini cluster of ../hbase/MiniHbase.java
// through asynchbase, which reaches HBase by its ZooKeeper. The tables must exist first
// (MiniHbase's create-opentsdb-tables): the TSD refuses to start without them.
// Usage: java -cp <libs>/*:<classes> MiniTsd <work dir> <HTTP port> <ZooKeeper host:port>
// Prints "graft-opentsdb-ready" once the TSD listens. It takes no commands (one written to
// <work dir>/commands is answered "graft-opentsdb-unknown <command>"); ../java/GraftLauncher.java
// ends the JVM on any exception.
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

public final class MiniTsd {
  public static void main(String[] args) {
    Path work = Paths.get(args[0]);
    new GraftLauncher("opentsdb").run(work.resolve("commands"), () -> start(work, args[1], args[2]), (name) -> false);
  }

  private static void start(Path work, String port, String zookeeper) throws Exception {
    // Before the first logger: OpenTSDB's logback would log at DEBUG to stdout.
    Path logback = work.resolve("logback.xml");
    Files.writeString(logback, String.join("\n",
        "<configuration>",
        "  <appender name=\"stderr\" class=\"ch.qos.logback.core.ConsoleAppender\">",
        "    <target>System.err</target>",
        "    <encoder><pattern>%d %level %logger: %msg%n</pattern></encoder>",
        "  </appender>",
        "  <root level=\"WARN\"><appender-ref ref=\"stderr\"/></root>",
        "</configuration>",
        ""));
    System.setProperty("logback.configurationFile", logback.toString());

    Path conf = work.resolve("opentsdb.conf");
    Files.writeString(conf, String.join("\n",
        "tsd.network.bind = 127.0.0.1",
        "tsd.network.port = " + port,
        "tsd.http.staticroot = " + Files.createDirectories(work.resolve("static")),
        "tsd.http.cachedir = " + Files.createDirectories(work.resolve("cache")),
        "tsd.storage.hbase.zk_quorum = " + zookeeper,
        "tsd.core.auto_create_metrics = true",
        // asynchbase: find regions by a reverse scan of hbase:meta, as HBase 2 requires (it
        // removed the getClosestRowBefore call asynchbase uses by default).
        "hbase.meta.scan = true",
        ""));
    // TSDMain.main returns once the TSD listens (its Netty threads keep serving) and throws if it
    // cannot start. The class is not public: called through reflection.
    Method main = Class.forName("net.opentsdb.tools.TSDMain").getMethod("main", String[].class);
    main.setAccessible(true);
    try {
      main.invoke(null, (Object) new String[] {"--config=" + conf});
    } catch (InvocationTargetException failed) {
      if (failed.getCause() instanceof Exception cause) throw cause;
      throw failed;
    }
  }
}
