// Reads application.properties through the class loader (never a file path), as PNDA's apps
// do, and prints where it came from and the keys named as arguments: `key=value` per line.
// With `--stay` first it then keeps running (a streaming app's driver), until SIGTERM.
import java.io.InputStream;
import java.net.URL;
import java.util.Arrays;
import java.util.Properties;

public final class PrintProperties {
  public static void main(String[] args) throws Exception {
    boolean stay = args.length > 0 && args[0].equals("--stay");
    String[] keys = stay ? Arrays.copyOfRange(args, 1, args.length) : args;
    URL url = PrintProperties.class.getClassLoader().getResource("application.properties");
    if (url == null) {
      System.out.println("application.properties: not on the class path");
      System.exit(3);
    }
    System.out.println("application.properties: " + url);
    Properties properties = new Properties();
    try (InputStream in = url.openStream()) {
      properties.load(in);
    }
    for (String key : keys) {
      System.out.println(key + "=" + properties.getProperty(key, "<absent>"));
    }
    System.out.flush();
    if (stay) Thread.sleep(Long.MAX_VALUE);
  }
}
