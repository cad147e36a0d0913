-- Dispatch's working state: open-case counts and round-robin cursors per estate, and per
-- case what re-routing needs. Updated in the same transaction as the decision's outbox row,
-- so a restart neither loses nor double-counts.
CREATE TABLE dispatch_estates (
    estate_id  text  PRIMARY KEY,
    open_cases jsonb NOT NULL DEFAULT '{}',
    cursors    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE dispatch_cases (
    case_id   text  PRIMARY KEY,
    estate_id text  NOT NULL,
    record    jsonb NOT NULL
);
