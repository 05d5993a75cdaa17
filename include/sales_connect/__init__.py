"""The Sales Connect store: the database the sales-engagement app and the sync share."""
