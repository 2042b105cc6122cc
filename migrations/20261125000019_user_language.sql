-- The UI language is a setting of the user, not only of one browser: kept here, applied at
-- every login.
ALTER TABLE users ADD COLUMN language text CHECK (language IN ('de', 'en'));
