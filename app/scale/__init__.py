"""Work beyond one database: exports that a national platform or a Dask cluster reads, and the
audit run in partitions on a dask.distributed cluster (docs/scale.md)."""
