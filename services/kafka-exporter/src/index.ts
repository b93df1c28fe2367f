export { KAFKA_EXPORT_DURABLE, kafkaExporterConfig, kafkaExporterService } from './service.js';
export { KAFKA_HEADERS, kafkaRecord, type KafkaRecord, type LogEntry } from './app/record.js';
export { Exporter, maxAckPending, type ExporterOptions, type RecordSink } from './app/exporter.js';
export { KafkaSink, type KafkaSinkOptions } from './app/kafka-sink.js';
export { Sequencer, type Offer } from './app/sequencer.js';
