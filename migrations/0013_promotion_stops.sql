-- A promotion ended by StopPromotion is only stopped once the platform confirms it: until then
-- what it made (promotion_unstopped_handle: an ad group still able to spend) is kept here, a
-- new StartPromotion first stops it (or refuses), and publishing retries the stop on its own
-- (no sooner than promotion_stop_retry_at). Before this, a failed stop left the row
-- 'completed', and the next start forgot the old ad group, which spent on.
-- A promotion also ends by itself: promotion_ends_at is the end of its ad group's schedule,
-- from the days asked for, so nothing spends at a daily budget until someone remembers it.
ALTER TABLE cf_published_content
  ADD COLUMN promotion_unstopped_handle TEXT,
  ADD COLUMN promotion_stop_retry_at TIMESTAMPTZ,
  ADD COLUMN promotion_ends_at TIMESTAMPTZ;

CREATE INDEX idx_published_unstopped ON cf_published_content (promotion_stop_retry_at)
  WHERE promotion_unstopped_handle IS NOT NULL;
