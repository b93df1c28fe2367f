/*
 * A Kafka-protocol broker for tests and the lab, without a JVM: librdkafka's
 * built-in mock cluster (Debian librdkafka-dev; rdkafka_mock.h). Built by
 * libs/testing/src/kafka-mock.ts (and infra/docker/lab.Dockerfile) with
 *   gcc -O2 -o strata-kafka-mock mock-cluster.c -lrdkafka
 *
 *   strata-kafka-mock [--bootstrap-file FILE] [--no-stdin] TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]
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
 *
 * For the compose lab (infra/docker/bin/lab-kafka): --bootstrap-file also
 * writes the address to FILE (atomically: written beside it, then renamed),
 * and --no-stdin ignores stdin and runs until a signal.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what, const char *detail) {
  fprintf(stderr, "strata-kafka-mock: %s: %s\n", what, detail);
  exit(1);
}

int main(int argc, char **argv) {
  char err[512];
  const char *bootstrap_file = NULL;
  int use_stdin = 1;
  int first_topic = 1;
  for (; first_topic < argc && strncmp(argv[first_topic], "--", 2) == 0; first_topic++) {
    if (strcmp(argv[first_topic], "--no-stdin") == 0) use_stdin = 0;
    else if (strcmp(argv[first_topic], "--bootstrap-file") == 0 && first_topic + 1 < argc) bootstrap_file = argv[++first_topic];
    else die("unknown option", argv[first_topic]);
  }
  if (first_topic >= argc) die("usage", "strata-kafka-mock [--bootstrap-file FILE] [--no-stdin] TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]");
  /* Default SIGTERM/SIGINT: the process ends at once; the mock holds nothing worth flushing. */
  signal(SIGPIPE, SIG_IGN);

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) die("config", err);
  /* The handle only hosts the mock cluster's thread; it talks to no broker itself. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == NULL) die("rd_kafka_new", err);
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (mc == NULL) die("rd_kafka_mock_cluster_new", "failed");

  for (int i = first_topic; i < argc; i++) {
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

  const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
  printf("bootstrap %s\n", bootstraps);
  fflush(stdout);
  if (bootstrap_file != NULL) {
    char partial[4096];
    snprintf(partial, sizeof partial, "%s.partial", bootstrap_file);
    FILE *f = fopen(partial, "w");
    if (f == NULL || fprintf(f, "%s\n", bootstraps) < 0 || fclose(f) != 0 || rename(partial, bootstrap_file) != 0) die("cannot write", bootstrap_file);
  }
  if (!use_stdin) for (;;) pause();

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
