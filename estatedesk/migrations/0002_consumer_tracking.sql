-- Consumers record what they applied in the same transaction as its effect, so a
-- redelivered message changes nothing (exactly-once effect over at-least-once delivery).
CREATE TABLE stream_checkpoints (
    consumer  text    NOT NULL,
    stream_id text    NOT NULL,
    version   integer NOT NULL,
    PRIMARY KEY (consumer, stream_id)
);

CREATE TABLE processed_events (
    consumer text NOT NULL,
    event_id uuid NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
