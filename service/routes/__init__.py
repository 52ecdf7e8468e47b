"""HTTP route handlers: thin, typed, and free of pipeline logic."""
