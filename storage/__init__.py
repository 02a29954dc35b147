"""Articles, clusters and source links in SQL: SQLite by default, PostgreSQL through a URL."""
