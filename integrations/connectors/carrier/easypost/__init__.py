"""EasyPost: an aggregator's Tracker objects and its tracker webhooks."""
