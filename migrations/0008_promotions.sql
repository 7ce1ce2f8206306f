-- Promotion of a published post (publishing's StartPromotion and StopPromotion). The seed's
-- promotion_budget (DECIMAL(10,2), exact), promotion_status and its times stay; this adds what
-- the platform made for it (e.g. a Spark Ad's campaign, ad group and ad ids), recorded as each
-- is made so a retried start continues instead of making them twice; why it failed; and a
-- lease, so that only one caller at a time (an API call, or a replica's sweeper) starts it:
-- two starting at once would make two ad groups, each spending the budget.
ALTER TABLE cf_published_content
  ADD COLUMN promotion_handle TEXT,
  ADD COLUMN promotion_note TEXT,
  ADD COLUMN promotion_lease_token BIGINT,
  ADD COLUMN promotion_lease_until TIMESTAMPTZ;
