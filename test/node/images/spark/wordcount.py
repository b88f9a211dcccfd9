"""PNDA's wordcount, as a Spark driver in cluster mode reads its platform: application.properties
from the driver JVM's class path (where graft's JAVA_TOOL_OPTIONS puts the injected mount),
then a word count run on the executors.

    wordcount.py [--until FILE] KEY...

Prints `application.properties: <url>`, `key=value` for each KEY, and
`wordcount: <words> words, <distinct> distinct`; with --until it then keeps running (a streaming
app's driver, its UI up) until FILE exists, at most 10 minutes."""

import os
import sys
import time

from pyspark.sql import SparkSession


def main(args: list[str]) -> int:
    until = None
    if args[:1] == ["--until"]:
        until, args = args[1], args[2:]
    spark = SparkSession.builder.appName("wordcount").getOrCreate()
    sc = spark.sparkContext
    jvm = sc._jvm
    url = jvm.java.lang.ClassLoader.getSystemClassLoader().getResource("application.properties")
    if url is None:
        print("application.properties: not on the class path", flush=True)
        spark.stop()
        return 3
    print(f"application.properties: {url.toString()}", flush=True)
    properties = jvm.java.util.Properties()
    stream = url.openStream()
    try:
        properties.load(stream)
    finally:
        stream.close()
    for key in args:
        print(f"{key}={properties.getProperty(key, '<absent>')}", flush=True)

    # The words of the properties file, counted by the executors.
    lines = [f"{k} {properties.getProperty(k)}" for k in properties.stringPropertyNames()]
    counts = (
        sc.parallelize(lines, 2)
        .flatMap(lambda line: line.replace("=", " ").replace(".", " ").split())
        .map(lambda word: (word, 1))
        .reduceByKey(lambda a, b: a + b)
        .collect()
    )
    total = sum(n for _, n in counts)
    print(f"wordcount: {total} words, {len(counts)} distinct", flush=True)
    if until:
        deadline = time.monotonic() + 600
        while not os.path.exists(until) and time.monotonic() < deadline:
            time.sleep(0.5)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
