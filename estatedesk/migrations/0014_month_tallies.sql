-- The monthly figures kept as the case views change, in the projection's transaction: each
-- case adds its tally (what it counts towards, 003 §4.10) to its estate's month, and takes the
-- old one away when its view changes, so a month is read as a sum over its estates' rows
-- instead of a fold over every case view of it. Durations are kept one row a case and measure,
-- ordered by value, so a nearest-rank percentile is an index walk to its rank.
CREATE TABLE month_counts (
    month     text   NOT NULL,
    estate_id text   NOT NULL,
    figure    text   NOT NULL,
    key       text   NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (month, estate_id, figure, key)
);
CREATE TABLE month_durations (
    case_id   text             NOT NULL,
    measure   text             NOT NULL,
    month     text             NOT NULL,
    estate_id text             NOT NULL,
    seconds   double precision NOT NULL,
    PRIMARY KEY (case_id, measure)
);
CREATE INDEX month_durations_group ON month_durations (month, measure, seconds);
CREATE INDEX month_durations_estate ON month_durations (estate_id, month, measure, seconds);
-- Views stored before these tables existed are counted once, by the analytics service at start.
CREATE TABLE read_model_builds (
    name     text        PRIMARY KEY,
    built_at timestamptz NOT NULL DEFAULT now()
);
-- The dashboard's breaches of the day, and its deadlines near breach among the open cases:
-- `unsettled_due_at` is the earliest due time of a deadline neither met nor breached.
CREATE INDEX events_sla_breached ON events (occurred_at, estate_id) WHERE event_type = 'SlaBreached';
ALTER TABLE case_views ADD COLUMN unsettled_due_at timestamptz;
CREATE INDEX case_views_unsettled_due ON case_views (unsettled_due_at, estate_id)
    WHERE unsettled_due_at IS NOT NULL AND status NOT IN ('archived', 'cancelled', 'merged');
CREATE INDEX case_views_open ON case_views (estate_id, status, departments)
    WHERE status NOT IN ('archived', 'cancelled', 'merged');
