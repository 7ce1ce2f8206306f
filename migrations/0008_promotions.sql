-- Promotion of a published post (publishing's StartPromotion and StopPromotion). The seed's
-- promotion_budget (DECIMAL(10,2), exact), promotion_status and its times stay; this adds what
-- the platform made for it (e.g. a Spark Ad's campaign, ad group and ad ids), recorded as each
-- is made so a retried start continues instead of making them twice, and why it failed.
ALTER TABLE cf_published_content
  ADD COLUMN promotion_handle TEXT,
  ADD COLUMN promotion_note TEXT;
