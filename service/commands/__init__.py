"""Console subcommands beyond serve, migrate and check: each parses nothing itself, cli.py hands it the settings."""
