-- Access tokens carry the user's token epoch ("ep"); raising it (role change, disabling,
-- password change, sign-out everywhere) ends every access token issued before, at once.
ALTER TABLE users ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;

-- A refresh-token family is a session: the device (user agent) that signed in is kept
-- with each token so the user can tell sessions apart.
-- mfa: the sign-in that started the family passed a second factor (its access tokens say so).
ALTER TABLE refresh_tokens
  ADD COLUMN user_agent text CHECK (length(user_agent) <= 512),
  ADD COLUMN mfa        boolean NOT NULL DEFAULT false;
CREATE INDEX refresh_tokens_user_family_idx ON refresh_tokens (user_id, family_id, created_at);
