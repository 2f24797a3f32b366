-- What each export sent to each destination, row by row: the basis of every delta.
CREATE TABLE IF NOT EXISTS activation.export_members (
    destination VARCHAR NOT NULL,
    run_date DATE NOT NULL,
    customer_id VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL,
    row_values VARCHAR NOT NULL,
    sent_email BOOLEAN NOT NULL,
    sent_phone BOOLEAN NOT NULL
)
