// A real HiveServer2 for the hive check's tests: Hive 4.0.1's HiveServer2 embedded in one JVM,
// its Thrift port (binary transport, SASL PLAIN with authentication NONE) on 127.0.0.1, an
// embedded metastore on Derby, no web UI.
// Usage: java -cp <libs>/*:<classes> MiniHive <work dir> <Thrift port>
// Prints "graft-hive-ready" once HiveServer2 has started. It takes no commands (one written to
// <work dir>/commands is answered "graft-hive-unknown <command>"); ../java/GraftLauncher.java ends
// the JVM on any exception.
//
// The metastore's schema is not complete: datanucleus.schema.autoCreateAll creates tables as
// they are used, but not all that HiveServer2 reads at start (`Required table missing:
// "FUNCS"`), and the schema tool's SQL scripts ship only in Hive's binary distribution, which is
// not on Maven Central. HiveServer2 logs those errors at start and still serves sessions, which
// is what the hive check opens and closes; queries that need the metastore would fail.
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.hadoop.hive.conf.HiveConf;
import org.apache.hive.service.server.HiveServer2;

public final class MiniHive {
  public static void main(String[] args) {
    Path work = Paths.get(args[0]);
    new GraftLauncher("hive").run(work.resolve("commands"), () -> start(work, args[1]), (name) -> false);
  }

  private static void start(Path work, String thriftPort) {
    HiveConf conf = new HiveConf();
    conf.set("javax.jdo.option.ConnectionURL",
        "jdbc:derby:;databaseName=" + work.resolve("metastore_db") + ";create=true");
    conf.set("hive.metastore.uris", "");
    // Creates most of the schema as DataNucleus first uses it (not all: see above).
    conf.set("datanucleus.schema.autoCreateAll", "true");
    conf.set("metastore.schema.verification", "false");
    conf.set("hive.metastore.schema.verification", "false");
    conf.set("hive.metastore.warehouse.dir", work.resolve("warehouse").toString());
    conf.set("hive.exec.scratchdir", work.resolve("scratch").toString());
    conf.set("hive.exec.local.scratchdir", work.resolve("local-scratch").toString());
    conf.set("hive.server2.thrift.bind.host", "127.0.0.1");
    conf.set("hive.server2.thrift.port", thriftPort);
    conf.set("hive.server2.transport.mode", "binary");
    conf.set("hive.server2.authentication", "NONE");
    conf.set("hive.server2.enable.doAs", "false");
    conf.set("hive.server2.webui.port", "0");
    // Background work that would only repeat the missing-schema errors.
    conf.set("hive.server2.materializedviews.registry.impl", "DUMMY");
    conf.set("hive.notification.event.poll.interval", "0s");
    conf.set("hive.scheduled.queries.executor.enabled", "false");

    HiveServer2 server = new HiveServer2();
    server.init(conf);
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
  }
}
