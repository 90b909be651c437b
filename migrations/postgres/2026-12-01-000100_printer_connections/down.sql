DROP TABLE printer_status;
ALTER TABLE printers DROP COLUMN monitoring;
ALTER TABLE printers DROP COLUMN tls_fingerprint;
ALTER TABLE printers DROP COLUMN connection_secrets;
ALTER TABLE printers DROP COLUMN connection;
