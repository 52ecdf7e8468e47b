"""``mmed``: the command-line tool for MMED Serve, built on the generated client."""
