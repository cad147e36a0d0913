-- Consumers now follow each case through the store by global position (every service's
-- events are stored), which replaces per-stream versions and per-event-id bookkeeping.
DROP TABLE stream_checkpoints;
DROP TABLE processed_events;

CREATE TABLE case_positions (
    consumer text   NOT NULL,
    case_id  text   NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (consumer, case_id)
);

CREATE INDEX events_case_position ON events (case_id, position);
