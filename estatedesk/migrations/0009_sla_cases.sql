-- The SLA engine keeps one row per case: its clocks as a document and the next moment it
-- needs the ticker, found through a partial index. Replaces the per-obligation rows.
DROP TABLE sla_obligations;

CREATE TABLE sla_cases (
    case_id     text        PRIMARY KEY,
    estate_id   text        NOT NULL,
    state       jsonb       NOT NULL,
    next_due_at timestamptz
);
CREATE INDEX sla_cases_due ON sla_cases (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE daily_feedback_checks (
    estate_id  text NOT NULL,
    department text NOT NULL,
    day        date NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('reported', 'missed')),
    PRIMARY KEY (estate_id, department, day)
);
