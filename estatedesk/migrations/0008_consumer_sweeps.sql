-- How far each consumer has swept the store for events it never heard of from Kafka.
CREATE TABLE consumer_sweeps (
    consumer text   PRIMARY KEY,
    position bigint NOT NULL
);
