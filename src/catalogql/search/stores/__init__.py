"""The stores behind :class:`catalogql.search.Catalog`: memory, SQLite and PostgreSQL."""
