-- One row per obligation (a clock on a case); open rows are the pending timers, found
-- by the partial index on due time.
CREATE TABLE sla_obligations (
    obligation_id  text        PRIMARY KEY,
    case_id        text        NOT NULL,
    estate_id      text        NOT NULL,
    rule           text        NOT NULL,
    started_at     timestamptz NOT NULL,
    due_at         timestamptz NOT NULL,
    state          text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'met', 'breached')),
    met_at         timestamptz,
    breached_at    timestamptz,
    correlation_id text        NOT NULL
);
CREATE INDEX sla_obligations_due ON sla_obligations (due_at) WHERE state = 'open';
CREATE INDEX sla_obligations_case ON sla_obligations (case_id);
