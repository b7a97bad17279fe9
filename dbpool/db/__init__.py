"""The Django side of dbpool: backends, and the glue they share."""
