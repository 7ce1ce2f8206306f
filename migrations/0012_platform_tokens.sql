-- Platform tokens that publishing renewed (TikTok's and Google's refreshes, Meta's exchanges),
-- kept so that a restart and every replica use the newest: TikTok rotates its refresh tokens,
-- and Meta refuses to exchange a token that has expired, so a renewal known only to the memory
-- of one process is lost, and with it the account. One row per token owner ('tiktok', 'meta',
-- 'youtube'). The tokens are sealed (AES-256-GCM, publishing's CF_TOKEN_KEY, base64): never in
-- the clear here. configured_sha256 is the SHA-256 of the credentials the service was
-- configured with when the row was written: configuring others starts from those instead.
-- A renewal holds the row's lock (SELECT ... FOR UPDATE) through the platform's call, so
-- replicas renew one at a time and the others then read what it stored.
CREATE TABLE cf_platform_tokens (
  token_owner TEXT PRIMARY KEY,
  configured_sha256 TEXT NOT NULL,
  access_token_sealed TEXT NOT NULL,
  refresh_token_sealed TEXT NOT NULL,
  issued_at TIMESTAMPTZ,
  expires_at TIMESTAMPTZ,
  renewed_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

GRANT SELECT, INSERT, UPDATE ON cf_platform_tokens TO cf_publishing;
