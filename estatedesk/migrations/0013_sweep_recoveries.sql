-- The cases a consumer's store sweep had to catch up: what the broker's delivery did not bring
-- within the grace period, by consumer and the first event found unapplied. Written only when
-- the safety net caught something, so an engineer can see which cases it was and when.
CREATE TABLE sweep_recoveries (
    consumer text NOT NULL,
    case_id text NOT NULL,
    position bigint NOT NULL,
    recovered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, case_id, position)
);
CREATE INDEX sweep_recoveries_by_case ON sweep_recoveries (case_id);
