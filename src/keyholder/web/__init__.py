"""HTTP entrypoints: the JSON API (and, later, the web UI)."""
