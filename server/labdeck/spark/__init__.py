"""Spark clusters (standalone master + workers from pip pyspark) and the Livy-compatible gateway."""
