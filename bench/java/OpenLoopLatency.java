import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The latency floor's method with Apache Kafka's own Java clients (clickbench's `npm run bench`, bench/kafka-bench.ts):
 * records sent on a schedule whatever happens (open loop: `rate` per second for `seconds`, Poisson or evenly spaced
 * arrivals, keys drawn from `keys` users with Zipf skew `zipf` as clickbench's generator draws visitors, so the default
 * partitioner spreads them over the partitions as unevenly), each timed from
 * its intended send time to its acknowledgement and to a consumer in this process reading it. EndToEndLatency sends
 * one record at a time and waits for it (a closed loop); this is the open loop clickbench's driver runs, so the two
 * clients are compared on one method. The producer as Kafka 4 makes it by default (idempotent, five requests in flight
 * per connection) with acks=all and linger.ms=0; the consumer read_committed with fetch.max.wait.ms 100, as the
 * floor's reader.
 *
 * Arguments: bootstrap topic rate seconds recordBytes seed poisson|uniform keys zipf. Prints one JSON line.
 */
public final class OpenLoopLatency {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    double rate = Double.parseDouble(args[2]);
    int seconds = Integer.parseInt(args[3]);
    int recordBytes = Math.max(12, Integer.parseInt(args[4]));
    long seed = Long.parseLong(args[5]);
    boolean poisson = args[6].equals("poisson");
    int keys = Integer.parseInt(args[7]);
    double zipf = Double.parseDouble(args[8]);
    // P(rank k) proportional to k^-zipf: the cumulative weights, searched with a uniform draw.
    double[] cdf = new double[keys];
    double sum = 0;
    for (int k = 0; k < keys; k++) cdf[k] = (sum += Math.pow(k + 1, -zipf));

    Properties pp = new Properties();
    pp.put("bootstrap.servers", bootstrap);
    pp.put("acks", "all");
    pp.put("linger.ms", "0");
    pp.put("key.serializer", ByteArraySerializer.class.getName());
    pp.put("value.serializer", ByteArraySerializer.class.getName());
    Properties cp = new Properties();
    cp.put("bootstrap.servers", bootstrap);
    cp.put("fetch.max.wait.ms", "100");
    cp.put("isolation.level", "read_committed");
    cp.put("enable.auto.commit", "false");
    cp.put("key.deserializer", ByteArrayDeserializer.class.getName());
    cp.put("value.deserializer", ByteArrayDeserializer.class.getName());

    int n = (int) Math.round(rate * seconds);
    long[] e2e = new long[n];
    long[] ack = new long[n];
    Arrays.fill(e2e, -1);
    Arrays.fill(ack, -1);
    AtomicInteger seen = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();

    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo p : consumer.partitionsFor(topic)) partitions.add(new TopicPartition(topic, p.partition()));
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    for (TopicPartition p : partitions) consumer.position(p);
    Thread reader = new Thread(() -> {
      while (!stop.get() && seen.get() < n) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          long now = System.nanoTime();
          ByteBuffer b = ByteBuffer.wrap(r.value());
          int i = b.getInt();
          long due = b.getLong();
          if (i >= 0 && i < n && e2e[i] < 0) {
            e2e[i] = now - due;
            seen.incrementAndGet();
          }
        }
      }
      consumer.close();
    });
    reader.start();

    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
    // Connections and metadata before the schedule (the driver's producer is connected and knows its leaders too).
    for (PartitionInfo p : producer.partitionsFor(topic)) {
      byte[] v = new byte[recordBytes];
      ByteBuffer.wrap(v).putInt(-1);
      producer.send(new ProducerRecord<>(topic, p.partition(), null, v)).get();
    }
    Thread.sleep(3_000);

    Random rnd = new Random(seed);
    double gapNs = 1e9 / rate;
    long start = System.nanoTime() + 200_000_000L;
    double at = 0;
    for (int i = 0; i < n; i++) {
      long due = start + (long) at;
      at += poisson ? -Math.log(1 - rnd.nextDouble()) * gapNs : gapNs;
      int rank = Arrays.binarySearch(cdf, rnd.nextDouble() * sum);
      byte[] key = ("user-" + (rank < 0 ? -rank - 1 : rank)).getBytes(StandardCharsets.UTF_8);
      long wait;
      while ((wait = due - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
      byte[] v = new byte[recordBytes];
      ByteBuffer.wrap(v).putInt(i).putLong(due);
      final int idx = i;
      producer.send(new ProducerRecord<>(topic, key, v), (md, ex) -> {
        if (ex == null) ack[idx] = System.nanoTime() - due;
        else failed.incrementAndGet();
      });
    }
    producer.flush();
    long until = System.nanoTime() + 10_000_000_000L;
    while (seen.get() < n && System.nanoTime() < until) Thread.sleep(20);
    stop.set(true);
    reader.join();
    producer.close();

    System.out.println("{\"records\":" + n + ",\"seen\":" + seen.get() + ",\"failed\":" + failed.get()
        + ",\"p50Ms\":" + ms(e2e, 0.50) + ",\"p99Ms\":" + ms(e2e, 0.99) + ",\"maxMs\":" + ms(e2e, 1.0)
        + ",\"ackP50Ms\":" + ms(ack, 0.50) + ",\"ackP99Ms\":" + ms(ack, 0.99) + "}");
  }

  /** The quantile `q` of the measured values (nanoseconds; -1 left out) in milliseconds, or null without any. */
  private static String ms(long[] xs, double q) {
    long[] v = Arrays.stream(xs).filter(x -> x >= 0).sorted().toArray();
    if (v.length == 0) return "null";
    int i = Math.min(v.length - 1, Math.max(0, (int) Math.ceil(q * v.length) - 1));
    return String.format(Locale.ROOT, "%.1f", v[i] / 1e6);
  }
}
