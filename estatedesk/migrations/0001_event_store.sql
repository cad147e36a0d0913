-- The event store: one row per event, streams keyed by (stream_id, version).
-- `position` is the global order; it is assigned under a transaction-level lock so it
-- follows commit order (see estatedesk/eventstore/store.py).
CREATE SEQUENCE event_position_seq AS bigint;

CREATE TABLE events (
    stream_id      text        NOT NULL,
    version        integer     NOT NULL CHECK (version > 0),
    position       bigint      NOT NULL UNIQUE,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    case_id        text        NOT NULL,
    estate_id      text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    producer       text        NOT NULL,
    correlation_id text        NOT NULL,
    causation_id   text,
    payload        jsonb       NOT NULL,
    PRIMARY KEY (stream_id, version)
);

-- Rows waiting to be published; the relay deletes a row once the broker acknowledged it.
CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    key        text        NOT NULL,
    message    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_topic_id ON outbox (topic, id);

-- Residents' personal data lives beside the events, not in them, so it can be erased
-- on request (PIPL) without rewriting the history.
CREATE TABLE reporter_contacts (
    case_id      text PRIMARY KEY,
    name         text,
    phone        text,
    household_id text,
    erased_at    timestamptz
);

-- Request idempotency of the command API.
CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
