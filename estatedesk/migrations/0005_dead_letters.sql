-- Messages a consumer could not apply (malformed, unknown schema, a bug): kept for
-- inspection and replay instead of blocking the partition behind them.
CREATE TABLE dead_letters (
    id          bigserial   PRIMARY KEY,
    consumer    text        NOT NULL,
    event_id    text,
    event_type  text,
    error       text        NOT NULL,
    message     bytea       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
