"""Search over news items: a backend interface, an embedded default, Elasticsearch."""
