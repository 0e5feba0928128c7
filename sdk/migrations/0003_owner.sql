-- Transaction ownership (camr::ceremony::OwnerToken): lower-case hex SHA-256 of the owner
-- credential handed to whoever started the transaction. NULL for rows made before it
-- existed: nobody owns them, every caller is refused.
ALTER TABLE transactions ADD COLUMN owner_hash TEXT;
