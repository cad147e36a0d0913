-- Queue filters of the case list: who holds a case, whose household it is, what is due next,
-- and text search. Text is indexed as character unigrams and bigrams (a GIN over text[]),
-- which serves Chinese as well as Latin text: trigrams would miss a two-character word
-- such as 漏水 and, under the C locale, ignore CJK characters altogether.
ALTER TABLE case_views
    ADD COLUMN assignee     text,
    ADD COLUMN coordinator  text,
    ADD COLUMN household_id text,
    ADD COLUMN next_due_at  timestamptz,
    ADD COLUMN search_grams text[] NOT NULL DEFAULT '{}';
CREATE INDEX case_views_assignee ON case_views (assignee, received_at DESC) WHERE assignee IS NOT NULL;
CREATE INDEX case_views_coordinator ON case_views (coordinator, received_at DESC) WHERE coordinator IS NOT NULL;
CREATE INDEX case_views_household ON case_views (household_id, received_at DESC) WHERE household_id IS NOT NULL;
CREATE INDEX case_views_next_due ON case_views (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX case_views_departments ON case_views USING gin (departments);
CREATE INDEX case_views_search ON case_views USING gin (search_grams);
CREATE INDEX case_views_breached ON case_views (estate_id, received_at DESC) WHERE breached;
