-- A printer's connection. `connection` holds the settings that are not secret as the store's
-- own JSON (kind, host, port, serial, base_url, …); `connection_secrets` maps each secret's
-- name to its bytes sealed by the SecretSealer (hex), never the plain value, so that a copy
-- of the database alone reveals no access code. `tls_fingerprint` is the certificate
-- trusted on first use.
ALTER TABLE printers ADD COLUMN connection TEXT;
ALTER TABLE printers ADD COLUMN connection_secrets TEXT;
ALTER TABLE printers ADD COLUMN tls_fingerprint TEXT;
ALTER TABLE printers ADD COLUMN monitoring BOOLEAN NOT NULL DEFAULT false;

-- The live status the monitor last wrote for a printer (the domain's PrinterStatus as JSON).
CREATE TABLE printer_status (
    printer_id TEXT PRIMARY KEY NOT NULL REFERENCES printers (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
