/*
 * librdkafka's mock Kafka cluster as a child process for the tests (see mock-cluster.ts).
 *
 * Usage: mock-cluster [brokers=3]. Prints the bootstrap list ("127.0.0.1:p1,127.0.0.1:p2,...")
 * as its first stdout line, then reads one command a line on stdin and answers each with one
 * line, "ok" or "error <text>":
 *   topic <name> <partitions> <replication>      leader <topic> <partition> <brokerId>
 *   follower <topic> <partition> <brokerId>      down <brokerId>      up <brokerId>
 *   coordinator <group|transaction> <key> <brokerId>
 *   error <apiKey> <count> <errorCode>...        (the next <count> requests of that API fail)
 * EOF on stdin or SIGTERM destroys the cluster and exits 0.
 *
 * What the Debian librdkafka 2.0.2 mock serves, as its ApiVersions answer and probes showed:
 *   Produce 0-7, Fetch 0-11, ListOffsets 0-5, Metadata 0-2, OffsetCommit 0-7, OffsetFetch 0-5,
 *   FindCoordinator 0-2, JoinGroup 0-5, Heartbeat 0-3, LeaveGroup 0-1, SyncGroup 0-3,
 *   ApiVersions 0-2, InitProducerId 0-4 (2+ flexible, the only flexible versions served),
 *   AddPartitionsToTxn 0-1, AddOffsetsToTxn 0-1, EndTxn 0-1, TxnOffsetCommit 0-2.
 * Any other API (CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords, Describe/Alter
 * Configs, ListGroups, DescribeGroups, DeleteGroups, SASL, OffsetForLeaderEpoch) or version: the
 * broker logs "unsupported" and closes the connection, with no error response. ApiVersions v3+
 * answers UNSUPPORTED_VERSION (35) with a body neither v0 nor v3 decodes: start at v0-v2.
 * Quirks a client meets:
 * - Topics: no CreateTopics/DeleteTopics (`topic` above creates one). Metadata naming an unknown
 *   topic auto-creates it (4 partitions, replication min(3, brokers)); v0-v2 carry no
 *   allowAutoTopicCreation, so always. Produce/Fetch to an unknown topic: UNKNOWN_TOPIC_OR_PARTITION.
 *   Broker ids run 1..N, all on 127.0.0.1; Metadata's controllerId is 0 (no such broker).
 * - Produce: RecordBatch (magic 2) only; answers even acks=0 (Kafka would not); logAppendTime 1234.
 * - Fetch: at most one stored batch (one Produce's) per partition per response; waits up to
 *   MaxWait when empty. ListOffsets: earliest (-2) and latest (-1) only; a timestamp gives -1.
 * - Idempotence: InitProducerId hands out a producer id; sequences are checked, duplicates dropped.
 * - Transactions: coordinator lookup (key type 1), Add*ToTxn, TxnOffsetCommit and EndTxn work
 *   (kcat -X transactional.id commits), but EndTxn writes no control batch (no marker offset) and
 *   Fetch reports LSO = high watermark and no aborted transactions: read_committed reads all.
 * - Groups: JoinGroup/SyncGroup/Heartbeat/LeaveGroup and offsets work (kcat -G consumes).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stopping = 0;

static void on_term(int sig) {
  (void)sig;
  stopping = 1;
}

/* A whole-token integer, or 0 (so "3x" or "" is refused rather than read as 3 or 0). */
static int num(const char *s, long *out) {
  char *end;
  if (s == NULL || *s == '\0') return 0;
  errno = 0;
  *out = strtol(s, &end, 10);
  return *end == '\0' && errno == 0;
}

/* Runs one command; returns NULL for ok, or the reason it failed. */
static const char *run(rd_kafka_mock_cluster_t *mc, char **arg, int n) {
  long a, b, c;
  rd_kafka_resp_err_t err;
  const char *cmd = arg[0];

  if (!strcmp(cmd, "topic") && n == 4 && num(arg[2], &a) && num(arg[3], &b))
    err = rd_kafka_mock_topic_create(mc, arg[1], (int)a, (int)b);
  else if (!strcmp(cmd, "leader") && n == 4 && num(arg[2], &a) && num(arg[3], &b))
    err = rd_kafka_mock_partition_set_leader(mc, arg[1], (int32_t)a, (int32_t)b);
  else if (!strcmp(cmd, "follower") && n == 4 && num(arg[2], &a) && num(arg[3], &b))
    err = rd_kafka_mock_partition_set_follower(mc, arg[1], (int32_t)a, (int32_t)b);
  else if (!strcmp(cmd, "down") && n == 2 && num(arg[1], &a))
    err = rd_kafka_mock_broker_set_down(mc, (int32_t)a);
  else if (!strcmp(cmd, "up") && n == 2 && num(arg[1], &a))
    err = rd_kafka_mock_broker_set_up(mc, (int32_t)a);
  else if (!strcmp(cmd, "coordinator") && n == 4 && num(arg[3], &a) &&
           (!strcmp(arg[1], "group") || !strcmp(arg[1], "transaction")))
    err = rd_kafka_mock_coordinator_set(mc, arg[1], arg[2], (int32_t)a);
  else if (!strcmp(cmd, "error") && n >= 4 && num(arg[1], &a) && num(arg[2], &b) && b == n - 3) {
    rd_kafka_resp_err_t codes[64];
    if (b > 64) return "at most 64 error codes";
    for (int i = 0; i < b; i++) {
      if (!num(arg[3 + i], &c)) return "error codes must be integers";
      codes[i] = (rd_kafka_resp_err_t)c;
    }
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)b, codes);
    return NULL;
  } else
    return "unknown command or bad arguments";
  return err ? rd_kafka_err2str(err) : NULL;
}

int main(int argc, char **argv) {
  long brokers = 3;
  char errstr[512], line[4096];
  if (argc > 1 && (!num(argv[1], &brokers) || brokers < 1)) {
    fprintf(stderr, "usage: %s [brokers >= 1]\n", argv[0]);
    return 2;
  }

  /* No SA_RESTART: SIGTERM interrupts the blocking read, so fgets returns and the loop ends.
   * (One landing between the flag check and the read waits for the next line or EOF.) */
  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);

  /* The producer only hosts the cluster (its threads and bookkeeping); it never connects. */
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0); /* no "bootstrap.servers not set" noise */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == NULL) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
  if (mc == NULL) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  while (!stopping && fgets(line, sizeof line, stdin) != NULL) {
    char *arg[3 + 64 + 1];
    int n = 0;
    for (char *t = strtok(line, " \t\r\n"); t != NULL && n < (int)(sizeof arg / sizeof *arg);
         t = strtok(NULL, " \t\r\n"))
      arg[n++] = t;
    const char *failure = n == 0 ? "empty command" : run(mc, arg, n);
    if (failure == NULL) printf("ok\n");
    else printf("error %s\n", failure);
    fflush(stdout);
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
