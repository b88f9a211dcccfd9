"""A tiny PySpark driver for the spark check's tests: runs a job that succeeds, then keeps its UI
(and REST API) up on the port in argv[1] until it is stopped. When a file named `fail-a-job`
appears in its working directory, it runs a job that fails. With argv[2] "streaming" it also runs
a DStreams streaming job (5 s batches from a queue); once a file named `slow-batches` appears,
each batch takes 15 s, so the job falls behind."""
import os
import sys
import time

from pyspark.sql import SparkSession

ui_port = sys.argv[1]
spark = (
    SparkSession.builder.master("local[1]")
    .appName("graft-spark-check")
    .config("spark.ui.port", ui_port)
    .config("spark.port.maxRetries", "0")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.memory", "512m")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
spark.range(100).count()



def explode(_):
    raise RuntimeError("this job fails on purpose")


if len(sys.argv) > 2 and sys.argv[2] == "streaming":
    from pyspark.streaming import StreamingContext

    ssc = StreamingContext(spark.sparkContext, 5)

    slow_flag = os.path.abspath("slow-batches")

    def slow_when_asked(record):
        # Runs in the batch's task, so the time counts as the batch's processing time.
        if os.path.exists(slow_flag):
            time.sleep(15)
        return record

    ssc.queueStream([], default=spark.sparkContext.parallelize([1], 1)).map(
        slow_when_asked
    ).foreachRDD(lambda rdd: rdd.count())
    ssc.start()

print("graft-spark-app-ready", flush=True)
while True:
    if os.path.exists("fail-a-job"):
        os.remove("fail-a-job")
        try:
            spark.sparkContext.parallelize([1], 1).map(explode).collect()
        except Exception:
            pass
        print("graft-spark-app-job-failed", flush=True)
    time.sleep(0.2)
