-- What a shaped try (a CRM template, src/shape/) actually sent: its method and body. NULL
-- body: the try sent the event's payload as is (every plain webhook), read from the event.
ALTER TABLE attempts ADD COLUMN request_method TEXT NOT NULL DEFAULT 'POST';
ALTER TABLE attempts ADD COLUMN request_body TEXT;
