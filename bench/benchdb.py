"""What the benches that start a real server share: their own PostgreSQL database."""

import os


def ensure_database() -> None:
    """Create the bench's database named in ``DATABASE_URL`` if it is PostgreSQL and missing."""
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
