// A real Flink for the flink check's tests: Flink's MiniCluster (a JobManager with its REST
// endpoint, /overview and /jobs/overview, and one TaskManager) on 127.0.0.1, running one
// streaming job. Usage: java -cp <libs>/*:<classes> MiniFlink <work dir> <REST port>
// Prints "graft-flink-ready" once the job is RUNNING. Commands arrive as empty files in
// <work dir>/commands (the test writes them); each is answered on stdout with
// "graft-flink-done <command>" (or -unknown, or -failed with the exception: see
// ../java/GraftLauncher.java, which also ends the JVM on any other exception):
//   submit-failing-job  submits "graft-failing": its map throws on the first record, and the
//                       fixed-delay restart strategy restarts it 3 times, 3 s apart (RESTARTING
//                       in between), before it is FAILED for good.
//   submit-flaky-job    submits "graft-flaky" (the second slot): it runs as "graft-running" does,
//                       restarted by a fixed-delay strategy (10 attempts, 1 s apart) if it fails.
//   crash-flaky-job     makes "graft-flaky" throw twice: it restarts twice, then runs again.
//   cancel-flaky-job    cancels "graft-flaky" (its slot is free again).
//   stop-taskmanager    terminates the one TaskManager (its slots and jobs with it).
// Job metrics (numRestarts) are fetched by the REST endpoint every second, not every 10.
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;

public final class MiniFlink {
  /** Passes a number on every 100 ms: a job that runs forever at almost no cost. */
  public static final class Slow implements MapFunction<Long, Long> {
    @Override
    public Long map(Long value) throws Exception {
      Thread.sleep(100);
      return value;
    }
  }

  /**
   * Passes a number on every 100 ms, but throws while CRASHES is above 0 (each throw takes one).
   * The MiniCluster runs tasks in this JVM, so the command below sets CRASHES directly.
   */
  public static final class Flaky implements MapFunction<Long, Long> {
    static final AtomicInteger CRASHES = new AtomicInteger();

    @Override
    public Long map(Long value) throws Exception {
      if (CRASHES.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new IllegalStateException("graft: a crash the test asked for");
      }
      Thread.sleep(100);
      return value;
    }
  }

  /** Fails on every record, as a job whose input it cannot handle. */
  public static final class Broken implements MapFunction<Long, Long> {
    @Override
    public Long map(Long value) {
      throw new IllegalStateException("graft: a record this job cannot handle");
    }
  }

  public static final class Nothing implements FilterFunction<Long> {
    @Override
    public boolean filter(Long value) {
      return false;
    }
  }

  private static JobGraph job(String name, MapFunction<Long, Long> map, Configuration conf) {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(1);
    env.fromSequence(0, Long.MAX_VALUE).map(map).filter(new Nothing()).addSink(new DiscardingSink<>());
    StreamGraph graph = env.getStreamGraph();
    graph.setJobName(name);
    return graph.getJobGraph();
  }

  public static void main(String[] args) {
    Path work = Paths.get(args[0]);
    MiniCluster[] cluster = new MiniCluster[1];
    Configuration restarting = new Configuration();
    restarting.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    restarting.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    restarting.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(3));
    Configuration resilient = new Configuration();
    resilient.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    resilient.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
    resilient.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
    JobID[] flaky = new JobID[1];
    new GraftLauncher("flink").run(work.resolve("commands"), () -> {
      cluster[0] = start(work, Integer.parseInt(args[1]));
    }, (name) -> {
      if (name.equals("submit-failing-job")) {
        cluster[0].submitJob(job("graft-failing", new Broken(), restarting)).get();
      } else if (name.equals("submit-flaky-job")) {
        flaky[0] = cluster[0].submitJob(job("graft-flaky", new Flaky(), resilient)).get().getJobID();
        while (cluster[0].getJobStatus(flaky[0]).get() != JobStatus.RUNNING) Thread.sleep(100);
      } else if (name.equals("crash-flaky-job")) {
        Flaky.CRASHES.set(2);
      } else if (name.equals("cancel-flaky-job")) {
        cluster[0].cancelJob(flaky[0]).get();
        while (!cluster[0].getJobStatus(flaky[0]).get().isGloballyTerminalState()) Thread.sleep(100);
      } else if (name.equals("stop-taskmanager")) {
        cluster[0].terminateTaskManager(0).get();
      } else {
        return false;
      }
      return true;
    });
  }

  /** Starts the MiniCluster and its job "graft-running"; returns once the job is RUNNING. */
  private static MiniCluster start(Path work, int restPort) throws Exception {
    Configuration conf = new Configuration();
    conf.set(RestOptions.ADDRESS, "127.0.0.1");
    conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    conf.set(RestOptions.PORT, restPort);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("16m"));
    conf.setString("io.tmp.dirs", work.toString());
    conf.setString("metrics.fetcher.update-interval", "1000");
    MiniCluster cluster =
        new MiniCluster(
            new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build());
    cluster.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> cluster.closeAsync().join()));

    JobID running = cluster.submitJob(job("graft-running", new Slow(), new Configuration())).get().getJobID();
    while (cluster.getJobStatus(running).get() != JobStatus.RUNNING) Thread.sleep(100);
    return cluster;
  }
}
