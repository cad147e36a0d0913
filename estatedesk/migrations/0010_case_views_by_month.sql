-- Monthly statistics read a month of views, group-wide or per estate.
CREATE INDEX case_views_received ON case_views (received_at);
