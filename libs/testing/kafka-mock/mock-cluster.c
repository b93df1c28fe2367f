/*
 * A Kafka-protocol broker for tests and the lab, without a JVM: librdkafka's
 * built-in mock cluster (Debian librdkafka-dev; rdkafka_mock.h). Built by
 * libs/testing/src/kafka-mock.ts (and infra/docker/lab.Dockerfile) with
 *   gcc -O2 -o strata-kafka-mock mock-cluster.c -lrdkafka
 *
 *   strata-kafka-mock TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]
 *
 * Starts one mock broker (id 1) on a free loopback port (librdkafka 2.0.2
 * picks it: the port cannot be chosen), creates the topics (kafkajs's
 * createTopics fails against the mock: it reports controller id 0), prints
 *   bootstrap 127.0.0.1:PORT
 * and then obeys one command per line on stdin, answering each with
 * "ok <command>" (so a caller knows it took effect):
 *   down   the broker closes its connections and refuses new ones (an outage; the data stays)
 *   up     it accepts connections again
 *   rtt N  it answers every request N ms late (0: at once), e.g. to make
 *          a crash land between a write and its acknowledgement
 * It exits on EOF of stdin, on "quit", on SIGTERM or SIGINT. Everything is in
 * memory: a new process starts empty.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *detail) {
  fprintf(stderr, "strata-kafka-mock: %s: %s\n", what, detail);
  exit(1);
}

int main(int argc, char **argv) {
  char err[512];
  if (argc < 2) die("usage", "strata-kafka-mock TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]");
  /* Default SIGTERM/SIGINT: the process ends at once; the mock holds nothing worth flushing. */
  signal(SIGPIPE, SIG_IGN);

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) die("config", err);
  /* The handle only hosts the mock cluster's thread; it talks to no broker itself. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == NULL) die("rd_kafka_new", err);
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (mc == NULL) die("rd_kafka_mock_cluster_new", "failed");

  for (int i = 1; i < argc; i++) {
    char *spec = strdup(argv[i]);
    char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec) die("not TOPIC:PARTITIONS", argv[i]);
    *colon = '\0';
    char *end;
    long partitions = strtol(colon + 1, &end, 10);
    if (*end != '\0' || partitions < 1 || partitions > 10000) die("partitions must be 1..10000", argv[i]);
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, spec, (int)partitions, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) die("rd_kafka_mock_topic_create", rd_kafka_err2str(e));
    free(spec);
  }

  printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (strcmp(line, "down") == 0) e = rd_kafka_mock_broker_set_down(mc, 1);
    else if (strcmp(line, "up") == 0) e = rd_kafka_mock_broker_set_up(mc, 1);
    else if (strncmp(line, "rtt ", 4) == 0) e = rd_kafka_mock_broker_set_rtt(mc, 1, atoi(line + 4));
    else if (strcmp(line, "quit") == 0) break;
    else if (line[0] == '\0') continue;
    else {
      printf("error unknown command %s\n", line);
      fflush(stdout);
      continue;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) printf("error %s %s\n", line, rd_kafka_err2str(e));
    else printf("ok %s\n", line);
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
