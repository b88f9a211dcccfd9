// What every launcher in test/services/<name>/Mini*.java shares (maven-install.sh compiles this
// file beside each): its marker lines, its command loop, and the rules that keep its JVM from
// outliving the test that started it.
//
// Markers, one line each on stdout: "graft-<name>-ready" once up; per command file,
// "graft-<name>-done <command>", "graft-<name>-unknown <command>" or
// "graft-<name>-failed <command>: <exception>"; "graft-<name>-failed: <exception>" when the
// launcher itself fails, just before its JVM exits.
//
// The JVM ends (status 1) on any exception outside a command, however many non-daemon threads
// the mini cluster left running, and when its standard input closes: java-launcher.ts holds
// that pipe open, so the JVM goes with the test process even when that is killed. Shutdown
// hooks (the clusters' own shutdown) get EXIT_GRACE_MS, then the JVM halts.
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

public final class GraftLauncher {
  /** Carries out one command; false for a name it does not know. */
  public interface Commands {
    boolean run(String command) throws Exception;
  }

  /** Starts the service (prints nothing: the launcher says ready after it). */
  public interface Start {
    void run() throws Exception;
  }

  private static final long EXIT_GRACE_MS = 20_000;
  private final String name;

  public GraftLauncher(String name) {
    this.name = name;
  }

  /** Prints the marker "graft-<name>-<what>[ <detail>]". */
  public void say(String what, String detail) {
    System.out.println("graft-" + name + "-" + what + (detail == null ? "" : " " + detail));
    System.out.flush();
  }

  /**
   * Starts the service, says ready, then carries out the commands written to {@code commands}
   * until the JVM is stopped. Never returns normally: any exception ends the JVM.
   */
  public void run(Path commands, Start start, Commands known) {
    exitWithStandardInput();
    try {
      Files.createDirectories(commands);
      start.run();
      say("ready", null);
      serve(commands, known);
    } catch (Throwable failure) {
      failure.printStackTrace();
      say("failed:", oneLine(failure));
      exit(1);
    }
  }

  private void serve(Path commands, Commands known) throws Exception {
    for (;;) {
      File[] pending = commands.toFile().listFiles();
      if (pending != null) {
        Arrays.sort(pending);
        for (File command : pending) {
          String cmd = command.getName();
          Files.delete(command.toPath());
          try {
            say(known.run(cmd) ? "done" : "unknown", cmd);
          } catch (Exception failure) {
            // The command failed; the service goes on as it is, and the test that sent it fails.
            failure.printStackTrace();
            say("failed", cmd + ": " + oneLine(failure));
          }
        }
      }
      Thread.sleep(100);
    }
  }

  /** Ends the JVM when its standard input closes (the test's process is gone or let it go). */
  private void exitWithStandardInput() {
    // A descriptor of our own on that pipe, which a library that closes System.in does not
    // close (in the TSD's JVM, descriptor 0 was seen reopened on /dev/null while it ran).
    InputStream opened;
    try {
      opened = new FileInputStream("/proc/self/fd/0");
    } catch (IOException e) {
      opened = System.in;
    }
    InputStream in = opened;
    Thread watch = new Thread(() -> {
      byte[] buffer = new byte[256];
      try {
        while (in.read(buffer) >= 0) {
          // Nothing is sent on it; only its end matters.
        }
      } catch (IOException e) {
        // Closed all the same.
      }
      System.err.println("graft-" + name + ": standard input closed, exiting");
      exit(1);
    }, "graft-stdin-watch");
    watch.setDaemon(true);
    watch.start();
  }

  /** System.exit, with EXIT_GRACE_MS for the shutdown hooks before the JVM halts regardless. */
  private static void exit(int status) {
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(EXIT_GRACE_MS);
      } catch (InterruptedException e) {
        // Halting now.
      }
      Runtime.getRuntime().halt(status);
    }, "graft-halt");
    halt.setDaemon(true);
    halt.start();
    System.exit(status);
  }

  private static String oneLine(Throwable failure) {
    String text = failure.toString();
    Throwable cause = failure.getCause();
    for (int depth = 0; cause != null && depth < 5; depth++, cause = cause.getCause()) {
      text += " <- " + cause;
    }
    return text.replaceAll("\\s*[\r\n]+\\s*", " | ");
  }
}
