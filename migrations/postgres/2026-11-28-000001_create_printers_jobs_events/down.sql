DROP TABLE event_seq;
DROP TABLE job_events;
DROP TABLE jobs;
DROP TABLE printers;
