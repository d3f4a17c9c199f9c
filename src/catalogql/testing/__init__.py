"""Test tooling for catalogql and for those who test against it (the ``testing`` extra).

* :mod:`catalogql.testing.strategies`: Hypothesis strategies of filters, type expressions,
  literals, records and search requests (needs Hypothesis: ``pip install 'catalogql[testing]'``).
* :mod:`catalogql.testing.synthetic`: a seeded, streaming generator of GBDX-shaped catalogs.
* :mod:`catalogql.testing.postgres_cluster`: throwaway PostgreSQL servers for tests.

Nothing outside this package imports it at run time except the CLI's demo (which uses
:mod:`~catalogql.testing.synthetic`, free of Hypothesis): ``import catalogql`` and a search
never load it.
"""
